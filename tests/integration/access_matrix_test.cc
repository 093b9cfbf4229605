// Who may call what, through the real fabrique-features, fabrique-registry and fabrique-trainer
// binaries as a deployment runs them: TLS, tokens of a local authority, the default policy. For
// every method of the three services, a caller whose role lacks the method's permission is
// refused with PERMISSION_DENIED naming it, a caller whose role holds it is let through (its
// answer may be any code but a denial or UNAUTHENTICATED), and a call with no token is
// UNAUTHENTICATED. The role pairs are those of the services' in-process access tests; the
// permission each refusal must name is the one the method table gives.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/features.grpc.pb.h"
#include "fabrique/v1/registry.grpc.pb.h"
#include "fabrique/v1/trainer.grpc.pb.h"
#include "libs/auth/method_table.h"
#include "tests/integration/killable_service.h"
#include "tests/integration/secure_service.h"
#include "tests/util/test_util.h"

namespace fabrique {
namespace {

using testing::KillableService;
using testing::LocalIdentity;
using testing::TempDir;
using Groups = std::vector<std::string>;

// Every call is bounded, so a server that never answers fails the test instead of hanging it.
constexpr absl::Duration kCallTimeout = absl::Seconds(5);
// sha256("abc"): the artifact the registry's versions reference.
constexpr char kAbc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

std::unique_ptr<grpc::ClientContext> As(const std::string& user, const Groups& groups) {
  return testing::TokenContext(LocalIdentity(), user, groups, kCallTimeout);
}

// "root" is the platform admin of the test identity's policy.
std::unique_ptr<grpc::ClientContext> Admin() { return As("root", {}); }

std::unique_ptr<grpc::ClientContext> NoToken() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + kCallTimeout));
  return context;
}

// One method called with a given context.
using Call = std::function<grpc::Status(grpc::ClientContext*)>;

// A unary call of `method` on `stub` with `request`, its response dropped.
template <typename Stub, typename Request, typename Response>
Call Unary(Stub* stub,
           grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
           Request request) {
  return [stub, method, request](grpc::ClientContext* context) {
    Response out;
    return (stub->*method)(context, request, &out);
  };
}

// A server stream read to its end.
template <typename Response, typename Open>
grpc::Status ReadAll(Open open) {
  auto reader = open();
  Response part;
  while (reader->Read(&part)) {
  }
  return reader->Finish();
}

// A server stream that may stay open: its first message is the answer, after which the call is
// cancelled; with none, the stream's status is.
template <typename Response, typename Open>
grpc::Status FirstMessage(grpc::ClientContext* context, Open open) {
  auto reader = open();
  Response first;
  if (reader->Read(&first)) {
    context->TryCancel();
    return grpc::Status::OK;
  }
  return reader->Finish();
}

// A method, the caller that may make it and the one that may not. A group list is the token's
// groups ("risk:data-scientist"); an empty one holds no role anywhere, for calls every role
// holds in some squad.
struct Case {
  std::string method;
  Call call;
  Groups may;
  Groups may_not;
  std::string may_user = "mia";
};

// Runs `cases` in order, each refused first (so the allowed caller finds the state unchanged),
// and checks that they cover every method of `table`.
void CheckMatrix(const auth::MethodTable& table, const std::vector<Case>& cases) {
  CHECK(cases.size() == table.size());
  for (const auto& [name, rule] : table) {
    INFO(name << " has a case");
    CHECK(std::count_if(cases.begin(), cases.end(),
                        [&name = name](const Case& c) { return c.method == name; }) == 1);
  }
  for (const Case& c : cases) {
    REQUIRE(table.count(c.method) == 1);
    const std::string& permission = table.at(c.method).permission;
    {
      INFO(c.method << " as nils [" << absl::StrJoin(c.may_not, ",") << "], refused "
                    << permission);
      const grpc::Status refused = c.call(As("nils", c.may_not).get());
      INFO(refused.error_code() << ": " << refused.error_message());
      CHECK(refused.error_code() == grpc::StatusCode::PERMISSION_DENIED);
      CHECK(absl::StrContains(refused.error_message(), permission));
    }
    INFO(c.method << " as " << c.may_user << " [" << absl::StrJoin(c.may, ",") << "], allowed");
    const grpc::Status allowed = c.call(As(c.may_user, c.may).get());
    INFO(allowed.error_code() << ": " << allowed.error_message());
    CHECK(allowed.error_code() != grpc::StatusCode::PERMISSION_DENIED);
    CHECK(allowed.error_code() != grpc::StatusCode::UNAUTHENTICATED);
  }
}

