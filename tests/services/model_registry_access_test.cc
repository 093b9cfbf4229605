// The model registry's access through its real adapter and a real local identity: every method
// refused to a role without its permission and allowed to one with it, squads kept apart (reads,
// writes, moving a model), lists, the audit trail and watches kept to the squads the caller sees,
// every bad credential UNAUTHENTICATED (an upload's before it is read), a version claiming a
// trainer run registered only by the trainer (and audited with it), artifacts kept to the squads
// whose versions reference them, and promotion with real tokens.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "catch2/catch.hpp"
#include "libs/auth/method_table.h"
#include "tests/services/access_refusals.h"
#include "tests/services/model_registry_test_server.h"

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

grpc::Status Upload(v1::ModelRegistry::Stub& stub, grpc::ClientContext* context) {
  v1::Artifact out;
  auto writer = stub.UploadArtifact(context, &out);
  v1::UploadArtifactRequest header;
  header.mutable_header()->set_sha256(kAbc);
  writer->Write(header);
  v1::UploadArtifactRequest chunk;
  chunk.set_chunk("abc");
  writer->Write(chunk);
  writer->WritesDone();
  return writer->Finish();
}

v1::RegisterVersionRequest VersionOf(const std::string& model, const std::string& run = "") {
  v1::RegisterVersionRequest request;
  request.mutable_version()->set_model(model);
  request.mutable_version()->add_artifacts()->mutable_artifact()->set_sha256(kAbc);
  request.mutable_version()->mutable_lineage()->set_trainer_run_id(run);
  return request;
}

v1::SetPromotionPolicyRequest GatedPolicy(const std::string& model, const std::string& alias) {
  v1::SetPromotionPolicyRequest request;
  request.mutable_policy()->set_model(model);
  request.mutable_policy()->set_alias(alias);
  v1::ApprovalGate* gate = request.mutable_policy()->add_approval_gates();
  gate->set_role("design-authority");
  gate->set_required_approvals(1);
  return request;
}

// Model "scoring" of squad risk: versions 1 to 3 (1 in production and old), production and
// canary gated by a design authority's approval, a pending request for each.
struct Scoring {
  std::string production_request;
  std::string canary_request;
};
Scoring SetUpScoring(Server& s) {
  CreateModel(s, "scoring");
  REQUIRE(Upload(*s.stub, AdminContext().get()).ok());
  v1::ModelVersion version;
  for (int i = 0; i < 3; ++i) {
    REQUIRE(s.stub->RegisterVersion(AdminContext().get(), VersionOf("scoring"), &version).ok());
  }
  v1::Alias alias;
  for (const char* name : {"production", "old"}) {
    v1::SetAliasRequest set;
    set.set_model("scoring");
    set.set_alias(name);
    set.set_version(1);
    REQUIRE(s.stub->SetAlias(AdminContext().get(), set, &alias).ok());
  }
  Scoring scoring;
  for (const char* name : {"production", "canary"}) {
    v1::PromotionPolicy policy;
    REQUIRE(s.stub->SetPromotionPolicy(AdminContext().get(), GatedPolicy("scoring", name), &policy)
                .ok());
    v1::RequestPromotionRequest ask;
    ask.set_model("scoring");
    ask.set_alias(name);
    ask.set_version(3);
    v1::PromotionRequest pending;
    REQUIRE(
        s.stub->RequestPromotion(As("dana", {"risk:data-scientist"}).get(), ask, &pending).ok());
    REQUIRE(pending.state() == v1::PROMOTION_STATE_PENDING);
    (std::string(name) == "production" ? scoring.production_request : scoring.canary_request) =
        pending.id();
  }
  // A standard for an entity none of these models scores: there to be read and deleted.
  v1::SetStandardRequest standard;
  standard.mutable_standard()->set_name("card");
  standard.mutable_standard()->set_entity("nobody");
  standard.mutable_standard()->add_required_artifacts(v1::ARTIFACT_KIND_MODEL_CARD);
  v1::Standard set;
  REQUIRE(s.stub->SetStandard(AdminContext().get(), standard, &set).ok());
  return scoring;
}

using Call = std::function<grpc::Status(Server&, grpc::ClientContext*)>;

// A unary call of `Method` with `request`, its response dropped.
template <typename Response, typename Request, typename Method>
Call Unary(Method method, Request request) {
  return [method, request](Server& s, grpc::ClientContext* c) {
    Response out;
    return ((*s.stub).*method)(c, request, &out);
  };
}

// Per method: the call on scoring's records, who may make it and who may not. A row is
// {user, groups}; the refused one is tried first, so the allowed one finds the state unchanged.
struct Row {
  Call call;
  Groups may;
  Groups may_not;
  std::string may_user = "mia";
};

