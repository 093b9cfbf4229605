// Catalog: applying entities and groups, schema evolution, optimistic concurrency, validate_only,
// persistence across reopen, and that a definition is visible as soon as its apply returns.

#include "libs/features/catalog/catalog.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "catalog_test_util.h"
#include "libs/kv/key_codec.h"

namespace fabrique::features {
namespace {

using testing::ApplyRequest;
using testing::CatalogFixture;
using testing::CatalogOptions;
using testing::MakeEntity;
using testing::MakeFeature;
using testing::MakeGroup;
using testing::OpenStore;
using testing::TempDir;

v1::FeatureGroupSpec PaymentsV1() {
  v1::FeatureGroupSpec spec = MakeGroup("payments", "customer",
                                        {MakeFeature("amount", v1::FEATURE_TYPE_FLOAT),
                                         MakeFeature("country", v1::FEATURE_TYPE_STRING)});
  spec.set_owner_squad("fraud");
  spec.set_description("Card payments");
  (*spec.mutable_tags())["pii"] = "no";
  spec.mutable_ttl()->set_seconds(86400);
  return spec;
}

// PaymentsV1 plus "merchant_count" (int64), listed first to show that order does not matter.
v1::FeatureGroupSpec PaymentsV2() {
  v1::FeatureGroupSpec spec = PaymentsV1();
  v1::FeatureGroupSpec reordered = spec;
  reordered.clear_features();
  *reordered.add_features() = MakeFeature("merchant_count", v1::FEATURE_TYPE_INT64);
  *reordered.add_features() = spec.features(1);
  *reordered.add_features() = spec.features(0);
  return reordered;
}

struct Fixture : CatalogFixture {
  Fixture() { CATALOG_REQUIRE_OK(catalog->ApplyEntity(MakeEntity("customer", "customer_id"))); }
};

TEST_CASE("Entities are created, updated and read back", "[catalog][entity]") {
  CatalogFixture fixture;
  Catalog& catalog = *fixture.catalog;
  v1::Entity customer = MakeEntity("customer", "customer_id");
  customer.set_description("A bank customer");
  absl::StatusOr<v1::Entity> created = catalog.ApplyEntity(customer);
  CATALOG_REQUIRE_OK(created);
  REQUIRE(created->create_time().seconds() == 1'700'000'000);
  REQUIRE(created->update_time().seconds() == 1'700'000'000);

  fixture.clock.Advance(absl::Seconds(60));
  customer.set_owner_squad("crm");
  (*customer.mutable_tags())["domain"] = "retail";
  absl::StatusOr<v1::Entity> updated = catalog.ApplyEntity(customer);
  CATALOG_REQUIRE_OK(updated);
  REQUIRE(updated->create_time().seconds() == 1'700'000'000);
  REQUIRE(updated->update_time().seconds() == 1'700'000'060);

  absl::StatusOr<v1::Entity> read = catalog.GetEntity("customer");
  CATALOG_REQUIRE_OK(read);
  REQUIRE(read->owner_squad() == "crm");
  REQUIRE(read->tags().at("domain") == "retail");

  // Re-applying the same definition changes nothing, not even the update time.
  fixture.clock.Advance(absl::Seconds(60));
  REQUIRE(catalog.ApplyEntity(customer)->update_time().seconds() == 1'700'000'060);

  CATALOG_REQUIRE_ERROR(catalog.ApplyEntity(MakeEntity("customer", "client_id")),
                        absl::StatusCode::kFailedPrecondition, "join key \"customer_id\"");
  CATALOG_REQUIRE_ERROR(catalog.GetEntity("merchant"), absl::StatusCode::kNotFound,
                        "entity \"merchant\"");
}

TEST_CASE("A group is created at schema version 1", "[catalog][group]") {
  Fixture fixture;
  v1::Principal alice;
  alice.set_subject("alice");
  absl::StatusOr<v1::ApplyFeatureGroupResponse> applied =
      fixture.catalog->ApplyFeatureGroup(ApplyRequest(PaymentsV1()), alice);
  CATALOG_REQUIRE_OK(applied);
  REQUIRE(applied->created());
  REQUIRE(std::vector<std::string>(applied->added_features().begin(),
                                   applied->added_features().end()) ==
          std::vector<std::string>{"amount", "country"});
  const v1::FeatureGroup& group = applied->group();
  REQUIRE(group.schema_version() == 1);
  REQUIRE(group.spec().features(0).since_version() == 1);
  REQUIRE(group.updated_by().subject() == "alice");
  REQUIRE(group.create_time().seconds() == 1'700'000'000);

  absl::StatusOr<v1::FeatureGroup> read = fixture.catalog->GetFeatureGroup("payments");
  CATALOG_REQUIRE_OK(read);
  REQUIRE(read->spec().description() == "Card payments");
  CATALOG_REQUIRE_ERROR(fixture.catalog->GetFeatureGroup("refunds"), absl::StatusCode::kNotFound,
                        "feature group \"refunds\"");
  CATALOG_REQUIRE_ERROR(fixture.catalog->GetFeatureGroup("payments", 2),
                        absl::StatusCode::kNotFound, "no schema version 2; the latest is 1");
  CATALOG_REQUIRE_ERROR(fixture.catalog->GetFeatureGroup("payments", -1),
                        absl::StatusCode::kInvalidArgument, "schema_version -1");
}

TEST_CASE("Adding features makes a new schema version; old versions stay readable",
          "[catalog][evolution]") {
  Fixture fixture;
  Catalog& catalog = *fixture.catalog;
  CATALOG_REQUIRE_OK(catalog.ApplyFeatureGroup(ApplyRequest(PaymentsV1())));
  fixture.clock.Advance(absl::Seconds(10));
  absl::StatusOr<v1::ApplyFeatureGroupResponse> applied =
      catalog.ApplyFeatureGroup(ApplyRequest(PaymentsV2()));
  CATALOG_REQUIRE_OK(applied);
  REQUIRE_FALSE(applied->created());
  REQUIRE(applied->added_features_size() == 1);
  REQUIRE(applied->added_features(0) == "merchant_count");

  const v1::FeatureGroup& v2 = applied->group();
  REQUIRE(v2.schema_version() == 2);
  // Existing features keep their positions; the added one goes last.
  REQUIRE(v2.spec().features(0).name() == "amount");
  REQUIRE(v2.spec().features(0).since_version() == 1);
  REQUIRE(v2.spec().features(1).name() == "country");
  REQUIRE(v2.spec().features(2).name() == "merchant_count");
  REQUIRE(v2.spec().features(2).since_version() == 2);
  REQUIRE(v2.create_time().seconds() == 1'700'000'000);
  REQUIRE(v2.update_time().seconds() == 1'700'000'010);

  absl::StatusOr<v1::FeatureGroup> v1_read = catalog.GetFeatureGroup("payments", 1);
  CATALOG_REQUIRE_OK(v1_read);
  REQUIRE(v1_read->schema_version() == 1);
  REQUIRE(v1_read->spec().features_size() == 2);
  REQUIRE(catalog.GetFeatureGroup("payments", 2)->spec().features_size() == 3);
  REQUIRE(catalog.GetFeatureGroup("payments")->schema_version() == 2);
  REQUIRE((*catalog.PlanFor("payments"))->schema_version() == 2);
}

TEST_CASE("Removing or retyping a feature is FAILED_PRECONDITION naming it",
          "[catalog][evolution]") {
  Fixture fixture;
  Catalog& catalog = *fixture.catalog;
  v1::FeatureGroupSpec spec = PaymentsV1();
  *spec.add_features() = MakeFeature("embedding", v1::FEATURE_TYPE_FLOAT_VECTOR);
  spec.mutable_features(2)->set_vector_length(16);
  CATALOG_REQUIRE_OK(catalog.ApplyFeatureGroup(ApplyRequest(spec)));

  v1::FeatureGroupSpec retyped = spec;
  retyped.mutable_features(0)->set_type(v1::FEATURE_TYPE_DOUBLE);
  CATALOG_REQUIRE_ERROR(catalog.ApplyFeatureGroup(ApplyRequest(retyped)),
                        absl::StatusCode::kFailedPrecondition,
                        "feature \"amount\" would change type from float to double");

  v1::FeatureGroupSpec removed = spec;
  removed.mutable_features()->DeleteSubrange(1, 1);
  *removed.add_features() = MakeFeature("new_one", v1::FEATURE_TYPE_BOOL);
  CATALOG_REQUIRE_ERROR(catalog.ApplyFeatureGroup(ApplyRequest(removed)),
                        absl::StatusCode::kFailedPrecondition,
                        "feature \"country\" would be removed");

  v1::FeatureGroupSpec resized = spec;
  resized.mutable_features(2)->set_vector_length(32);
  CATALOG_REQUIRE_ERROR(catalog.ApplyFeatureGroup(ApplyRequest(resized)),
                        absl::StatusCode::kFailedPrecondition,
                        "feature \"embedding\" would change vector_length from 16 to 32");

  v1::FeatureGroupSpec moved = spec;
  CATALOG_REQUIRE_OK(catalog.ApplyEntity(MakeEntity("merchant", "merchant_id")));
  moved.set_entity("merchant");
  CATALOG_REQUIRE_ERROR(catalog.ApplyFeatureGroup(ApplyRequest(moved)),
                        absl::StatusCode::kFailedPrecondition, "entity \"customer\"");

  // Nothing of the refused applies was stored.
  const v1::FeatureGroup current = *catalog.GetFeatureGroup("payments");
  REQUIRE(current.schema_version() == 1);
  REQUIRE(current.spec().features(0).type() == v1::FEATURE_TYPE_FLOAT);
  REQUIRE(current.spec().features_size() == 3);
}

TEST_CASE("Metadata changes keep the schema version and apply to later validation",
          "[catalog][evolution]") {
  Fixture fixture;
  Catalog& catalog = *fixture.catalog;
  CATALOG_REQUIRE_OK(catalog.ApplyFeatureGroup(ApplyRequest(PaymentsV1())));
  std::shared_ptr<const ValidationPlan> before = *catalog.PlanFor("payments");

  v1::FeatureGroupSpec spec = PaymentsV1();
  spec.set_description("Card and wire payments");
  spec.set_owner_squad("payments");
  spec.mutable_ttl()->set_seconds(3600);
  spec.mutable_retention()->set_seconds(86400 * 365);
  (*spec.mutable_tags())["tier"] = "gold";
  spec.mutable_features(0)->set_description("Amount in euros");
  spec.mutable_features(0)->mutable_expectations()->mutable_min_value()->set_value(0);
  fixture.clock.Advance(absl::Seconds(5));
  absl::StatusOr<v1::ApplyFeatureGroupResponse> applied =
      catalog.ApplyFeatureGroup(ApplyRequest(spec));
  CATALOG_REQUIRE_OK(applied);
  REQUIRE(applied->added_features_size() == 0);
  REQUIRE(applied->group().schema_version() == 1);
  REQUIRE(applied->group().update_time().seconds() == 1'700'000'005);

  const v1::FeatureGroup read = *catalog.GetFeatureGroup("payments", 1);
  REQUIRE(read.spec().owner_squad() == "payments");
  REQUIRE(read.spec().ttl().seconds() == 3600);
  REQUIRE(read.spec().features(0).description() == "Amount in euros");

  // The new expectation applies to the next batch validated; the old plan is untouched.
  std::shared_ptr<const ValidationPlan> after = *catalog.PlanFor("payments");
  REQUIRE(after != before);
  v1::RowBatch batch;
  batch.add_entity_keys("c1");
  batch.add_event_time_unix_micros(absl::ToUnixMicros(fixture.clock.Now()));
  v1::FeatureColumn* column = batch.add_columns();
  column->mutable_feature()->set_feature("amount");
  column->mutable_values()->mutable_float_values()->add_values(-1);
  REQUIRE(before->Validate(batch)->rejected_rows == 0);
  REQUIRE(after->Validate(batch)->rejected_rows == 1);

  // Re-applying the same spec is a no-op: no write, same update time.
  fixture.clock.Advance(absl::Seconds(5));
  applied = catalog.ApplyFeatureGroup(ApplyRequest(spec));
  CATALOG_REQUIRE_OK(applied);
  REQUIRE(applied->group().update_time().seconds() == 1'700'000'005);
  REQUIRE(*catalog.PlanFor("payments") == after);
}

TEST_CASE("expected_schema_version guards against concurrent applies", "[catalog][concurrency]") {
  Fixture fixture;
  Catalog& catalog = *fixture.catalog;
  CATALOG_REQUIRE_ERROR(catalog.ApplyFeatureGroup(ApplyRequest(PaymentsV1(), 1)),
                        absl::StatusCode::kAborted, "does not exist");
  CATALOG_REQUIRE_OK(catalog.ApplyFeatureGroup(ApplyRequest(PaymentsV1(), 0)));
  CATALOG_REQUIRE_ERROR(catalog.ApplyFeatureGroup(ApplyRequest(PaymentsV2(), 2)),
                        absl::StatusCode::kAborted, "is at schema version 1");
  CATALOG_REQUIRE_OK(catalog.ApplyFeatureGroup(ApplyRequest(PaymentsV2(), 1)));
  // A second writer that read version 1 loses.
  v1::FeatureGroupSpec other = PaymentsV1();
  *other.add_features() = MakeFeature("late", v1::FEATURE_TYPE_BOOL);
  CATALOG_REQUIRE_ERROR(catalog.ApplyFeatureGroup(ApplyRequest(other, 1)),
                        absl::StatusCode::kAborted, "not at the expected schema version 1");
}

TEST_CASE("validate_only reports the outcome and stores nothing", "[catalog][validate_only]") {
  Fixture fixture;
  Catalog& catalog = *fixture.catalog;
  absl::StatusOr<v1::ApplyFeatureGroupResponse> dry =
      catalog.ApplyFeatureGroup(ApplyRequest(PaymentsV1(), 0, /*validate_only=*/true));
  CATALOG_REQUIRE_OK(dry);
  REQUIRE(dry->created());
  REQUIRE(dry->group().schema_version() == 1);
  CATALOG_REQUIRE_ERROR(catalog.GetFeatureGroup("payments"), absl::StatusCode::kNotFound,
                        "payments");

  CATALOG_REQUIRE_OK(catalog.ApplyFeatureGroup(ApplyRequest(PaymentsV1())));
  dry = catalog.ApplyFeatureGroup(ApplyRequest(PaymentsV2(), 1, /*validate_only=*/true));
  CATALOG_REQUIRE_OK(dry);
  REQUIRE(dry->group().schema_version() == 2);
  REQUIRE(dry->added_features(0) == "merchant_count");
  REQUIRE(catalog.GetFeatureGroup("payments")->schema_version() == 1);
  CATALOG_REQUIRE_ERROR(catalog.GetFeatureGroup("payments", 2), absl::StatusCode::kNotFound,
                        "no schema version 2");

  v1::FeatureGroupSpec retyped = PaymentsV1();
  retyped.mutable_features(1)->set_type(v1::FEATURE_TYPE_INT64);
  CATALOG_REQUIRE_ERROR(catalog.ApplyFeatureGroup(ApplyRequest(retyped, 0, true)),
                        absl::StatusCode::kFailedPrecondition, "feature \"country\"");
}

TEST_CASE("Reopening the store restores every definition", "[catalog][persistence]") {
  TempDir dir;
  const std::string path = dir.path() + "/kv";
  core::FakeClock clock;
  {
    std::unique_ptr<kv::Store> store = OpenStore(path, /*in_memory=*/false);
    std::unique_ptr<Catalog> catalog = *Catalog::Create(CatalogOptions(store.get(), &clock));
    CATALOG_REQUIRE_OK(catalog->ApplyEntity(MakeEntity("customer", "customer_id")));
    CATALOG_REQUIRE_OK(catalog->ApplyFeatureGroup(ApplyRequest(PaymentsV1())));
    CATALOG_REQUIRE_OK(catalog->ApplyFeatureGroup(ApplyRequest(PaymentsV2())));
    v1::FeatureGroupSpec described = PaymentsV2();
    described.set_description("after v2");
    CATALOG_REQUIRE_OK(catalog->ApplyFeatureGroup(ApplyRequest(described)));
    catalog.reset();
    CATALOG_REQUIRE_OK(store->Close());
  }
  std::unique_ptr<kv::Store> store = OpenStore(path, /*in_memory=*/false);
  REQUIRE(store->Family("catalog").ok());
  std::unique_ptr<Catalog> catalog = *Catalog::Create(CatalogOptions(store.get(), &clock));
  REQUIRE(catalog->GetEntity("customer")->join_key() == "customer_id");
  const v1::FeatureGroup latest = *catalog->GetFeatureGroup("payments");
  REQUIRE(latest.schema_version() == 2);
  REQUIRE(latest.spec().description() == "after v2");
  REQUIRE(latest.spec().features(2).since_version() == 2);
  REQUIRE(catalog->GetFeatureGroup("payments", 1)->spec().features_size() == 2);
  REQUIRE((*catalog->PlanFor("payments"))->schema_version() == 2);
  // And it keeps evolving from there.
  v1::FeatureGroupSpec v3 = PaymentsV2();
  *v3.add_features() = MakeFeature("is_online", v1::FEATURE_TYPE_BOOL);
  REQUIRE(catalog->ApplyFeatureGroup(ApplyRequest(v3, 2))->group().schema_version() == 3);
}

TEST_CASE("A corrupt record is DATA_LOSS at open", "[catalog][persistence]") {
  CatalogFixture fixture;
  CATALOG_REQUIRE_OK(fixture.catalog->ApplyEntity(MakeEntity("customer", "customer_id")));
  const kv::ColumnFamily family = *fixture.store->Family("catalog");
  CATALOG_REQUIRE_OK(
      fixture.store->Put(family, kv::KeyBuilder().AddUint8(2).AddString("g").key(), "garbage"));
  CATALOG_REQUIRE_ERROR(Catalog::Create(CatalogOptions(fixture.store.get())),
                        absl::StatusCode::kDataLoss, "is corrupt");
  CATALOG_REQUIRE_ERROR(Catalog::Create({}), absl::StatusCode::kInvalidArgument, "no store");
}

TEST_CASE("A definition is visible to every reader as soon as its apply returns",
          "[catalog][consistency]") {
  Fixture fixture;
  Catalog& catalog = *fixture.catalog;
  CATALOG_REQUIRE_OK(catalog.ApplyFeatureGroup(ApplyRequest(PaymentsV1())));
  std::atomic<int32_t> acknowledged{1};
  std::atomic<bool> stale{false}, done{false};
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&] {
      while (!done.load()) {
        const int32_t floor = acknowledged.load();
        if ((*catalog.PlanFor("payments"))->schema_version() < floor ||
            catalog.GetFeatureGroup("payments")->schema_version() < floor) {
          stale = true;
        }
      }
    });
  }
  v1::FeatureGroupSpec spec = PaymentsV1();
  for (int version = 2; version <= 30; ++version) {
    *spec.add_features() = MakeFeature("f" + std::to_string(version), v1::FEATURE_TYPE_DOUBLE);
    absl::StatusOr<v1::ApplyFeatureGroupResponse> applied =
        catalog.ApplyFeatureGroup(ApplyRequest(spec, version - 1));
    CATALOG_REQUIRE_OK(applied);
    acknowledged = applied->group().schema_version();
  }
  done = true;
  for (std::thread& reader : readers) reader.join();
  REQUIRE_FALSE(stale.load());
  REQUIRE(catalog.GetFeatureGroup("payments")->schema_version() == 30);
}

}  // namespace
}  // namespace fabrique::features