// Every case called with no token is UNAUTHENTICATED.
void CheckNoToken(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    INFO(c.method << " with no token");
    const grpc::Status status = c.call(NoToken().get());
    INFO(status.error_code() << ": " << status.error_message());
    CHECK(status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  }
}

// ---- Feature store ----

v1::IngestRequest TxBatch() {
  v1::IngestRequest request;
  request.set_group("tx");
  v1::RowBatch* batch = request.mutable_rows();
  batch->add_entity_keys("c1");
  batch->add_event_time_unix_micros(absl::ToUnixMicros(absl::Now() - absl::Hours(1)));
  v1::FeatureColumn* amount = batch->add_columns();
  amount->mutable_feature()->set_feature("amount");
  amount->mutable_values()->mutable_float_values()->add_values(12.5f);
  return request;
}

grpc::Status Ingest(v1::FeatureStore::Stub* stub, grpc::ClientContext* context) {
  v1::IngestResponse response;
  auto writer = stub->Ingest(context, &response);
  writer->Write(TxBatch());
  writer->WritesDone();
  return writer->Finish();
}

// A summary-only training set of tx:amount for c1, labelled now; the dataset in `out` if given.
grpc::Status Build(v1::FeatureStore::Stub* stub, grpc::ClientContext* context,
                   v1::Dataset* out = nullptr) {
  v1::BuildTrainingSetRequest request;
  v1::TrainingSetSpec* spec = request.mutable_spec();
  v1::FeatureRef* amount = spec->add_features();
  amount->set_group("tx");
  amount->set_feature("amount");
  spec->set_summary_only(true);
  v1::LabelEventBatch* events = spec->mutable_label()->mutable_events();
  events->add_entity_keys()->set_entity("customer");
  events->mutable_entity_keys(0)->add_keys("c1");
  events->add_event_time_unix_micros(absl::ToUnixMicros(absl::Now()));
  events->mutable_labels()->mutable_bool_values()->add_values(true);
  auto stream = stub->BuildTrainingSet(context);
  stream->Write(request);
  stream->WritesDone();
  v1::BuildTrainingSetResponse response;
  while (stream->Read(&response)) {
    if (out != nullptr && response.has_summary()) *out = response.summary();
  }
  return stream->Finish();
}

// Entity "customer" and group "tx" (amount float, country string) of squad risk, one row of c1.
void SeedRiskFeatures(v1::FeatureStore::Stub* stub) {
  v1::ApplyEntityRequest entity;
  entity.mutable_entity()->set_name("customer");
  entity.mutable_entity()->set_join_key("customer_id");
  entity.mutable_entity()->set_owner_squad("risk");
  v1::Entity stored;
  REQUIRE(stub->ApplyEntity(Admin().get(), entity, &stored).ok());
  v1::ApplyFeatureGroupRequest apply;
  v1::FeatureGroupSpec* spec = apply.mutable_spec();
  spec->set_name("tx");
  spec->set_entity("customer");
  spec->set_owner_squad("risk");
  spec->mutable_ttl()->set_seconds(24 * 3600);
  v1::FeatureSpec* amount = spec->add_features();
  amount->set_name("amount");
  amount->set_type(v1::FEATURE_TYPE_FLOAT);
  v1::FeatureSpec* country = spec->add_features();
  country->set_name("country");
  country->set_type(v1::FEATURE_TYPE_STRING);
  v1::ApplyFeatureGroupResponse applied;
  const grpc::Status status = stub->ApplyFeatureGroup(Admin().get(), apply, &applied);
  INFO(status.error_message());
  REQUIRE(status.ok());
  const grpc::Status ingested = Ingest(stub, Admin().get());
  INFO(ingested.error_message());
  REQUIRE(ingested.ok());
}