std::map<std::string, Row> Matrix(const Scoring& scoring) {
  using S = v1::ModelRegistry::Stub;
  v1::GetModelRequest get_model;
  get_model.set_name("scoring");
  v1::UpdateModelRequest update;
  update.mutable_model()->set_name("scoring");
  update.mutable_model()->set_description("scores");
  update.mutable_update_mask()->add_paths("description");
  v1::GetVersionRequest get_version;
  get_version.mutable_ref()->set_model("scoring");
  get_version.mutable_ref()->set_version(1);
  v1::ArchiveVersionRequest archive;
  archive.mutable_version()->set_model("scoring");
  archive.mutable_version()->set_version(2);
  v1::DeleteVersionRequest remove;
  *remove.mutable_version() = archive.version();
  v1::SetAliasRequest set_alias;
  set_alias.set_model("scoring");
  set_alias.set_alias("staging");
  set_alias.set_version(1);
  v1::GetAliasRequest get_alias;
  get_alias.set_model("scoring");
  get_alias.set_alias("production");
  v1::ListAliasesRequest list_aliases;
  list_aliases.set_model("scoring");
  v1::DeleteAliasRequest delete_alias;
  delete_alias.set_model("scoring");
  delete_alias.set_alias("old");
  v1::GetPromotionPolicyRequest get_policy;
  get_policy.set_model("scoring");
  get_policy.set_alias("production");
  v1::ListPromotionPoliciesRequest list_policies;
  list_policies.set_model("scoring");
  v1::RequestPromotionRequest ask;
  ask.set_model("scoring");
  ask.set_alias("production");
  ask.set_version(3);
  ask.set_dry_run(true);
  v1::GetPromotionRequestRequest get_request;
  get_request.set_id(scoring.production_request);
  v1::ApprovePromotionRequest approve;
  approve.set_id(scoring.production_request);
  v1::RejectPromotionRequest reject;
  reject.set_id(scoring.canary_request);
  v1::SetTrafficPolicyRequest traffic;
  traffic.mutable_policy()->set_model("scoring");
  v1::GetTrafficPolicyRequest get_traffic;
  get_traffic.set_model("scoring");
  v1::ListAuditEntriesRequest audit;
  audit.set_model("scoring");
  v1::CollectGarbageRequest collect;
  collect.set_dry_run(true);
  v1::DownloadArtifactRequest download;
  download.set_sha256(kAbc);
  v1::AppendEvaluationRequest evaluate;
  evaluate.mutable_version()->set_model("scoring");
  evaluate.mutable_version()->set_version(1);
  evaluate.mutable_evaluation()->set_kind("capacity");
  v1::SetStandardRequest set_standard;
  set_standard.mutable_standard()->set_name("lift");
  set_standard.mutable_standard()->set_entity("nobody");
  set_standard.mutable_standard()->add_required_evaluations("capacity");
  v1::GetStandardRequest get_standard;
  get_standard.set_name("card");
  v1::DeleteStandardRequest delete_standard;
  delete_standard.set_name("card");
  const Groups none;
  return {
      {"CreateModel",
       {[](Server& s, grpc::ClientContext* c) {
          static int n = 0;
          v1::CreateModelRequest request;
          request.mutable_model()->set_name(absl::StrCat("model_", ++n));
          request.mutable_model()->set_owner_squad("risk");
          v1::Model out;
          return s.stub->CreateModel(c, request, &out);
        },
        {"risk:data-scientist"},
        {"risk:product-owner"}}},
      {"GetModel",
       {Unary<v1::Model>(&S::GetModel, get_model),
        {"risk:product-owner"},
        {"retail:data-scientist"}}},
      {"UpdateModel",
       {Unary<v1::Model>(&S::UpdateModel, update),
        {"risk:data-scientist"},
        {"retail:data-scientist"}}},
      {"ListModels",
       {Unary<v1::ListModelsResponse>(&S::ListModels, v1::ListModelsRequest()),
        {"retail:data-scientist"},
        none}},
      {"RegisterVersion",
       {Unary<v1::ModelVersion>(&S::RegisterVersion, VersionOf("scoring")),
        {"risk:data-scientist"},
        {"risk:product-owner"}}},
      {"GetVersion",
       {Unary<v1::ModelVersion>(&S::GetVersion, get_version),
        {"risk:product-owner"},
        {"retail:data-scientist"}}},
      {"ListVersions",
       {Unary<v1::ListVersionsResponse>(&S::ListVersions, v1::ListVersionsRequest()),
        {"risk:data-scientist"},
        none}},
      {"ArchiveVersion",
       {Unary<v1::ModelVersion>(&S::ArchiveVersion, archive),
        {"risk:data-scientist"},
        {"retail:data-scientist"}}},
      {"DeleteVersion",
       {Unary<google::protobuf::Empty>(&S::DeleteVersion, remove),
        {"risk:platform-admin"},
        {"risk:data-scientist"}}},
      {"UploadArtifact",
       {[](Server& s, grpc::ClientContext* c) { return Upload(*s.stub, c); },
        {"retail:data-scientist"},
        {"risk:product-owner"}}},
      {"DownloadArtifact",
       {[download](Server& s, grpc::ClientContext* c) {
          auto reader = s.stub->DownloadArtifact(c, download);
          v1::DownloadArtifactResponse part;
          while (reader->Read(&part)) {
          }
          return reader->Finish();
        },
        {"risk:product-owner"},
        none}},
      {"CollectGarbage",
       {Unary<v1::CollectGarbageResponse>(&S::CollectGarbage, collect),
        {},
        {"risk:platform-admin"},
        "root"}},
      {"SetAlias",
       {Unary<v1::Alias>(&S::SetAlias, set_alias),
        {"risk:data-scientist"},
        {"risk:product-owner"}}},
      {"GetAlias",
       {Unary<v1::Alias>(&S::GetAlias, get_alias),
        {"risk:product-owner"},
        {"retail:data-scientist"}}},
      {"ListAliases",
       {Unary<v1::ListAliasesResponse>(&S::ListAliases, list_aliases),
        {"risk:product-owner"},
        {"retail:data-scientist"}}},
      {"DeleteAlias",
       {Unary<google::protobuf::Empty>(&S::DeleteAlias, delete_alias),
        {"risk:data-scientist"},
        {"retail:data-scientist"}}},
      {"SetPromotionPolicy",
       {Unary<v1::PromotionPolicy>(&S::SetPromotionPolicy, GatedPolicy("scoring", "qa")),
        {"risk:design-authority"},
        {"risk:data-scientist"}}},
      {"GetPromotionPolicy",
       {Unary<v1::PromotionPolicy>(&S::GetPromotionPolicy, get_policy),
        {"risk:product-owner"},
        {"retail:data-scientist"}}},
      {"ListPromotionPolicies",
       {Unary<v1::ListPromotionPoliciesResponse>(&S::ListPromotionPolicies, list_policies),
        {"risk:data-scientist"},
        {"retail:data-scientist"}}},
      {"RequestPromotion",
       {Unary<v1::PromotionRequest>(&S::RequestPromotion, ask),
        {"risk:data-scientist"},
        {"risk:product-owner"}}},
      {"GetPromotionRequest",
       {Unary<v1::PromotionRequest>(&S::GetPromotionRequest, get_request),
        {"risk:product-owner"},
        {"retail:data-scientist"}}},
      {"ListPromotionRequests",
       {Unary<v1::ListPromotionRequestsResponse>(&S::ListPromotionRequests,
                                                 v1::ListPromotionRequestsRequest()),
        {"retail:data-scientist"},
        none}},
      {"ApprovePromotion",
       {Unary<v1::PromotionRequest>(&S::ApprovePromotion, approve),
        {"risk:design-authority"},
        {"risk:data-scientist"}}},
      {"RejectPromotion",
       {Unary<v1::PromotionRequest>(&S::RejectPromotion, reject),
        {"risk:design-authority"},
        {"retail:design-authority"}}},
      {"SetTrafficPolicy",
       {Unary<v1::TrafficPolicy>(&S::SetTrafficPolicy, traffic),
        {"risk:data-scientist"},
        {"risk:product-owner"}}},
      {"GetTrafficPolicy",
       {Unary<v1::TrafficPolicy>(&S::GetTrafficPolicy, get_traffic),
        {"risk:product-owner"},
        {"retail:data-scientist"}}},
      {"AppendEvaluation",
       {Unary<v1::ModelVersion>(&S::AppendEvaluation, evaluate),
        {"risk:data-scientist"},
        {"risk:product-owner"}}},
      // Standards span squads: a design authority of one squad may not change them.
      {"SetStandard",
       {Unary<v1::Standard>(&S::SetStandard, set_standard), {}, {"risk:design-authority"}, "root"}},
      {"GetStandard",
       {Unary<v1::Standard>(&S::GetStandard, get_standard), {"retail:data-scientist"}, none}},
      {"ListStandards",
       {Unary<v1::ListStandardsResponse>(&S::ListStandards, v1::ListStandardsRequest()),
        {"retail:data-scientist"},
        none}},
      {"DeleteStandard",
       {Unary<google::protobuf::Empty>(&S::DeleteStandard, delete_standard),
        {},
        {"risk:design-authority"},
        "root"}},
      {"ListAuditEntries",
       {Unary<v1::ListAuditEntriesResponse>(&S::ListAuditEntries, audit),
        {"risk:data-steward"},
        {"risk:data-scientist"}}},
      {"VerifyAuditChain",
       {Unary<v1::VerifyAuditChainResponse>(&S::VerifyAuditChain, v1::VerifyAuditChainRequest()),
        {"risk:sre"},
        {"risk:data-steward"}}},
      {"Watch",
       {[](Server& s, grpc::ClientContext* c) {
          v1::WatchRequest request;
          request.set_include_snapshot(true);
          auto reader = s.stub->Watch(c, request);
          v1::WatchEvent event;
          if (reader->Read(&event)) {
            c->TryCancel();
            return grpc::Status::OK;
          }
          return reader->Finish();
        },
        {"retail:data-scientist"},
        none}},
  };
}

