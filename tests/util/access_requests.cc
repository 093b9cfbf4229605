#include "tests/util/access_requests.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"

namespace fabrique::testing {
namespace {

v1::FeatureRef TxAmount() {
  v1::FeatureRef amount;
  amount.set_group("tx");
  amount.set_feature("amount");
  return amount;
}

}  // namespace

// ---- Feature store ----

v1::ApplyEntityRequest RiskCustomer() {
  v1::ApplyEntityRequest request;
  request.mutable_entity()->set_name("customer");
  request.mutable_entity()->set_join_key("customer_id");
  request.mutable_entity()->set_owner_squad("risk");
  return request;
}

grpc::Status IngestBatch(v1::FeatureStore::Stub& stub, grpc::ClientContext* context,
                         const v1::IngestRequest& batch) {
  v1::IngestResponse response;
  auto writer = stub.Ingest(context, &response);
  writer->Write(batch);
  writer->WritesDone();
  return writer->Finish();
}

grpc::Status BuildAmounts(v1::FeatureStore::Stub& stub, grpc::ClientContext* context,
                          absl::Time label_time, v1::Dataset* out) {
  v1::BuildTrainingSetRequest request;
  v1::TrainingSetSpec* spec = request.mutable_spec();
  *spec->add_features() = TxAmount();
  spec->set_summary_only(true);
  v1::LabelEventBatch* events = spec->mutable_label()->mutable_events();
  events->add_entity_keys()->set_entity("customer");
  events->mutable_entity_keys(0)->add_keys("c1");
  events->add_event_time_unix_micros(absl::ToUnixMicros(label_time));
  events->mutable_labels()->mutable_bool_values()->add_values(true);
  auto stream = stub.BuildTrainingSet(context);
  stream->Write(request);
  stream->WritesDone();
  v1::BuildTrainingSetResponse response;
  while (stream->Read(&response)) {
    if (out != nullptr && response.has_summary()) *out = response.summary();
  }
  return stream->Finish();
}

std::vector<AccessCase<v1::FeatureStore::Stub>> FeatureStoreAccessCases(
    const FeatureStoreAccess& access) {
  using S = v1::FeatureStore::Stub;
  v1::GetEntityRequest get_entity;
  get_entity.set_name("customer");
  v1::GetFeatureGroupRequest get_group;
  get_group.set_name("tx");
  v1::ApplyFeatureGroupRequest apply;
  *apply.mutable_spec() = access.tx;
  v1::LookupOnlineRequest lookup;
  *lookup.add_features() = TxAmount();
  v1::EntityKeys* keys = lookup.add_entity_keys();
  keys->set_entity("customer");
  keys->add_keys("c1");
  v1::ReadHistoryRequest history;
  history.set_group("tx");
  v1::GetDatasetRequest get_dataset;
  get_dataset.set_dataset_id(access.dataset_id);
  v1::RecordDatasetUsageRequest usage;
  usage.set_dataset_id(access.dataset_id);
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
  const v1::IngestRequest batch = access.ingest;
  const absl::Time label_time = access.label_time;
  const Groups none;
  return {
      {"GetEntity",
       Unary(&S::GetEntity, get_entity),
       {"risk:data-scientist"},
       {"fraud:data-scientist"}},
      {"ListEntities",
       Unary(&S::ListEntities, v1::ListEntitiesRequest()),
       {"fraud:data-scientist"},
       none},
      {"GetFeatureGroup",
       Unary(&S::GetFeatureGroup, get_group),
       {"risk:product-owner"},
       {"fraud:data-engineer"}},
      {"ListFeatureGroups",
       Unary(&S::ListFeatureGroups, v1::ListFeatureGroupsRequest()),
       {"fraud:product-owner"},
       none},
      {"ListFeatures", Unary(&S::ListFeatures, v1::ListFeaturesRequest()), {"risk:sre"}, none},
      {"LookupOnline",
       Unary(&S::LookupOnline, lookup),
       {"risk:data-scientist"},
       {"risk:product-owner"}},
      {"LookupOnlineStream",
       [lookup](S& stub, grpc::ClientContext* context) {
         auto stream = stub.LookupOnlineStream(context);
         stream->Write(lookup);
         stream->WritesDone();
         v1::LookupOnlineResponse answer;
         while (stream->Read(&answer)) {
         }
         return stream->Finish();
       },
       {"risk:data-scientist"},
       {"risk:product-owner"}},
      {"ReadHistory",
       ReadAll(&S::ReadHistory, history),
       {"risk:data-steward"},
       {"fraud:data-steward"}},
      {"GetDataset",
       Unary(&S::GetDataset, get_dataset),
       {"risk:product-owner"},
       {"fraud:data-scientist"}},
      {"ListDatasets",
       Unary(&S::ListDatasets, v1::ListDatasetsRequest()),
       {"fraud:data-engineer"},
       none},
      {"GetFeatureGroupLineage",
       Unary(&S::GetFeatureGroupLineage, lineage),
       {"risk:data-engineer"},
       {"fraud:data-engineer"}},
      {"GetPersonalDataLineage",
       Unary(&S::GetPersonalDataLineage, personal),
       {"risk:data-steward"},
       {"risk:data-scientist"}},
      {"ListPersonalDataReads",
       Unary(&S::ListPersonalDataReads, reads),
       {"risk:design-authority"},
       {"fraud:data-steward"}},
      {"VerifyPersonalDataReads",
       Unary(&S::VerifyPersonalDataReads, v1::VerifyPersonalDataReadsRequest()),
       {"risk:sre"},
       {"risk:data-steward"}},
      {"BuildTrainingSet",
       [label_time](S& stub, grpc::ClientContext* c) { return BuildAmounts(stub, c, label_time); },
       {"risk:data-scientist"},
       {"risk:data-engineer"}},
      {"ApplyEntity",
       Unary(&S::ApplyEntity, RiskCustomer()),
       {"risk:data-engineer"},
       {"risk:data-scientist"}},
      {"ApplyFeatureGroup",
       Unary(&S::ApplyFeatureGroup, apply),
       {"risk:data-engineer"},
       {"risk:data-steward"}},
      {"ApplyFeatureGroupWithProgress",
       ReadAll(&S::ApplyFeatureGroupWithProgress, apply),
       {"risk:data-engineer"},
       {"risk:data-steward"}},
      {"Ingest",
       [batch](S& stub, grpc::ClientContext* c) { return IngestBatch(stub, c, batch); },
       {"risk:data-engineer"},
       {"risk:data-scientist"}},
      {"RecordDatasetUsage",
       Unary(&S::RecordDatasetUsage, usage),
       {"risk:platform-admin"},
       {"risk:data-scientist"}},
      {"ClassifyFeatures",
       Unary(&S::ClassifyFeatures, classify),
       {"risk:data-steward"},
       {"risk:data-scientist"}},
  };
}

// ---- Model registry ----

grpc::Status UploadAbc(v1::ModelRegistry::Stub& stub, grpc::ClientContext* context) {
  v1::Artifact out;
  auto writer = stub.UploadArtifact(context, &out);
  v1::UploadArtifactRequest header;
  header.mutable_header()->set_sha256(kAbcSha256);
  writer->Write(header);
  v1::UploadArtifactRequest chunk;
  chunk.set_chunk("abc");
  writer->Write(chunk);
  writer->WritesDone();
  return writer->Finish();
}

v1::RegisterVersionRequest VersionOf(const std::string& model, const std::string& run) {
  v1::RegisterVersionRequest request;
  request.mutable_version()->set_model(model);
  request.mutable_version()->add_artifacts()->mutable_artifact()->set_sha256(kAbcSha256);
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

PendingPromotions SeedScoring(v1::ModelRegistry::Stub& stub, const ContextFor& as) {
  const auto admin = [&as] { return as("root", {}); };
  v1::CreateModelRequest create;
  create.mutable_model()->set_name("scoring");
  create.mutable_model()->set_owner_squad("risk");
  v1::Model model;
  REQUIRE(stub.CreateModel(admin().get(), create, &model).ok());
  REQUIRE(UploadAbc(stub, admin().get()).ok());
  v1::ModelVersion version;
  for (int i = 0; i < 3; ++i) {
    const grpc::Status registered =
        stub.RegisterVersion(admin().get(), VersionOf("scoring"), &version);
    INFO(registered.error_message());
    REQUIRE(registered.ok());
  }
  v1::Alias alias;
  for (const char* name : {"production", "old"}) {
    v1::SetAliasRequest set;
    set.set_model("scoring");
    set.set_alias(name);
    set.set_version(1);
    REQUIRE(stub.SetAlias(admin().get(), set, &alias).ok());
  }
  PendingPromotions pending;
  for (const char* name : {"production", "canary"}) {
    v1::PromotionPolicy policy;
    REQUIRE(stub.SetPromotionPolicy(admin().get(), GatedPolicy("scoring", name), &policy).ok());
    v1::RequestPromotionRequest ask;
    ask.set_model("scoring");
    ask.set_alias(name);
    ask.set_version(3);
    v1::PromotionRequest request;
    REQUIRE(stub.RequestPromotion(as("dana", {"risk:data-scientist"}).get(), ask, &request).ok());
    REQUIRE(request.state() == v1::PROMOTION_STATE_PENDING);
    (std::string(name) == "production" ? pending.production : pending.canary) = request.id();
  }
  // A standard for an entity none of these models scores: there to be read and deleted.
  v1::SetStandardRequest standard;
  standard.mutable_standard()->set_name("card");
  standard.mutable_standard()->set_entity("nobody");
  standard.mutable_standard()->add_required_artifacts(v1::ARTIFACT_KIND_MODEL_CARD);
  v1::Standard set;
  REQUIRE(stub.SetStandard(admin().get(), standard, &set).ok());
  return pending;
}

std::vector<AccessCase<v1::ModelRegistry::Stub>> RegistryAccessCases(
    const PendingPromotions& pending) {
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
  download.set_sha256(kAbcSha256);
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
  return {
      {"GetModel",
       Unary(&S::GetModel, get_model),
       {"risk:product-owner"},
       {"retail:data-scientist"}},
      {"ListModels",
       Unary(&S::ListModels, v1::ListModelsRequest()),
       {"retail:data-scientist"},
       engineer},
      {"GetVersion",
       Unary(&S::GetVersion, get_version),
       {"risk:product-owner"},
       {"retail:data-scientist"}},
      {"ListVersions",
       Unary(&S::ListVersions, v1::ListVersionsRequest()),
       {"risk:data-scientist"},
       engineer},
      {"UploadArtifact", UploadAbc, {"retail:data-scientist"}, {"risk:product-owner"}},
      {"DownloadArtifact",
       ReadAll(&S::DownloadArtifact, download),
       {"risk:product-owner"},
       engineer},
      {"CollectGarbage", Unary(&S::CollectGarbage, collect), {}, {"risk:platform-admin"}, "root"},
      {"GetAlias",
       Unary(&S::GetAlias, get_alias),
       {"risk:product-owner"},
       {"retail:data-scientist"}},
      {"ListAliases",
       Unary(&S::ListAliases, list_aliases),
       {"risk:product-owner"},
       {"retail:data-scientist"}},
      {"GetPromotionPolicy",
       Unary(&S::GetPromotionPolicy, get_policy),
       {"risk:product-owner"},
       {"retail:data-scientist"}},
      {"ListPromotionPolicies",
       Unary(&S::ListPromotionPolicies, list_policies),
       {"risk:data-scientist"},
       {"retail:data-scientist"}},
      {"GetPromotionRequest",
       Unary(&S::GetPromotionRequest, get_request),
       {"risk:product-owner"},
       {"retail:data-scientist"}},
      {"ListPromotionRequests",
       Unary(&S::ListPromotionRequests, v1::ListPromotionRequestsRequest()),
       {"retail:data-scientist"},
       engineer},
      {"GetTrafficPolicy",
       Unary(&S::GetTrafficPolicy, get_traffic),
       {"risk:product-owner"},
       {"retail:data-scientist"}},
      {"GetStandard", Unary(&S::GetStandard, get_standard), {"retail:data-scientist"}, none},
      {"ListStandards",
       Unary(&S::ListStandards, v1::ListStandardsRequest()),
       {"retail:data-scientist"},
       none},
      {"ListAuditEntries",
       Unary(&S::ListAuditEntries, audit),
       {"risk:data-steward"},
       {"risk:data-scientist"}},
      {"VerifyAuditChain",
       Unary(&S::VerifyAuditChain, v1::VerifyAuditChainRequest()),
       {"risk:sre"},
       {"risk:data-steward"}},
      {"Watch", FirstMessage(&S::Watch, watch), {"retail:data-scientist"}, engineer},
      {"CreateModel",
       [](S& stub, grpc::ClientContext* c) {
         static std::atomic<int> created{0};
         v1::CreateModelRequest request;
         request.mutable_model()->set_name(absl::StrCat("model_", ++created));
         request.mutable_model()->set_owner_squad("risk");
         v1::Model out;
         return stub.CreateModel(c, request, &out);
       },
       {"risk:data-scientist"},
       {"risk:product-owner"}},
      {"UpdateModel",
       Unary(&S::UpdateModel, update),
       {"risk:data-scientist"},
       {"retail:data-scientist"}},
      {"RegisterVersion",
       Unary(&S::RegisterVersion, VersionOf("scoring")),
       {"risk:data-scientist"},
       {"risk:product-owner"}},
      {"SetAlias", Unary(&S::SetAlias, set_alias), {"risk:data-scientist"}, {"risk:product-owner"}},
      {"DeleteAlias",
       Unary(&S::DeleteAlias, delete_alias),
       {"risk:data-scientist"},
       {"retail:data-scientist"}},
      {"SetTrafficPolicy",
       Unary(&S::SetTrafficPolicy, traffic),
       {"risk:data-scientist"},
       {"risk:product-owner"}},
      {"AppendEvaluation",
       Unary(&S::AppendEvaluation, evaluate),
       {"risk:data-scientist"},
       {"risk:product-owner"}},
      // Standards span squads: a design authority of one squad may not change them.
      {"SetStandard", Unary(&S::SetStandard, set_standard), {}, {"risk:design-authority"}, "root"},
      {"DeleteStandard",
       Unary(&S::DeleteStandard, delete_standard),
       {},
       {"risk:design-authority"},
       "root"},
      {"RequestPromotion",
       Unary(&S::RequestPromotion, ask),
       {"risk:data-scientist"},
       {"risk:product-owner"}},
      {"SetPromotionPolicy",
       Unary(&S::SetPromotionPolicy, GatedPolicy("scoring", "qa")),
       {"risk:design-authority"},
       {"risk:data-scientist"}},
      {"ArchiveVersion",
       Unary(&S::ArchiveVersion, archive),
       {"risk:data-scientist"},
       {"retail:data-scientist"}},
      {"DeleteVersion",
       Unary(&S::DeleteVersion, remove),
       {"risk:platform-admin"},
       {"risk:data-scientist"}},
      {"ApprovePromotion",
       Unary(&S::ApprovePromotion, approve),
       {"risk:design-authority"},
       {"risk:data-scientist"}},
      {"RejectPromotion",
       Unary(&S::RejectPromotion, reject),
       {"risk:design-authority"},
       {"retail:design-authority"}},
  };
}

}  // namespace fabrique::testing