std::vector<Case> FeatureStoreCases(v1::FeatureStore::Stub* stub, const std::string& dataset_id) {
  using S = v1::FeatureStore::Stub;
  v1::ApplyEntityRequest entity;
  entity.mutable_entity()->set_name("customer");
  entity.mutable_entity()->set_join_key("customer_id");
  entity.mutable_entity()->set_owner_squad("risk");
  v1::GetEntityRequest get_entity;
  get_entity.set_name("customer");
  v1::GetFeatureGroupRequest get_group;
  get_group.set_name("tx");
  v1::FeatureGroup tx;
  REQUIRE(stub->GetFeatureGroup(Admin().get(), get_group, &tx).ok());
  v1::ApplyFeatureGroupRequest apply;
  *apply.mutable_spec() = tx.spec();
  v1::LookupOnlineRequest lookup;
  v1::FeatureRef* amount = lookup.add_features();
  amount->set_group("tx");
  amount->set_feature("amount");
  v1::EntityKeys* keys = lookup.add_entity_keys();
  keys->set_entity("customer");
  keys->add_keys("c1");
  v1::ReadHistoryRequest history;
  history.set_group("tx");
  v1::GetDatasetRequest get_dataset;
  get_dataset.set_dataset_id(dataset_id);
  v1::RecordDatasetUsageRequest usage;
  usage.set_dataset_id(dataset_id);
  usage.mutable_model_version()->set_model("churn");
  usage.mutable_model_version()->set_version(1);
  v1::GetFeatureGroupLineageRequest lineage;
  lineage.set_group("tx");
  v1::ClassifyFeaturesRequest classify;
  classify.set_group("tx");
  classify.set_feature("amount");
  classify.set_sensitivity(v1::SENSITIVITY_CONFIDENTIAL);
  classify.set_reason("amounts are commercially sensitive");
  v1::GetPersonalDataLineageRequest personal;
  personal.set_owner_squad("risk");
  v1::ListPersonalDataReadsRequest reads;
  reads.set_group("tx");
  const Groups none;
  return {
      {"GetEntity",
       Unary(stub, &S::GetEntity, get_entity),
       {"risk:data-scientist"},
       {"fraud:data-scientist"}},
      {"ListEntities",
       Unary(stub, &S::ListEntities, v1::ListEntitiesRequest()),
       {"fraud:data-scientist"},
       none},
      {"GetFeatureGroup",
       Unary(stub, &S::GetFeatureGroup, get_group),
       {"risk:product-owner"},
       {"fraud:data-engineer"}},
      {"ListFeatureGroups",
       Unary(stub, &S::ListFeatureGroups, v1::ListFeatureGroupsRequest()),
       {"fraud:product-owner"},
       none},
      {"ListFeatures",
       Unary(stub, &S::ListFeatures, v1::ListFeaturesRequest()),
       {"risk:sre"},
       none},
      {"LookupOnline",
       Unary(stub, &S::LookupOnline, lookup),
       {"risk:data-scientist"},
       {"risk:product-owner"}},
      {"ReadHistory",
       [stub, history](grpc::ClientContext* c) {
         return ReadAll<v1::ReadHistoryResponse>([&] { return stub->ReadHistory(c, history); });
       },
       {"risk:data-steward"},
       {"fraud:data-steward"}},
      {"GetDataset",
       Unary(stub, &S::GetDataset, get_dataset),
       {"risk:product-owner"},
       {"fraud:data-scientist"}},
      {"ListDatasets",
       Unary(stub, &S::ListDatasets, v1::ListDatasetsRequest()),
       {"fraud:data-engineer"},
       none},
      {"GetFeatureGroupLineage",
       Unary(stub, &S::GetFeatureGroupLineage, lineage),
       {"risk:data-engineer"},
       {"fraud:data-engineer"}},
      {"GetPersonalDataLineage",
       Unary(stub, &S::GetPersonalDataLineage, personal),
       {"risk:data-steward"},
       {"risk:data-scientist"}},
      {"ListPersonalDataReads",
       Unary(stub, &S::ListPersonalDataReads, reads),
       {"risk:design-authority"},
       {"fraud:data-steward"}},
      {"VerifyPersonalDataReads",
       Unary(stub, &S::VerifyPersonalDataReads, v1::VerifyPersonalDataReadsRequest()),
       {"risk:sre"},
       {"risk:data-steward"}},
      {"BuildTrainingSet",
       [stub](grpc::ClientContext* c) { return Build(stub, c); },
       {"risk:data-scientist"},
       {"risk:data-engineer"}},
      {"ApplyEntity",
       Unary(stub, &S::ApplyEntity, entity),
       {"risk:data-engineer"},
       {"risk:data-scientist"}},
      {"ApplyFeatureGroup",
       Unary(stub, &S::ApplyFeatureGroup, apply),
       {"risk:data-engineer"},
       {"risk:data-steward"}},
      {"Ingest",
       [stub](grpc::ClientContext* c) { return Ingest(stub, c); },
       {"risk:data-engineer"},
       {"risk:data-scientist"}},
      {"RecordDatasetUsage",
       Unary(stub, &S::RecordDatasetUsage, usage),
       {"risk:platform-admin"},
       {"risk:data-scientist"}},
      {"ClassifyFeatures",
       Unary(stub, &S::ClassifyFeatures, classify),
       {"risk:data-steward"},
       {"risk:data-scientist"}},
  };
}

