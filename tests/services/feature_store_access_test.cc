// The feature store's access through its real adapter and a real local identity: every method
// refused to a role without its permission and allowed to one with it, squads kept apart (reads,
// writes, moves, lookups and training sets spanning groups, ingest streams changing group), lists
// kept to the squads the caller sees, and every bad credential UNAUTHENTICATED.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "libs/auth/method_table.h"
#include "tests/services/access_refusals.h"
#include "tests/services/feature_store_test_server.h"
#include "tests/util/access_requests.h"

namespace fabrique::services {
namespace {

using feature_test::AdminContext;
using feature_test::As;
using feature_test::Batch;
using feature_test::BuildAs;
using feature_test::Define;
using feature_test::Groups;
using feature_test::Identity;
using feature_test::LookupOf;
using feature_test::Server;
using testing::CheckDenied;

// Adds entity "card" and group "cards" (limit float), both owned by squad fraud, as the admin.
void DefineFraud(Server& s) {
  v1::ApplyEntityRequest entity;
  entity.mutable_entity()->set_name("card");
  entity.mutable_entity()->set_join_key("card_id");
  entity.mutable_entity()->set_owner_squad("fraud");
  v1::Entity stored;
  REQUIRE(s.stub->ApplyEntity(AdminContext().get(), entity, &stored).ok());
  v1::ApplyFeatureGroupRequest apply;
  apply.mutable_spec()->set_name("cards");
  apply.mutable_spec()->set_entity("card");
  apply.mutable_spec()->set_owner_squad("fraud");
  v1::FeatureSpec* limit = apply.mutable_spec()->add_features();
  limit->set_name("limit");
  limit->set_type(v1::FEATURE_TYPE_FLOAT);
  v1::ApplyFeatureGroupResponse applied;
  REQUIRE(s.stub->ApplyFeatureGroup(AdminContext().get(), apply, &applied).ok());
}

// A dataset read from tx (so owned by risk), recorded directly in lineage.
std::string RiskDataset(Server& s) {
  v1::Dataset dataset;
  v1::VersionedFeatureRef* feature = dataset.add_features();
  feature->mutable_ref()->set_group("tx");
  feature->mutable_ref()->set_feature("amount");
  feature->set_schema_version(1);
  absl::StatusOr<v1::Dataset> recorded = s.store->lineage().RecordDataset(dataset);
  REQUIRE(recorded.ok());
  return recorded->dataset_id();
}

grpc::Status IngestAs(Server& s, grpc::ClientContext* context,
                      const std::vector<v1::IngestRequest>& batches, v1::IngestResponse* response) {
  auto writer = s.stub->Ingest(context, response);
  for (const v1::IngestRequest& batch : batches) {
    if (!writer->Write(batch)) break;
  }
  writer->WritesDone();
  return writer->Finish();
}

using Case = testing::AccessCase<v1::FeatureStore::Stub>;

// Every method's case (tests/util/access_requests.h) on risk's definitions, with a dataset read
// from tx, rows and a label in the server's time.
std::vector<Case> RiskCases(Server& s) {
  testing::FeatureStoreAccess access;
  access.dataset_id = RiskDataset(s);
  v1::GetFeatureGroupRequest get;
  get.set_name("tx");
  v1::FeatureGroup tx;
  REQUIRE(s.stub->GetFeatureGroup(AdminContext().get(), get, &tx).ok());
  access.tx = tx.spec();
  access.ingest = Batch(s, {{"c1", 1, 1.f, "FR"}});
  access.label_time = s.clock.Now();
  return testing::FeatureStoreAccessCases(access);
}

TEST_CASE(
    "feature store: each method allowed to a role holding its permission, refused to one "
    "without") {
  Server s;
  Define(s);
  testing::CheckAccessCases(*s.stub, RiskCases(s), auth::FeatureStoreMethods(), As);
}

TEST_CASE("feature store: every bad credential is UNAUTHENTICATED, forged headers change nothing") {
  Server s;
  Define(s);
  const std::vector<Case> cases = RiskCases(s);
  testing::CheckBadCredentials(*s.stub, cases, Identity());
  // A data scientist of fraud claiming to be root through the old headers is still only that.
  for (const Case& c : cases) {
    if (absl::StartsWith(c.method, "List")) continue;  // Lists are allowed, and filtered.
    INFO(c.method << " with forged x-fabrique-* headers");
    CHECK(c.call(*s.stub, testing::ForgedContext(Identity(), "eve", "fraud").get()).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
  }
}

TEST_CASE("feature store: another squad's groups and datasets are neither read nor written") {
  Server s;
  Define(s);
  const std::string dataset_id = RiskDataset(s);
  const Groups fraud_engineer = {"fraud:data-engineer", "fraud:data-scientist"};

  v1::GetFeatureGroupRequest get;
  get.set_name("tx");
  v1::FeatureGroup group;
  CheckDenied(s.stub->GetFeatureGroup(As("eve", fraud_engineer).get(), get, &group),
              "features.schema.read", "risk");
  REQUIRE(s.stub->GetFeatureGroup(AdminContext().get(), get, &group).ok());

  v1::ApplyFeatureGroupRequest apply;
  *apply.mutable_spec() = group.spec();
  apply.mutable_spec()->set_description("taken over");
  v1::ApplyFeatureGroupResponse applied;
  CheckDenied(s.stub->ApplyFeatureGroup(As("eve", fraud_engineer).get(), apply, &applied),
              "features.schema.write", "risk");
  v1::IngestResponse ingested;
  CheckDenied(
      IngestAs(s, As("eve", fraud_engineer).get(), {Batch(s, {{"c1", 1, 1.f, "FR"}})}, &ingested),
      "features.data.write", "risk");

  v1::GetDatasetRequest get_dataset;
  get_dataset.set_dataset_id(dataset_id);
  v1::Dataset dataset;
  CheckDenied(s.stub->GetDataset(As("eve", fraud_engineer).get(), get_dataset, &dataset),
              "datasets.read", "risk");
  v1::RecordDatasetUsageRequest usage;
  usage.set_dataset_id(dataset_id);
  usage.mutable_model_version()->set_model("churn");
  usage.mutable_model_version()->set_version(1);
  v1::RecordDatasetUsageResponse recorded;
  CheckDenied(
      s.stub->RecordDatasetUsage(As("eve", {"fraud:platform-admin"}).get(), usage, &recorded),
      "datasets.record_usage", "risk");
  // A training set over risk's group, asked by fraud's data scientist.
  const grpc::Status build = BuildAs(s, As("eve", fraud_engineer).get(), {"tx:amount"});
  CheckDenied(build, "datasets.build", "risk");
  CHECK(absl::StrContains(build.error_message(), "feature group 'tx'"));
}

TEST_CASE("feature store: moving an entity or a group to another squad needs both squads") {
  Server s;
  Define(s);
  v1::GetFeatureGroupRequest get;
  get.set_name("tx");
  v1::FeatureGroup group;
  REQUIRE(s.stub->GetFeatureGroup(AdminContext().get(), get, &group).ok());
  v1::ApplyFeatureGroupRequest apply;
  *apply.mutable_spec() = group.spec();
  apply.mutable_spec()->set_owner_squad("fraud");
  v1::ApplyFeatureGroupResponse applied;
  // Risk's engineer may not give it to fraud; fraud's may not take it from risk.
  CheckDenied(s.stub->ApplyFeatureGroup(As("dana", {"risk:data-engineer"}).get(), apply, &applied),
              "features.schema.write", "fraud");
  CheckDenied(s.stub->ApplyFeatureGroup(As("eve", {"fraud:data-engineer"}).get(), apply, &applied),
              "features.schema.write", "risk");
  v1::ApplyEntityRequest entity = testing::RiskCustomer();
  entity.mutable_entity()->set_owner_squad("fraud");
  v1::Entity stored;
  CheckDenied(s.stub->ApplyEntity(As("eve", {"fraud:data-engineer"}).get(), entity, &stored),
              "features.schema.write", "risk");
  // An engineer of both squads may.
  const Groups both = {"risk:data-engineer", "fraud:data-engineer"};
  REQUIRE(s.stub->ApplyEntity(As("lou", both).get(), entity, &stored).ok());
  REQUIRE(s.stub->ApplyFeatureGroup(As("lou", both).get(), apply, &applied).ok());
  REQUIRE(s.stub->GetFeatureGroup(AdminContext().get(), get, &group).ok());
  CHECK(group.spec().owner_squad() == "fraud");
}

TEST_CASE(
    "feature store: lookups, training sets and ingest streams spanning squads are refused "
    "at the first group the caller cannot see") {
  Server s;
  Define(s);
  DefineFraud(s);
  const Groups risk_scientist = {"risk:data-scientist"};
  v1::LookupOnlineResponse looked_up;
  REQUIRE(
      s.stub->LookupOnline(As("dana", risk_scientist).get(), LookupOf({"tx:amount"}), &looked_up)
          .ok());
  const grpc::Status lookup = s.stub->LookupOnline(
      As("dana", risk_scientist).get(), LookupOf({"tx:amount", "cards:limit"}), &looked_up);
  CheckDenied(lookup, "features.data.read", "fraud");
  CHECK(absl::StrContains(lookup.error_message(), "feature group 'cards'"));
  // Someone reading in both squads gets both.
  v1::LookupOnlineRequest both = LookupOf({"tx:amount", "cards:limit"});
  v1::EntityKeys* cards_keys = both.add_entity_keys();
  cards_keys->set_entity("card");
  cards_keys->add_keys("k1");
  const grpc::Status both_read = s.stub->LookupOnline(
      As("lou", {"risk:data-scientist", "fraud:data-scientist"}).get(), both, &looked_up);
  INFO(both_read.error_message());
  CHECK(both_read.ok());

  const grpc::Status build =
      BuildAs(s, As("dana", risk_scientist).get(), {"tx:amount", "cards:limit"});
  CheckDenied(build, "datasets.build", "fraud");
  CHECK(absl::StrContains(build.error_message(), "feature group 'cards'"));

  // An ingest stream that goes on into another squad's group is refused at that batch; the
  // batches before it stay committed.
  v1::IngestRequest cards;
  cards.set_group("cards");
  cards.mutable_rows()->add_entity_keys("k1");
  cards.mutable_rows()->add_event_time_unix_micros(absl::ToUnixMicros(s.clock.Now()));
  v1::FeatureColumn* limit = cards.mutable_rows()->add_columns();
  limit->mutable_feature()->set_feature("limit");
  limit->mutable_values()->mutable_float_values()->add_values(100.f);
  v1::IngestResponse ingested;
  const grpc::Status ingest = IngestAs(s, As("dana", {"risk:data-engineer"}).get(),
                                       {Batch(s, {{"c1", 1, 5.f, "FR"}}), cards}, &ingested);
  CheckDenied(ingest, "features.data.write", "fraud");
  CHECK(absl::StrContains(ingest.error_message(), "batch 1"));
  CHECK(feature_test::Lookup(s, {"c1"}).columns(0).statuses(0) == v1::VALUE_STATUS_PRESENT);
}

TEST_CASE("feature store: lists keep to the squads the caller sees") {
  Server s;
  Define(s);
  DefineFraud(s);
  RiskDataset(s);
  const auto risk = [] { return As("dana", {"risk:data-scientist"}); };
  v1::ListEntitiesResponse entities;
  REQUIRE(s.stub->ListEntities(risk().get(), {}, &entities).ok());
  REQUIRE(entities.entities_size() == 1);
  CHECK(entities.entities(0).name() == "customer");
  v1::ListFeatureGroupsResponse groups;
  REQUIRE(s.stub->ListFeatureGroups(risk().get(), {}, &groups).ok());
  REQUIRE(groups.groups_size() == 1);
  CHECK(groups.groups(0).spec().name() == "tx");
  v1::ListFeaturesResponse features;
  REQUIRE(s.stub->ListFeatures(risk().get(), {}, &features).ok());
  CHECK(features.entries_size() == 2);  // tx's amount and country, not cards' limit.
  for (const v1::CatalogEntry& entry : features.entries()) CHECK(entry.owner_squad() == "risk");
  v1::ListDatasetsResponse datasets;
  REQUIRE(s.stub->ListDatasets(risk().get(), {}, &datasets).ok());
  CHECK(datasets.datasets_size() == 1);
  REQUIRE(s.stub->ListDatasets(As("eve", {"fraud:data-scientist"}).get(), {}, &datasets).ok());
  CHECK(datasets.datasets_size() == 0);
  // A design authority reads every squad's schemas.
  REQUIRE(s.stub->ListFeatureGroups(As("ada", {"risk:design-authority"}).get(), {}, &groups).ok());
  CHECK(groups.groups_size() == 2);
  // Asking for a squad one cannot see is refused, not answered empty.
  v1::ListFeatureGroupsRequest fraud_groups;
  fraud_groups.set_owner_squad("fraud");
  CheckDenied(s.stub->ListFeatureGroups(risk().get(), fraud_groups, &groups),
              "features.schema.read", "fraud");
  v1::ListFeaturesRequest fraud_features;
  fraud_features.set_owner_squad("fraud");
  CheckDenied(s.stub->ListFeatures(risk().get(), fraud_features, &features), "features.schema.read",
              "fraud");
  v1::ListDatasetsRequest cards_datasets;
  cards_datasets.set_group("cards");
  CheckDenied(s.stub->ListDatasets(risk().get(), cards_datasets, &datasets), "datasets.read",
              "fraud");
}

}  // namespace
}  // namespace fabrique::services