// The methods in the order the matrix runs them: reads before the writes that change what they
// read (archiving before deleting, approving and rejecting last).
const std::vector<std::string>& Order() {
  static const auto* const order = new std::vector<std::string>{"GetModel",
                                                                "ListModels",
                                                                "GetVersion",
                                                                "ListVersions",
                                                                "UploadArtifact",
                                                                "DownloadArtifact",
                                                                "CollectGarbage",
                                                                "GetAlias",
                                                                "ListAliases",
                                                                "GetPromotionPolicy",
                                                                "ListPromotionPolicies",
                                                                "GetPromotionRequest",
                                                                "ListPromotionRequests",
                                                                "GetTrafficPolicy",
                                                                "GetStandard",
                                                                "ListStandards",
                                                                "ListAuditEntries",
                                                                "VerifyAuditChain",
                                                                "Watch",
                                                                "CreateModel",
                                                                "UpdateModel",
                                                                "RegisterVersion",
                                                                "SetAlias",
                                                                "DeleteAlias",
                                                                "SetTrafficPolicy",
                                                                "AppendEvaluation",
                                                                "SetStandard",
                                                                "DeleteStandard",
                                                                "RequestPromotion",
                                                                "SetPromotionPolicy",
                                                                "ArchiveVersion",
                                                                "DeleteVersion",
                                                                "ApprovePromotion",
                                                                "RejectPromotion"};
  return *order;
}