TEST_CASE("fabrique-features: every method refused without its permission, allowed with it") {
  TempDir tmp;
  KillableService features("fabrique-features", tmp.Sub("data"), tmp.Sub("features.log"));
  auto stub = v1::FeatureStore::NewStub(features.channel());
  SeedRiskFeatures(stub.get());
  v1::Dataset dataset;
  const grpc::Status built = Build(stub.get(), Admin().get(), &dataset);
  INFO(built.error_message());
  REQUIRE(built.ok());
  REQUIRE_FALSE(dataset.dataset_id().empty());
  const std::vector<Case> cases = FeatureStoreCases(stub.get(), dataset.dataset_id());
  CheckMatrix(auth::FeatureStoreMethods(), cases);
  CheckNoToken(cases);
}

// ---- Model registry ----

grpc::Status Upload(v1::ModelRegistry::Stub* stub, grpc::ClientContext* context) {
  v1::Artifact out;
  auto writer = stub->UploadArtifact(context, &out);
  v1::UploadArtifactRequest header;
  header.mutable_header()->set_sha256(kAbc);
  writer->Write(header);
  v1::UploadArtifactRequest chunk;
  chunk.set_chunk("abc");
  writer->Write(chunk);
  writer->WritesDone();
  return writer->Finish();
}

