// The model registry's access through its real adapter and a real local identity: every method
// refused to a role without its permission and allowed to one with it, squads kept apart (reads,
// writes, moving a model), lists, the audit trail and watches kept to the squads the caller sees,
// every bad credential UNAUTHENTICATED (an upload's before it is read), a version claiming a
// trainer run registered only by the trainer (and audited with it), artifacts kept to the squads
// whose versions reference them, and promotion with real tokens.

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "catch2/catch.hpp"
#include "libs/auth/method_table.h"
#include "tests/services/access_refusals.h"
#include "tests/services/model_registry_test_server.h"
#include "tests/util/access_requests.h"

namespace fabrique::services {
namespace {

using registry_test::AdminContext;
using registry_test::As;
using registry_test::CreateModel;
using registry_test::Identity;
using registry_test::kAbc;
using registry_test::Server;

using Groups = std::vector<std::string>;
using testing::CheckDenied;
using testing::GatedPolicy;
using testing::VersionOf;

// Model "scoring" of squad risk, seeded for the access cases (tests/util/access_requests.h).
testing::PendingPromotions SetUpScoring(Server& s) { return testing::SeedScoring(*s.stub, As); }

using Case = testing::AccessCase<v1::ModelRegistry::Stub>;

// The registry's access cases by method.
std::map<std::string, Case> ByMethod(const std::vector<Case>& cases) {
  std::map<std::string, Case> by_method;
  for (const Case& c : cases) by_method.emplace(c.method, c);
  return by_method;
}

TEST_CASE(
    "registry: each method allowed to a role holding its permission, refused to one "
    "without") {
  Server s;
  testing::CheckAccessCases(*s.stub, testing::RegistryAccessCases(SetUpScoring(s)),
                            auth::ModelRegistryMethods(), As);
}

TEST_CASE("registry: every bad credential is UNAUTHENTICATED, forged headers change nothing") {
  Server s;
  const std::vector<Case> cases = testing::RegistryAccessCases(SetUpScoring(s));
  testing::CheckBadCredentials(*s.stub, cases, Identity());
  // A data scientist of retail claiming to be root through the old headers is still only that.
  for (const char* method : {"GetModel", "UpdateModel", "RegisterVersion", "SetPromotionPolicy",
                             "ApprovePromotion", "DeleteVersion", "CollectGarbage"}) {
    INFO(method << " with forged x-fabrique-* headers");
    CHECK(ByMethod(cases)
              .at(method)
              .call(*s.stub, testing::ForgedContext(Identity(), "eve", "retail").get())
              .error_code() == grpc::StatusCode::PERMISSION_DENIED);
  }
}

TEST_CASE("registry: another squad's models are neither read nor written, nor moved away") {
  Server s;
  SetUpScoring(s);
  const Groups retail = {"retail:data-scientist"};
  v1::GetModelRequest get;
  get.set_name("scoring");
  v1::Model model;
  CheckDenied(s.stub->GetModel(As("eve", retail).get(), get, &model), "models.read", "risk");
  v1::ModelVersion version;
  CheckDenied(s.stub->RegisterVersion(As("eve", retail).get(), VersionOf("scoring"), &version),
              "models.write", "risk");

  v1::UpdateModelRequest move;
  move.mutable_model()->set_name("scoring");
  move.mutable_model()->set_owner_squad("retail");
  move.mutable_update_mask()->add_paths("owner_squad");
  CheckDenied(s.stub->UpdateModel(As("dana", {"risk:data-scientist"}).get(), move, &model),
              "models.write", "retail");
  CheckDenied(s.stub->UpdateModel(As("eve", retail).get(), move, &model), "models.write", "risk");
  REQUIRE(s.stub
              ->UpdateModel(As("lou", {"risk:data-scientist", "retail:data-scientist"}).get(), move,
                            &model)
              .ok());
  CHECK(model.owner_squad() == "retail");
  // Now retail's: risk's data scientist lost it.
  CheckDenied(s.stub->GetModel(As("dana", {"risk:data-scientist"}).get(), get, &model),
              "models.read", "retail");
}

TEST_CASE("registry: lists, the audit trail and watches keep to the squads the caller sees") {
  Server s;
  SetUpScoring(s);
  CreateModel(s, "basket", "retail");
  const auto risk = [] { return As("dana", {"risk:data-scientist"}); };
  v1::ListModelsResponse models;
  REQUIRE(s.stub->ListModels(risk().get(), {}, &models).ok());
  REQUIRE(models.models_size() == 1);
  CHECK(models.models(0).name() == "scoring");
  REQUIRE(s.stub->ListModels(As("ada", {"risk:design-authority"}).get(), {}, &models).ok());
  CHECK(models.models_size() == 2);  // Design authorities read every squad's.
  v1::ListModelsRequest retail_models;
  retail_models.set_owner_squad("retail");
  CheckDenied(s.stub->ListModels(risk().get(), retail_models, &models), "models.read", "retail");

  v1::ListVersionsResponse versions;
  REQUIRE(s.stub->ListVersions(As("eve", {"retail:data-scientist"}).get(), {}, &versions).ok());
  CHECK(versions.versions_size() == 0);
  REQUIRE(s.stub->ListVersions(risk().get(), {}, &versions).ok());
  CHECK(versions.versions_size() == 3);
  v1::ListPromotionRequestsResponse requests;
  REQUIRE(s.stub->ListPromotionRequests(As("eve", {"retail:data-scientist"}).get(), {}, &requests)
              .ok());
  CHECK(requests.requests_size() == 0);
  v1::ListPromotionRequestsRequest scoring_requests;
  scoring_requests.set_model("scoring");
  CheckDenied(s.stub->ListPromotionRequests(As("eve", {"retail:data-scientist"}).get(),
                                            scoring_requests, &requests),
              "models.read", "risk");

  v1::ListAuditEntriesResponse audit;
  REQUIRE(s.stub->ListAuditEntries(As("sam", {"retail:data-steward"}).get(), {}, &audit).ok());
  REQUIRE(audit.entries_size() == 1);  // basket's creation only.
  CHECK(audit.entries(0).target() == "models/basket");

  // A watcher of risk sees risk's changes, not retail's.
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  context.AddMetadata("authorization",
                      absl::StrCat("Bearer ", Identity().Token("dana", {"risk:data-scientist"})));
  auto reader = s.stub->Watch(&context, v1::WatchRequest());
  v1::WatchEvent event;
  REQUIRE(reader->Read(&event));  // A bookmark: the watch is following.
  CreateModel(s, "shelf", "retail");
  CreateModel(s, "limits", "risk");
  do {
    REQUIRE(reader->Read(&event));
  } while (event.type() == v1::WATCH_EVENT_TYPE_BOOKMARK);
  CHECK(event.model() == "limits");
  context.TryCancel();
}

TEST_CASE(
    "registry: a version claiming a trainer run is registered by the trainer alone, and "
    "its audit entry names the trainer") {
  Server s(/*tls=*/true);
  CreateModel(s, "scoring");
  REQUIRE(testing::UploadAbc(*s.stub, AdminContext().get()).ok());
  v1::ModelVersion version;
  CheckDenied(s.stub->RegisterVersion(As("dana", {"risk:data-scientist"}).get(),
                                      VersionOf("scoring", "run-7"), &version),
              "models.register_for_run", "risk");
  REQUIRE(s.stub
              ->RegisterVersion(As("dana", {"risk:data-scientist"}).get(), VersionOf("scoring"),
                                &version)
              .ok());

  // The trainer, with its certificate, acting for dana.
  auto trainer = s.ServiceStub("trainer");
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  context.AddMetadata("fabrique-on-behalf-of-user", "dana");
  context.AddMetadata("fabrique-on-behalf-of-groups", "risk:data-scientist");
  const grpc::Status registered =
      trainer->RegisterVersion(&context, VersionOf("scoring", "run-7"), &version);
  INFO(registered.error_message());
  REQUIRE(registered.ok());
  CHECK(version.registered_by().subject() == "dana");
  CHECK(version.registered_by().service() == "trainer");
  // A user holding models.register_for_run through a binding (the admin holds every permission
  // everywhere) does not vouch for a run either: only a service's certificate does.
  const grpc::Status by_admin =
      s.stub->RegisterVersion(AdminContext().get(), VersionOf("scoring", "run-9"), &version);
  CheckDenied(by_admin, "models.register_for_run", "risk");
  CHECK(
      absl::StrContains(by_admin.error_message(), "only the trainer registers versions for runs"));
  // The trainer alone, with its certificate.
  grpc::ClientContext alone;
  alone.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  REQUIRE(trainer->RegisterVersion(&alone, VersionOf("scoring", "run-10"), &version).ok());
  CHECK(version.registered_by().subject() == "service:trainer");
  // Another service may not vouch for a run.
  auto tower = s.ServiceStub("tower");
  grpc::ClientContext tower_context;
  tower_context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  CheckDenied(tower->RegisterVersion(&tower_context, VersionOf("scoring", "run-8"), &version),
              "models.write", "risk");

  v1::ListAuditEntriesRequest list;
  list.set_model("scoring");
  v1::ListAuditEntriesResponse audit;
  REQUIRE(s.stub->ListAuditEntries(AdminContext().get(), list, &audit).ok());
  REQUIRE(audit.entries_size() == 4);  // Created, then three versions.
  CHECK(audit.entries(2).actor().subject() == "dana");
  CHECK(audit.entries(2).actor().service() == "trainer");
  v1::VerifyAuditChainResponse verified;
  REQUIRE(s.stub->VerifyAuditChain(AdminContext().get(), {}, &verified).ok());
  CHECK(verified.valid());
}

// Model "scoring" of squad risk, with version 1 (artifact kAbc) registered by dana.
void ScoringVersionOne(Server& s) {
  CreateModel(s, "scoring");
  REQUIRE(testing::UploadAbc(*s.stub, AdminContext().get()).ok());
  v1::ModelVersion version;
  REQUIRE(s.stub
              ->RegisterVersion(As("dana", {"risk:data-scientist"}).get(), VersionOf("scoring"),
                                &version)
              .ok());
}

grpc::Status DownloadAs(Server& s, std::unique_ptr<grpc::ClientContext> context,
                        const std::string& sha256, std::string* bytes) {
  v1::DownloadArtifactRequest request;
  request.set_sha256(sha256);
  auto reader = s.stub->DownloadArtifact(context.get(), request);
  v1::DownloadArtifactResponse part;
  while (reader->Read(&part)) *bytes += part.chunk();
  return reader->Finish();
}

// An upload of kAbc that sends its header only: answered only if the registry says it holds it.
grpc::Status HeaderOnly(Server& s, std::unique_ptr<grpc::ClientContext> context,
                        v1::Artifact* out) {
  auto writer = s.stub->UploadArtifact(context.get(), out);
  v1::UploadArtifactRequest header;
  header.mutable_header()->set_sha256(kAbc);
  writer->Write(header);
  writer->WritesDone();
  return writer->Finish();
}

TEST_CASE("registry: another squad's artifact is neither downloaded nor probed by its digest") {
  Server s;
  ScoringVersionOne(s);
  CreateModel(s, "basket", "retail");
  const Groups retail = {"retail:data-scientist"};
  std::string bytes;
  const grpc::Status held = DownloadAs(s, As("eve", retail), kAbc, &bytes);
  const std::string unknown_sha(64, 'e');
  const grpc::Status unknown = DownloadAs(s, As("eve", retail), unknown_sha, &bytes);
  CHECK(bytes.empty());
  // Refused as if it did not exist: the answer for one held is the one for one nobody holds.
  CHECK(held.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(unknown.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(absl::StrReplaceAll(held.error_message(), {{kAbc, unknown_sha}}) ==
        unknown.error_message());
  CHECK(absl::StrContains(held.error_message(), "models.read"));
  REQUIRE(DownloadAs(s, As("dana", {"risk:data-scientist"}), kAbc, &bytes).ok());
  CHECK(bytes == "abc");
  bytes.clear();
  REQUIRE(DownloadAs(s, As("sol", {"retail:sre"}), kAbc, &bytes).ok());  // Reads every squad.
  CHECK(bytes == "abc");

  // "Already held" is said to those who may read it; others must send the content.
  v1::Artifact artifact;
  REQUIRE(HeaderOnly(s, As("dana", {"risk:data-scientist"}), &artifact).ok());
  CHECK(artifact.size_bytes() == 3);
  artifact.Clear();
  const grpc::Status probed = HeaderOnly(s, As("eve", retail), &artifact);
  INFO(probed.error_message());
  CHECK(probed.error_code() == grpc::StatusCode::DATA_LOSS);
  CHECK(artifact.size_bytes() == 0);
  // With the content sent, the upload is hers to make.
  REQUIRE(testing::UploadAbc(*s.stub, As("eve", retail).get()).ok());
}

TEST_CASE("registry: an upload without credentials is refused before its first message") {
  Server s;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::Artifact out;
  // Nothing is sent and the stream stays open: only a refusal that reads nothing ends it.
  auto writer = s.stub->UploadArtifact(&context, &out);
  const grpc::Status status = writer->Finish();
  INFO(status.error_message());
  CHECK(status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
}

TEST_CASE("registry: promotion with real tokens; approvals judged on the verified caller") {
  Server s;
  ScoringVersionOne(s);
  v1::SetPromotionPolicyRequest policy = GatedPolicy("scoring", "production");
  v1::PromotionPolicy stored;
  CheckDenied(
      s.stub->SetPromotionPolicy(As("dana", {"risk:data-scientist"}).get(), policy, &stored),
      "models.policy.write", "risk");
  REQUIRE(
      s.stub->SetPromotionPolicy(As("lea", {"risk:design-authority"}).get(), policy, &stored).ok());
  CHECK(stored.updated_by().subject() == "lea");

  v1::RequestPromotionRequest ask;
  ask.set_model("scoring");
  ask.set_alias("production");
  ask.set_version(1);
  v1::PromotionRequest request;
  REQUIRE(s.stub->RequestPromotion(As("dana", {"risk:data-scientist"}).get(), ask, &request).ok());
  REQUIRE(request.state() == v1::PROMOTION_STATE_PENDING);
  CHECK(request.requested_by().subject() == "dana");

  v1::ApprovePromotionRequest approve;
  approve.set_id(request.id());
  // The requester, even holding the approving role too, may not approve her own request.
  const grpc::Status self = s.stub->ApprovePromotion(
      As("dana", {"risk:data-scientist", "risk:design-authority"}).get(), approve, &request);
  INFO(self.error_message());
  CHECK(self.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(absl::StrContains(self.error_message(), "self-approval"));
  // A design authority of another squad holds no approving role in risk.
  CheckDenied(
      s.stub->ApprovePromotion(As("rex", {"retail:design-authority"}).get(), approve, &request),
      "models.approve", "risk");
  REQUIRE(
      s.stub->ApprovePromotion(As("ada", {"risk:design-authority"}).get(), approve, &request).ok());
  CHECK(request.state() == v1::PROMOTION_STATE_COMPLETED);
  v1::GetAliasRequest get;
  get.set_model("scoring");
  get.set_alias("production");
  v1::Alias alias;
  REQUIRE(s.stub->GetAlias(As("dana", {"risk:data-scientist"}).get(), get, &alias).ok());
  CHECK(alias.version() == 1);
}

}  // namespace
}  // namespace fabrique::services
