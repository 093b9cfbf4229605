// The model registry through its real gRPC adapter, in-process on a loopback port: artifacts
// uploaded (verified, deduplicated) and downloaded (resumed at an offset), versions that need
// their artifacts, aliases by name and by GetVersion, the audit trail listed and verified, and a
// watch that a client kills and resumes without gap or duplicate.

#include "services/registry/model_registry_service.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "libs/client/channel.h"
#include "libs/client/health_client.h"
#include "libs/server/service_host.h"
#include "tests/services/model_registry_test_server.h"
#include "tests/util/test_util.h"

namespace fabrique::services {
namespace {

using registry_test::AdminContext;
using registry_test::As;
using registry_test::Context;
using registry_test::kAbc;
using registry_test::Server;
using registry_test::SignIn;

grpc::Status Upload(Server& s, const std::string& bytes, const std::string& sha256,
                    v1::Artifact* out, int64_t size = 0) {
  auto context = Context();
  auto writer = s.stub->UploadArtifact(context.get(), out);
  v1::UploadArtifactRequest header;
  header.mutable_header()->set_sha256(sha256);
  header.mutable_header()->set_size_bytes(size);
  writer->Write(header);
  for (size_t i = 0; i < bytes.size(); i += 2) {
    v1::UploadArtifactRequest chunk;
    chunk.set_chunk(bytes.substr(i, 2));
    if (!writer->Write(chunk)) break;
  }
  writer->WritesDone();
  return writer->Finish();
}

// Downloads as dana, or as the caller of `context`.
std::string Download(Server& s, const std::string& sha256, int64_t offset = 0,
                     std::unique_ptr<grpc::ClientContext> context = Context()) {
  v1::DownloadArtifactRequest request;
  request.set_sha256(sha256);
  request.set_offset(offset);
  request.set_chunk_size(2);
  auto reader = s.stub->DownloadArtifact(context.get(), request);
  std::string bytes;
  v1::DownloadArtifactResponse part;
  while (reader->Read(&part)) bytes += part.chunk();
  REQUIRE(reader->Finish().ok());
  return bytes;
}

void CreateFraud(Server& s) {
  v1::CreateModelRequest request;
  request.mutable_model()->set_name("fraud");
  request.mutable_model()->set_owner_squad("risk");
  v1::Model model;
  REQUIRE(s.stub->CreateModel(Context().get(), request, &model).ok());
}

grpc::Status Register(Server& s, const std::string& sha256, v1::ModelVersion* out) {
  v1::RegisterVersionRequest request;
  request.mutable_version()->set_model("fraud");
  v1::VersionArtifact* artifact = request.mutable_version()->add_artifacts();
  artifact->set_name("model.pt");
  artifact->mutable_artifact()->set_sha256(sha256);
  return s.stub->RegisterVersion(Context().get(), request, out);
}

TEST_CASE("artifacts: verified on upload, stored once, downloaded from any offset") {
  Server s;
  v1::Artifact artifact;
  REQUIRE(Upload(s, "abc", kAbc, &artifact).ok());
  CHECK(artifact.sha256() == kAbc);
  CHECK(artifact.size_bytes() == 3);
  // Read back by dana once a version of her squad references it.
  CreateFraud(s);
  v1::ModelVersion version;
  REQUIRE(Register(s, kAbc, &version).ok());
  CHECK(Download(s, kAbc) == "abc");
  CHECK(Download(s, kAbc, 1) == "bc");
  REQUIRE(Upload(s, "abc", kAbc, &artifact).ok());  // Already held: answered after the header.

  const grpc::Status wrong = Upload(s, "abd", std::string(64, '0'), &artifact);
  CHECK(wrong.error_code() == grpc::StatusCode::DATA_LOSS);
  CHECK(absl::StrContains(wrong.error_message(), "nothing was stored"));
  const grpc::Status short_upload = Upload(s, "xyz", "", &artifact, 5);
  CHECK(short_upload.error_code() == grpc::StatusCode::DATA_LOSS);

  v1::DownloadArtifactRequest missing;
  missing.set_sha256(std::string(64, 'e'));
  auto context = Context();
  auto reader = s.stub->DownloadArtifact(context.get(), missing);
  v1::DownloadArtifactResponse part;
  while (reader->Read(&part)) {
  }
  CHECK(reader->Finish().error_code() == grpc::StatusCode::NOT_FOUND);

  const std::string metrics = *testing::HttpGet("127.0.0.1", s.host->metrics_port(), "/metrics");
  CHECK(absl::StrContains(metrics, "fabrique_registry_artifact_bytes_total{outcome=\"stored\"} 3"));
  CHECK(absl::StrContains(metrics,
                          "fabrique_registry_artifact_bytes_total{outcome=\"deduplicated\"} 3"));
  // Two downloads (3 bytes, then 2 from offset 1) and one stored upload.
  CHECK(absl::StrContains(metrics,
                          "fabrique_registry_transfer_bytes_total{direction=\"download\"} 5"));
  CHECK(
      absl::StrContains(metrics, "fabrique_registry_transfer_bytes_total{direction=\"upload\"} 3"));
  CHECK(
      absl::StrContains(metrics, "fabrique_registry_transfer_seconds_total{direction=\"upload\"}"));

  v1::DownloadArtifactRequest huge;
  huge.set_sha256(kAbc);
  huge.set_chunk_size(4 << 20);  // A message that size would pass gRPC's default client limit.
  auto huge_context = Context();
  auto huge_reader = s.stub->DownloadArtifact(huge_context.get(), huge);
  while (huge_reader->Read(&part)) {
  }
  CHECK(huge_reader->Finish().error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("versions need their artifacts; aliases resolve through GetVersion") {
  Server s;
  CreateFraud(s);
  v1::ModelVersion version;
  const grpc::Status refused = Register(s, kAbc, &version);
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(refused.error_message(), "never uploaded"));
  v1::Artifact artifact;
  REQUIRE(Upload(s, "abc", kAbc, &artifact).ok());
  REQUIRE(Register(s, kAbc, &version).ok());
  CHECK(version.version() == 1);
  CHECK(version.registered_by().subject() == "dana");
  REQUIRE(Register(s, kAbc, &version).ok());

  v1::SetAliasRequest set;
  set.set_model("fraud");
  set.set_alias("production");
  set.set_version(1);
  v1::Alias alias;
  REQUIRE(s.stub->SetAlias(Context().get(), set, &alias).ok());
  v1::GetVersionRequest get;
  get.mutable_ref()->set_model("fraud");
  get.mutable_ref()->set_alias("production");
  REQUIRE(s.stub->GetVersion(Context().get(), get, &version).ok());
  CHECK(version.version() == 1);
  get.mutable_ref()->clear_alias();  // Neither number nor alias: the latest.
  REQUIRE(s.stub->GetVersion(Context().get(), get, &version).ok());
  CHECK(version.version() == 2);

  v1::ArchiveVersionRequest archive;
  archive.mutable_version()->set_model("fraud");
  archive.mutable_version()->set_version(1);
  REQUIRE(s.stub->ArchiveVersion(Context().get(), archive, &version).ok());
  CHECK(s.stub->SetAlias(Context().get(), set, &alias).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  v1::DeleteVersionRequest remove;
  remove.mutable_version()->set_model("fraud");
  remove.mutable_version()->set_version(2);
  google::protobuf::Empty empty;
  CHECK(s.stub->DeleteVersion(AdminContext().get(), remove, &empty).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);  // Active.
  remove.mutable_version()->set_version(1);      // Archived above.
  CHECK(s.stub->DeleteVersion(AdminContext().get(), remove, &empty).ok());

  v1::UpdateModelRequest update;
  update.mutable_model()->set_name("fraud");
  update.mutable_model()->set_description("card fraud");
  update.mutable_update_mask()->add_paths("description");
  v1::Model model;
  REQUIRE(s.stub->UpdateModel(Context().get(), update, &model).ok());
  CHECK(model.description() == "card fraud");
  update.mutable_update_mask()->add_paths("create_time");
  CHECK(s.stub->UpdateModel(Context().get(), update, &model).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);

  v1::GetModelRequest unknown;
  unknown.set_name("churn");
  const grpc::Status missing = s.stub->GetModel(Context().get(), unknown, &model);
  CHECK(missing.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(absl::StrContains(missing.error_message(), "churn"));
}

TEST_CASE("the audit trail lists page by page and verifies") {
  Server s;
  CreateFraud(s);
  v1::Artifact artifact;
  REQUIRE(Upload(s, "abc", kAbc, &artifact).ok());
  v1::ModelVersion version;
  for (int i = 0; i < 3; ++i) REQUIRE(Register(s, kAbc, &version).ok());
  v1::ListAuditEntriesRequest list;
  list.set_model("fraud");
  list.set_page_size(3);
  v1::ListAuditEntriesResponse page;
  REQUIRE(s.stub->ListAuditEntries(As("sam", {"risk:data-steward"}).get(), list, &page).ok());
  REQUIRE(page.entries_size() == 3);
  CHECK(page.entries(0).action() == "model.create");
  CHECK(page.entries(0).actor().subject() == "dana");
  REQUIRE(!page.next_page_token().empty());
  list.set_page_token(page.next_page_token());
  REQUIRE(s.stub->ListAuditEntries(As("sam", {"risk:data-steward"}).get(), list, &page).ok());
  REQUIRE(page.entries_size() == 1);
  CHECK(page.entries(0).sequence() == 4);
  CHECK(page.next_page_token().empty());

  v1::VerifyAuditChainResponse verified;
  REQUIRE(s.stub->VerifyAuditChain(As("ada", {"risk:design-authority"}).get(), {}, &verified).ok());
  CHECK(verified.valid());
  CHECK(verified.entries_checked() == 4);
  CHECK(verified.head_hash() == page.entries(0).hash());
}

TEST_CASE("a watch killed mid-stream resumes after its last revision, no gap, no duplicate") {
  Server s;
  CreateFraud(s);
  v1::Artifact artifact;
  REQUIRE(Upload(s, "abc", kAbc, &artifact).ok());
  v1::ModelVersion version;
  REQUIRE(Register(s, kAbc, &version).ok());  // Revisions 1 and 2.

  // A watcher reads the next change, then its connection is killed.
  std::vector<int64_t> seen;
  {
    v1::WatchRequest request;
    request.set_after_revision(2);  // Explicit: "from now" (0) would race the next Register.
    request.add_models("fraud");
    grpc::ClientContext context;
    SignIn(&context);
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    auto reader = s.stub->Watch(&context, request);
    v1::WatchEvent event;
    REQUIRE(Register(s, kAbc, &version).ok());
    REQUIRE(reader->Read(&event));
    CHECK(event.type() == v1::WATCH_EVENT_TYPE_VERSION_REGISTERED);
    CHECK(event.version().version() == 2);
    seen.push_back(event.revision());
    context.TryCancel();
  }
  // Changes land while nobody watches.
  REQUIRE(Register(s, kAbc, &version).ok());
  v1::SetAliasRequest set;
  set.set_model("fraud");
  set.set_alias("production");
  set.set_version(3);
  v1::Alias alias;
  REQUIRE(s.stub->SetAlias(Context().get(), set, &alias).ok());

  v1::WatchRequest resume;
  resume.set_after_revision(seen.back());
  grpc::ClientContext context;
  SignIn(&context);
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto reader = s.stub->Watch(&context, resume);
  v1::WatchEvent event;
  std::vector<v1::WatchEvent> missed;
  while (missed.size() < 2 && reader->Read(&event)) {
    if (event.type() != v1::WATCH_EVENT_TYPE_BOOKMARK) missed.push_back(event);
  }
  context.TryCancel();
  REQUIRE(missed.size() == 2);
  CHECK(missed[0].revision() == seen.back() + 1);
  CHECK(missed[0].version().version() == 3);
  CHECK(missed[1].revision() == seen.back() + 2);
  CHECK(missed[1].type() == v1::WATCH_EVENT_TYPE_ALIAS_SET);
  CHECK(missed[1].alias().version() == 3);

  v1::WatchRequest future;
  future.set_after_revision(1000);
  grpc::ClientContext late;
  SignIn(&late);
  auto refused = s.stub->Watch(&late, future);
  while (refused->Read(&event)) {
  }
  CHECK(refused->Finish().error_code() == grpc::StatusCode::OUT_OF_RANGE);
}

TEST_CASE("governed promotion: a refused gate is explained, two approvals move the alias") {
  Server s;
  CreateFraud(s);
  v1::Artifact artifact;
  REQUIRE(Upload(s, "abc", kAbc, &artifact).ok());
  v1::ModelVersion version;
  for (double auc : {0.78, 0.86}) {
    v1::RegisterVersionRequest request;
    request.mutable_version()->set_model("fraud");
    v1::Metric* metric = request.mutable_version()->add_metrics();
    metric->set_name("auc");
    metric->set_value(auc);
    REQUIRE(s.stub->RegisterVersion(Context().get(), request, &version).ok());
  }
  v1::SetPromotionPolicyRequest set_policy;
  v1::PromotionPolicy* policy = set_policy.mutable_policy();
  policy->set_model("fraud");
  policy->set_alias("production");
  v1::MetricThreshold* gate = policy->add_metric_gates();
  gate->set_metric("auc");
  gate->set_op(v1::COMPARISON_OP_GREATER_OR_EQUAL);
  gate->set_value(0.8);
  policy->add_approval_gates()->set_role("design-authority");
  policy->mutable_approval_gates(0)->set_required_approvals(2);
  v1::PromotionPolicy stored;
  REQUIRE(
      s.stub->SetPromotionPolicy(As("lea", {"risk:design-authority"}).get(), set_policy, &stored)
          .ok());
  CHECK(stored.updated_by().subject() == "lea");

  v1::RequestPromotionRequest ask;
  ask.set_model("fraud");
  ask.set_alias("production");
  ask.set_version(1);
  v1::PromotionRequest answer;
  const grpc::Status refused = s.stub->RequestPromotion(Context().get(), ask, &answer);
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(refused.error_message(), "auc 0.78 not >= 0.8"));

  ask.set_version(2);
  REQUIRE(s.stub->RequestPromotion(Context().get(), ask, &answer).ok());
  CHECK(answer.state() == v1::PROMOTION_STATE_PENDING);
  v1::ApprovePromotionRequest approve;
  approve.set_id(answer.id());
  REQUIRE(
      s.stub->ApprovePromotion(As("ada", {"risk:design-authority"}).get(), approve, &answer).ok());
  CHECK(answer.state() == v1::PROMOTION_STATE_PENDING);
  REQUIRE(
      s.stub->ApprovePromotion(As("bob", {"risk:design-authority"}).get(), approve, &answer).ok());
  CHECK(answer.state() == v1::PROMOTION_STATE_COMPLETED);

  v1::GetVersionRequest get;
  get.mutable_ref()->set_model("fraud");
  get.mutable_ref()->set_alias("production");
  REQUIRE(s.stub->GetVersion(Context().get(), get, &version).ok());
  CHECK(version.version() == 2);
  // The alias is gated: a direct move is refused, pointing at RequestPromotion.
  v1::SetAliasRequest direct;
  direct.set_model("fraud");
  direct.set_alias("production");
  direct.set_version(1);
  v1::Alias alias;
  const grpc::Status gated = s.stub->SetAlias(Context().get(), direct, &alias);
  CHECK(gated.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(gated.error_message(), "RequestPromotion"));
  v1::RejectPromotionRequest reject;
  reject.set_id(answer.id());
  CHECK(s.stub->RejectPromotion(As("cyd", {"risk:design-authority"}).get(), reject, &answer)
            .error_code() == grpc::StatusCode::FAILED_PRECONDITION);  // Already completed.

  const std::string metrics = *testing::HttpGet("127.0.0.1", s.host->metrics_port(), "/metrics");
  CHECK(absl::StrContains(metrics,
                          "fabrique_registry_mutations_total{kind=\"promotion.approve\"} 2"));
  // The refused request was stored too.
  CHECK(absl::StrContains(metrics,
                          "fabrique_registry_mutations_total{kind=\"promotion.request\"} 2"));
  CHECK(
      absl::StrContains(metrics, "fabrique_registry_mutations_total{kind=\"version.register\"} 2"));
}

TEST_CASE("garbage collection removes only blobs no version references; dry run first") {
  Server s;
  CreateFraud(s);
  v1::Artifact kept, orphan;
  REQUIRE(Upload(s, "abc", kAbc, &kept).ok());
  REQUIRE(Upload(s, "orphan bytes", "", &orphan).ok());
  v1::ModelVersion version;
  REQUIRE(Register(s, kAbc, &version).ok());

  v1::CollectGarbageRequest dry;
  dry.set_dry_run(true);
  v1::CollectGarbageResponse report;
  REQUIRE(s.stub->CollectGarbage(AdminContext().get(), dry, &report).ok());
  CHECK(report.blobs_removed() == 1);
  REQUIRE(report.sha256s_size() == 1);
  CHECK(report.sha256s(0) == orphan.sha256());
  // Still there (read by the admin: no version references it).
  CHECK(Download(s, orphan.sha256(), 0, AdminContext()) == "orphan bytes");

  REQUIRE(s.stub->CollectGarbage(AdminContext().get(), {}, &report).ok());
  CHECK(report.bytes_freed() == 12);
  v1::DownloadArtifactRequest gone;
  gone.set_sha256(orphan.sha256());
  auto context = Context();
  auto reader = s.stub->DownloadArtifact(context.get(), gone);
  v1::DownloadArtifactResponse part;
  while (reader->Read(&part)) {
  }
  CHECK(reader->Finish().error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(Download(s, kAbc) == "abc");  // Referenced: kept.
}

}  // namespace
}  // namespace fabrique::services

namespace fabrique::services {
namespace {

TEST_CASE("a snapshot watch sends the current state, then SNAPSHOT_COMPLETE, then changes") {
  Server s;
  CreateFraud(s);
  v1::Artifact artifact;
  REQUIRE(Upload(s, "abc", kAbc, &artifact).ok());
  v1::ModelVersion version;
  REQUIRE(Register(s, kAbc, &version).ok());
  v1::SetAliasRequest set;
  set.set_model("fraud");
  set.set_alias("candidate");
  set.set_version(1);
  v1::Alias alias;
  REQUIRE(s.stub->SetAlias(Context().get(), set, &alias).ok());
  v1::SetTrafficPolicyRequest traffic;
  traffic.mutable_policy()->set_model("fraud");
  traffic.mutable_policy()->set_canary_percent(10);
  v1::TrafficPolicy policy;
  REQUIRE(s.stub->SetTrafficPolicy(Context().get(), traffic, &policy).ok());
  v1::GetTrafficPolicyRequest get;
  get.set_model("fraud");
  REQUIRE(s.stub->GetTrafficPolicy(Context().get(), get, &policy).ok());
  CHECK(policy.canary_percent() == 10);
  CHECK(policy.updated_by().subject() == "dana");
  traffic.mutable_policy()->set_canary_percent(150);
  CHECK(s.stub->SetTrafficPolicy(Context().get(), traffic, &policy).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);

  v1::WatchRequest request;
  request.set_include_snapshot(true);
  request.add_models("fraud");
  grpc::ClientContext context;
  SignIn(&context);
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto reader = s.stub->Watch(&context, request);
  std::vector<v1::WatchEvent> events;
  v1::WatchEvent event;
  while (reader->Read(&event)) {
    if (event.type() == v1::WATCH_EVENT_TYPE_BOOKMARK) continue;
    events.push_back(event);
    if (event.type() == v1::WATCH_EVENT_TYPE_SNAPSHOT_COMPLETE) break;
  }
  REQUIRE(events.size() == 4);  // Model, alias, traffic policy, complete.
  CHECK(events[0].model_object().latest_version() == 1);
  CHECK(events[1].alias().name() == "candidate");
  CHECK(events[2].traffic_policy().canary_percent() == 10);
  const int64_t revision = events[3].revision();
  for (const v1::WatchEvent& e : events) CHECK(e.revision() == revision);
  CHECK(events[0].snapshot());
  // A change after the snapshot arrives next, numbered right after it.
  set.set_alias("production");
  REQUIRE(s.stub->SetAlias(Context().get(), set, &alias).ok());
  do {
    REQUIRE(reader->Read(&event));
  } while (event.type() == v1::WATCH_EVENT_TYPE_BOOKMARK);
  CHECK(event.revision() == revision + 1);
  CHECK(event.alias().name() == "production");
  CHECK_FALSE(event.snapshot());
  context.TryCancel();

  v1::WatchRequest both;
  both.set_include_snapshot(true);
  both.set_after_revision(1);
  grpc::ClientContext refused_context;
  SignIn(&refused_context);
  auto refused = s.stub->Watch(&refused_context, both);
  while (refused->Read(&event)) {
  }
  CHECK(refused->Finish().error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("request ids make registration and promotion retries safe; lists of both") {
  Server s;
  CreateFraud(s);
  v1::Artifact artifact;
  REQUIRE(Upload(s, "abc", kAbc, &artifact).ok());
  v1::RegisterVersionRequest register_request;
  register_request.set_request_id("train-42");
  register_request.mutable_version()->set_model("fraud");
  register_request.mutable_version()->add_artifacts()->mutable_artifact()->set_sha256(kAbc);
  v1::ModelVersion first, retried;
  REQUIRE(s.stub->RegisterVersion(Context().get(), register_request, &first).ok());
  REQUIRE(s.stub->RegisterVersion(Context().get(), register_request, &retried).ok());
  CHECK(first.version() == 1);
  CHECK(retried.version() == 1);

  v1::SetPromotionPolicyRequest policy_request;
  v1::PromotionPolicy* policy = policy_request.mutable_policy();
  policy->set_model("fraud");
  policy->set_alias("production");
  policy->add_approval_gates()->set_role("design-authority");
  policy->mutable_approval_gates(0)->set_required_approvals(1);
  v1::PromotionPolicy stored;
  REQUIRE(
      s.stub
          ->SetPromotionPolicy(As("lea", {"risk:design-authority"}).get(), policy_request, &stored)
          .ok());
  v1::ListPromotionPoliciesRequest list_policies;
  list_policies.set_model("fraud");
  v1::ListPromotionPoliciesResponse policies;
  REQUIRE(s.stub->ListPromotionPolicies(Context().get(), list_policies, &policies).ok());
  REQUIRE(policies.policies_size() == 1);
  CHECK(policies.policies(0).alias() == "production");

  v1::RequestPromotionRequest promote;
  promote.set_model("fraud");
  promote.set_alias("production");
  promote.set_version(1);
  promote.set_request_id("ship-1");
  v1::PromotionRequest a, b;
  REQUIRE(s.stub->RequestPromotion(Context().get(), promote, &a).ok());
  REQUIRE(s.stub->RequestPromotion(Context().get(), promote, &b).ok());
  CHECK(a.id() == b.id());
  v1::ListPromotionRequestsRequest list_requests;
  list_requests.set_state(v1::PROMOTION_STATE_PENDING);
  v1::ListPromotionRequestsResponse requests;
  REQUIRE(s.stub->ListPromotionRequests(Context().get(), list_requests, &requests).ok());
  REQUIRE(requests.requests_size() == 1);
  CHECK(requests.requests(0).id() == a.id());
  list_requests.set_model("churn");
  CHECK(s.stub->ListPromotionRequests(Context().get(), list_requests, &requests).error_code() ==
        grpc::StatusCode::NOT_FOUND);
}

// Opens a watch of every model from now on, with a deadline `timeout` away.
std::unique_ptr<grpc::ClientReader<v1::WatchEvent>> WatchAll(Server& s,
                                                             grpc::ClientContext* context,
                                                             absl::Duration timeout) {
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return s.stub->Watch(context, v1::WatchRequest());
}

TEST_CASE("an idle watch gets a bookmark with the current revision every second") {
  Server s;
  CreateFraud(s);  // Revision 1.
  grpc::ClientContext context;
  SignIn(&context);
  const absl::Time start = absl::Now();
  auto reader = WatchAll(s, &context, absl::Seconds(60));
  v1::WatchEvent event;
  for (int i = 0; i < 4; ++i) {
    REQUIRE(reader->Read(&event));
    CHECK(event.type() == v1::WATCH_EVENT_TYPE_BOOKMARK);
    CHECK(event.revision() == 1);
  }
  // Four bookmarks, not one, each after a second of quiet: the fourth cannot come before 4 s
  // (a busy loop would send them at once), whatever delays the reader, and comes well within the
  // generous upper bound (the stream would otherwise block until its deadline). Measured from the
  // start rather than between reads, which a descheduled reader can receive together.
  const absl::Duration fourth = absl::Now() - start;
  INFO("the fourth bookmark came " << absl::FormatDuration(fourth) << " after the watch began");
  CHECK(fourth >= absl::Milliseconds(3900));
  CHECK(fourth < absl::Seconds(20));
  // A change goes out at once; the bookmarks after it carry its revision.
  v1::CreateModelRequest churn;
  churn.mutable_model()->set_name("churn");
  churn.mutable_model()->set_owner_squad("risk");
  v1::Model model;
  REQUIRE(s.stub->CreateModel(Context().get(), churn, &model).ok());
  do {
    REQUIRE(reader->Read(&event));
  } while (event.type() == v1::WATCH_EVENT_TYPE_BOOKMARK);
  CHECK(event.type() == v1::WATCH_EVENT_TYPE_MODEL_CREATED);
  CHECK(event.revision() == 2);
  REQUIRE(reader->Read(&event));
  CHECK(event.type() == v1::WATCH_EVENT_TYPE_BOOKMARK);
  CHECK(event.revision() == 2);
  context.TryCancel();
}

// The value of fabrique_registry_watchers on the server's /metrics page, or -1 when absent.
double Watchers(Server& s) {
  const std::string metrics = *testing::HttpGet("127.0.0.1", s.host->metrics_port(), "/metrics");
  const std::string name = "fabrique_registry_watchers ";
  const size_t at = metrics.find("\n" + name);
  double value = -1;
  if (at != std::string::npos) {
    const size_t start = at + 1 + name.size();
    if (!absl::SimpleAtod(metrics.substr(start, metrics.find('\n', start) - start), &value)) {
      return -1;
    }
  }
  return value;
}

TEST_CASE("registry_watchers counts the watch streams open") {
  Server s;
  CreateFraud(s);
  CHECK(Watchers(s) == 0);
  struct Watch {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<v1::WatchEvent>> reader;
  };
  std::vector<std::unique_ptr<Watch>> watches;
  for (int i = 1; i <= 3; ++i) {
    watches.push_back(std::make_unique<Watch>());
    Watch& watch = *watches.back();
    watch.context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    SignIn(&watch.context);
    v1::WatchRequest request;
    request.set_include_snapshot(i == 3);  // A snapshot watch counts once it is following.
    watch.reader = s.stub->Watch(&watch.context, request);
    INFO("after opening watch " << i);
    REQUIRE(testing::PollUntil([&] { return Watchers(s) == i; }, absl::Seconds(10)));
  }
  // A stream the client cancels stops counting (the server notices at its next bookmark).
  for (int open = 2; open >= 0; --open) {
    watches[open]->context.TryCancel();
    v1::WatchEvent event;
    while (watches[open]->reader->Read(&event)) {
    }
    CHECK(watches[open]->reader->Finish().error_code() == grpc::StatusCode::CANCELLED);
    INFO("after cancelling down to " << open);
    REQUIRE(testing::PollUntil([&] { return Watchers(s) == open; }, absl::Seconds(10)));
  }
}

TEST_CASE("a shutdown ends watch streams at once, saying where to resume") {
  Server s;
  CreateFraud(s);  // Revision 1.
  grpc::ClientContext context;
  SignIn(&context);
  auto reader = WatchAll(s, &context, absl::Seconds(20));
  v1::WatchEvent event;
  REQUIRE(reader->Read(&event));  // The first bookmark: the stream is open.
  const absl::Time start = absl::Now();
  s.host->Shutdown();
  while (reader->Read(&event)) {
  }
  const grpc::Status ended = reader->Finish();
  CHECK(absl::Now() - start < absl::Seconds(5));  // Not the 10 s grace.
  CHECK(ended.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(absl::StrContains(ended.error_message(), "after_revision=1"));
}

}  // namespace
}  // namespace fabrique::services