v1::RegisterVersionRequest VersionOf(const std::string& model) {
  v1::RegisterVersionRequest request;
  request.mutable_version()->set_model(model);
  request.mutable_version()->add_artifacts()->mutable_artifact()->set_sha256(kAbc);
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

// Pending promotion requests of scoring: to production and to canary.
struct Pending {
  std::string production;
  std::string canary;
};

// Model "scoring" of squad risk: versions 1 to 3 of one artifact, 1 as production and old,
// production and canary gated by a design authority, a pending request to each for version 3.
Pending SeedScoring(v1::ModelRegistry::Stub* stub) {
  v1::CreateModelRequest create;
  create.mutable_model()->set_name("scoring");
  create.mutable_model()->set_owner_squad("risk");
  v1::Model model;
  REQUIRE(stub->CreateModel(Admin().get(), create, &model).ok());
  REQUIRE(Upload(stub, Admin().get()).ok());
  v1::ModelVersion version;
  for (int i = 0; i < 3; ++i) {
    const grpc::Status registered =
        stub->RegisterVersion(Admin().get(), VersionOf("scoring"), &version);
    INFO(registered.error_message());
    REQUIRE(registered.ok());
  }
  v1::Alias alias;
  for (const char* name : {"production", "old"}) {
    v1::SetAliasRequest set;
    set.set_model("scoring");
    set.set_alias(name);
    set.set_version(1);
    REQUIRE(stub->SetAlias(Admin().get(), set, &alias).ok());
  }
  Pending pending;
  for (const char* name : {"production", "canary"}) {
    v1::PromotionPolicy policy;
    REQUIRE(stub->SetPromotionPolicy(Admin().get(), GatedPolicy("scoring", name), &policy).ok());
    v1::RequestPromotionRequest ask;
    ask.set_model("scoring");
    ask.set_alias(name);
    ask.set_version(3);
    v1::PromotionRequest request;
    REQUIRE(stub->RequestPromotion(As("dana", {"risk:data-scientist"}).get(), ask, &request).ok());
    REQUIRE(request.state() == v1::PROMOTION_STATE_PENDING);
    (std::string(name) == "production" ? pending.production : pending.canary) = request.id();
  }
  // A standard for an entity none of these models scores: there to be read and deleted.
  v1::SetStandardRequest standard;
  standard.mutable_standard()->set_name("card");
  standard.mutable_standard()->set_entity("nobody");
  standard.mutable_standard()->add_required_artifacts(v1::ARTIFACT_KIND_MODEL_CARD);
  v1::Standard set;
  REQUIRE(stub->SetStandard(Admin().get(), standard, &set).ok());
  return pending;
}

std::vector<Case> RegistryCases(v1::ModelRegistry::Stub* stub, const Pending& pending) {
  using S = v1::ModelRegistry::Stub;
  v1::CreateModelRequest create;
  create.mutable_model()->set_name("pricing");
  create.mutable_model()->set_owner_squad("risk");
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
  get_request.set_id(pending.production);
  v1::ApprovePromotionRequest approve;
  approve.set_id(pending.production);
  v1::RejectPromotionRequest reject;
  reject.set_id(pending.canary);
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
  v1::WatchRequest watch;
  watch.set_include_snapshot(true);
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
  // models.read is held by every role but the data engineer.
  const Groups engineer = {"risk:data-engineer"};
  // Reads before the writes that change what they read; approving and rejecting last.
  return {
      {"GetModel",
       Unary(stub, &S::GetModel, get_model),
       {"risk:product-owner"},
       {"retail:data-scientist"}},
      {"ListModels",
       Unary(stub, &S::ListModels, v1::ListModelsRequest()),
       {"retail:data-scientist"},
       engineer},
      {"GetVersion",
       Unary(stub, &S::GetVersion, get_version),
       {"risk:product-owner"},
       {"retail:data-scientist"}},
      {"ListVersions",
       Unary(stub, &S::ListVersions, v1::ListVersionsRequest()),
       {"risk:data-scientist"},
       engineer},
      {"UploadArtifact",
       [stub](grpc::ClientContext* c) { return Upload(stub, c); },
       {"retail:data-scientist"},
       {"risk:product-owner"}},
      {"DownloadArtifact",
       [stub, download](grpc::ClientContext* c) {
         return ReadAll<v1::DownloadArtifactResponse>(
             [&] { return stub->DownloadArtifact(c, download); });
       },
       {"risk:product-owner"},
       engineer},
      {"CollectGarbage",
       Unary(stub, &S::CollectGarbage, collect),
       {},
       {"risk:platform-admin"},
       "root"},
      {"GetAlias",
       Unary(stub, &S::GetAlias, get_alias),
       {"risk:product-owner"},
       {"retail:data-scientist"}},
      {"ListAliases",
       Unary(stub, &S::ListAliases, list_aliases),
       {"risk:product-owner"},
       {"retail:data-scientist"}},
      {"GetPromotionPolicy",
       Unary(stub, &S::GetPromotionPolicy, get_policy),
       {"risk:product-owner"},
       {"retail:data-scientist"}},
      {"ListPromotionPolicies",
       Unary(stub, &S::ListPromotionPolicies, list_policies),
       {"risk:data-scientist"},
       {"retail:data-scientist"}},
      {"GetPromotionRequest",
       Unary(stub, &S::GetPromotionRequest, get_request),
       {"risk:product-owner"},
       {"retail:data-scientist"}},
      {"ListPromotionRequests",
       Unary(stub, &S::ListPromotionRequests, v1::ListPromotionRequestsRequest()),
       {"retail:data-scientist"},
       engineer},
      {"GetTrafficPolicy",
       Unary(stub, &S::GetTrafficPolicy, get_traffic),
       {"risk:product-owner"},
       {"retail:data-scientist"}},
      {"ListAuditEntries",
       Unary(stub, &S::ListAuditEntries, audit),
       {"risk:data-steward"},
       {"risk:data-scientist"}},
      {"VerifyAuditChain",
       Unary(stub, &S::VerifyAuditChain, v1::VerifyAuditChainRequest()),
       {"risk:sre"},
       {"risk:data-steward"}},
      {"Watch",
       [stub, watch](grpc::ClientContext* c) {
         return FirstMessage<v1::WatchEvent>(c, [&] { return stub->Watch(c, watch); });
       },
       {"retail:data-scientist"},
       engineer},
      {"CreateModel",
       Unary(stub, &S::CreateModel, create),
       {"risk:data-scientist"},
       {"risk:product-owner"}},
      {"UpdateModel",
       Unary(stub, &S::UpdateModel, update),
       {"risk:data-scientist"},
       {"retail:data-scientist"}},
      {"RegisterVersion",
       Unary(stub, &S::RegisterVersion, VersionOf("scoring")),
       {"risk:data-scientist"},
       {"risk:product-owner"}},
      {"SetAlias",
       Unary(stub, &S::SetAlias, set_alias),
       {"risk:data-scientist"},
       {"risk:product-owner"}},
      {"DeleteAlias",
       Unary(stub, &S::DeleteAlias, delete_alias),
       {"risk:data-scientist"},
       {"retail:data-scientist"}},
      {"SetTrafficPolicy",
       Unary(stub, &S::SetTrafficPolicy, traffic),
       {"risk:data-scientist"},
       {"risk:product-owner"}},
      {"AppendEvaluation",
       Unary(stub, &S::AppendEvaluation, evaluate),
       {"risk:data-scientist"},
       {"risk:product-owner"}},
      {"GetStandard", Unary(stub, &S::GetStandard, get_standard), {"retail:data-scientist"}, none},
      {"ListStandards",
       Unary(stub, &S::ListStandards, v1::ListStandardsRequest()),
       {"retail:data-scientist"},
       none},
      // Standards span squads: a design authority of one squad may not change them.
      {"SetStandard",
       Unary(stub, &S::SetStandard, set_standard),
       {},
       {"risk:design-authority"},
       "root"},
      {"DeleteStandard",
       Unary(stub, &S::DeleteStandard, delete_standard),
       {},
       {"risk:design-authority"},
       "root"},
      {"RequestPromotion",
       Unary(stub, &S::RequestPromotion, ask),
       {"risk:data-scientist"},
       {"risk:product-owner"}},
      {"SetPromotionPolicy",
       Unary(stub, &S::SetPromotionPolicy, GatedPolicy("scoring", "qa")),
       {"risk:design-authority"},
       {"risk:data-scientist"}},
      {"ArchiveVersion",
       Unary(stub, &S::ArchiveVersion, archive),
       {"risk:data-scientist"},
       {"retail:data-scientist"}},
      {"DeleteVersion",
       Unary(stub, &S::DeleteVersion, remove),
       {"risk:platform-admin"},
       {"risk:data-scientist"}},
      {"ApprovePromotion",
       Unary(stub, &S::ApprovePromotion, approve),
       {"risk:design-authority"},
       {"risk:data-scientist"}},
      {"RejectPromotion",
       Unary(stub, &S::RejectPromotion, reject),
       {"risk:design-authority"},
       {"retail:design-authority"}},
  };
}

TEST_CASE("fabrique-registry: every method refused without its permission, allowed with it") {
  TempDir tmp;
  KillableService registry("fabrique-registry", tmp.Sub("data"), tmp.Sub("registry.log"));
  auto stub = v1::ModelRegistry::NewStub(registry.channel());
  const std::vector<Case> cases = RegistryCases(stub.get(), SeedScoring(stub.get()));
  CheckMatrix(auth::ModelRegistryMethods(), cases);
  CheckNoToken(cases);
}

// ---- Trainer ----

// A small classifier of tx:amount labelled by tx:country, for squad risk.
v1::SubmitRunRequest RiskRun() {
  v1::SubmitRunRequest request;
  request.set_squad("risk");
  v1::RunSpec* spec = request.mutable_spec();
  spec->set_model_name("scoring");
  spec->set_task(v1::TASK_BINARY_CLASSIFICATION);
  v1::FeatureRef* amount = spec->add_features();
  amount->set_group("tx");
  amount->set_feature("amount");
  spec->mutable_label()->mutable_feature()->set_group("tx");
  spec->mutable_label()->mutable_feature()->set_feature("country");
  spec->mutable_family()->mutable_mlp()->add_hidden_sizes(4);
  spec->mutable_optimizer()->set_learning_rate(0.01);
  spec->set_epochs(1);
  spec->set_device(v1::DEVICE_CPU);
  spec->set_threads(1);
  spec->mutable_split()->mutable_random()->set_seed(1);
  return request;
}

std::vector<Case> TrainerCases(v1::Trainer::Stub* stub, const std::string& run_id) {
  using S = v1::Trainer::Stub;
  v1::GetRunRequest get;
  get.set_run_id(run_id);
  v1::WatchRunRequest watch;
  watch.set_run_id(run_id);
  v1::CancelRunRequest cancel;
  cancel.set_run_id(run_id);
  v1::SubmitRunRequest validate = RiskRun();
  validate.set_validate_only(true);  // Queues nothing.
  return {
      {"GetRun", Unary(stub, &S::GetRun, get), {"risk:product-owner"}, {"fraud:product-owner"}},
      {"ListRuns",
       Unary(stub, &S::ListRuns, v1::ListRunsRequest()),
       {"risk:product-owner"},
       {"risk:data-engineer"}},
      {"WatchRun",
       [stub, watch](grpc::ClientContext* c) {
         return FirstMessage<v1::RunEvent>(c, [&] { return stub->WatchRun(c, watch); });
       },
       {"risk:data-scientist"},
       {"fraud:data-scientist"}},
      {"SubmitRun",
       Unary(stub, &S::SubmitRun, validate),
       {"risk:data-scientist"},
       {"risk:product-owner"}},
      {"CancelRun",
       Unary(stub, &S::CancelRun, cancel),
       {"risk:data-scientist"},
       {"risk:product-owner"}},
  };
}

TEST_CASE("fabrique-trainer: every method refused without its permission, allowed with it") {
  TempDir tmp;
  // The trainer reads features and registers models through the real peers.
  KillableService features("fabrique-features", tmp.Sub("features"), tmp.Sub("features.log"));
  SeedRiskFeatures(v1::FeatureStore::NewStub(features.channel()).get());
  KillableService registry("fabrique-registry", tmp.Sub("registry"), tmp.Sub("registry.log"));
  KillableService trainer("fabrique-trainer", tmp.Sub("trainer"), tmp.Sub("trainer.log"),
                          {absl::StrCat("--features_target=", features.target()),
                           absl::StrCat("--registry_target=", registry.target())});
  auto stub = v1::Trainer::NewStub(trainer.channel());
  v1::Run run;
  const grpc::Status submitted =
      stub->SubmitRun(As("dana", {"risk:data-scientist"}).get(), RiskRun(), &run);
  INFO(submitted.error_message());
  REQUIRE(submitted.ok());
  REQUIRE(run.squad() == "risk");
  const std::vector<Case> cases = TrainerCases(stub.get(), run.run_id());
  CheckMatrix(auth::TrainerMethods(), cases);
  CheckNoToken(cases);
}

}  // namespace
}  // namespace fabrique