TEST_CASE(
    "registry: each method allowed to a role holding its permission, refused to one "
    "without") {
  Server s;
  const std::map<std::string, Row> matrix = Matrix(SetUpScoring(s));
  REQUIRE(Order().size() == matrix.size());
  for (const auto& [name, rule] : auth::ModelRegistryMethods()) {
    INFO(name << " has a row in the matrix");
    CHECK(matrix.count(name) == 1);
  }
  for (const std::string& method : Order()) {
    const Row& row = matrix.at(method);
    {
      INFO(method << " as " << absl::StrJoin(row.may_not, ",") << " (refused)");
      const grpc::Status refused = row.call(s, As("nils", row.may_not).get());
      INFO(refused.error_message());
      CHECK(refused.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    }
    INFO(method << " as " << row.may_user << " " << absl::StrJoin(row.may, ","));
    const grpc::Status allowed = row.call(s, As(row.may_user, row.may).get());
    INFO(allowed.error_message());
    CHECK(allowed.ok());
  }
}

TEST_CASE("registry: every bad credential is UNAUTHENTICATED, forged headers change nothing") {
  Server s;
  const std::map<std::string, Row> matrix = Matrix(SetUpScoring(s));
  for (const testing::BadCredential& bad : testing::BadCredentials(Identity())) {
    for (const auto& [method, row] : matrix) {
      INFO(method << " with " << bad.name);
      const grpc::Status status = row.call(s, testing::ContextWith(bad).get());
      INFO(status.error_message());
      CHECK(status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
    }
  }
  // A data scientist of retail claiming to be root through the old headers is still only that.
  for (const char* method : {"GetModel", "UpdateModel", "RegisterVersion", "SetPromotionPolicy",
                             "ApprovePromotion", "DeleteVersion", "CollectGarbage"}) {
    INFO(method << " with forged x-fabrique-* headers");
    CHECK(matrix.at(method)
              .call(s, testing::ForgedContext(Identity(), "eve", "retail").get())
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
  REQUIRE(Upload(*s.stub, AdminContext().get()).ok());
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
  REQUIRE(Upload(*s.stub, AdminContext().get()).ok());
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
  REQUIRE(Upload(*s.stub, As("eve", retail).get()).ok());
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
