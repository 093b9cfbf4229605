// Data classification in the catalog: the data steward's ClassifyFeatures sets a group's or a
// feature's sensitivity; applies keep it (and refuse to change it); it survives a reopen.

#include "libs/features/catalog/classification.h"

#include "catch2/catch.hpp"
#include "libs/features/catalog/catalog.h"
#include "tests/features/catalog/catalog_test_util.h"

namespace fabrique::features {
namespace {

using testing::ApplyRequest;
using testing::CatalogFixture;
using testing::MakeEntity;
using testing::MakeFeature;
using testing::MakeGroup;

v1::FeatureGroupSpec Customers() {
  return MakeGroup(
      "customers", "customer",
      {MakeFeature("email", v1::FEATURE_TYPE_STRING), MakeFeature("age", v1::FEATURE_TYPE_INT64),
       MakeFeature("segment", v1::FEATURE_TYPE_STRING)});
}

v1::ClassifyFeaturesRequest Classify(const std::string& feature, v1::Sensitivity sensitivity,
                                     const std::string& reason = "GDPR art. 4") {
  v1::ClassifyFeaturesRequest request;
  request.set_group("customers");
  request.set_feature(feature);
  request.set_sensitivity(sensitivity);
  request.set_reason(reason);
  return request;
}

void Define(Catalog& catalog) {
  CATALOG_REQUIRE_OK(catalog.ApplyEntity(MakeEntity("customer", "customer_id")));
  CATALOG_REQUIRE_OK(catalog.ApplyFeatureGroup(ApplyRequest(Customers())));
}

const GroupEntry& Entry(const Catalog& catalog, const std::string& group) {
  return *catalog.Snapshot()->groups.at(group);
}

TEST_CASE("classification: unset is the group's, and a group unset is INTERNAL") {
  v1::FeatureGroupSpec spec = Customers();
  CHECK(GroupSensitivity(spec) == v1::SENSITIVITY_INTERNAL);
  CHECK(EffectiveSensitivity(spec, spec.features(0)) == v1::SENSITIVITY_INTERNAL);
  spec.set_sensitivity(v1::SENSITIVITY_PERSONAL_DATA);
  spec.mutable_features(2)->set_sensitivity(v1::SENSITIVITY_PUBLIC);
  CHECK(EffectiveSensitivity(spec, spec.features(0)) == v1::SENSITIVITY_PERSONAL_DATA);
  CHECK(EffectiveSensitivity(spec, spec.features(2)) == v1::SENSITIVITY_PUBLIC);
  CHECK(PersonalFeatures(spec) == std::vector<std::string>{"age", "email"});
}

TEST_CASE("classification: a steward's classification is stored, listed and kept in memory") {
  CatalogFixture f;
  Define(*f.catalog);
  f.clock.Advance(absl::Minutes(1));
  v1::Principal steward;
  steward.set_subject("sam");
  auto classified =
      f.catalog->ClassifyFeatures(Classify("email", v1::SENSITIVITY_PERSONAL_DATA), steward);
  CATALOG_REQUIRE_OK(classified);
  CHECK(classified->schema_version() == 1);  // Metadata: the version stays.
  CHECK(classified->updated_by().subject() == "sam");
  CHECK(classified->spec().features(0).sensitivity() == v1::SENSITIVITY_PERSONAL_DATA);
  CHECK(classified->spec().features(0).sensitivity_reason() == "GDPR art. 4");
  CHECK(Entry(*f.catalog, "customers").personal == std::vector<std::string>{"email"});

  // The group as a whole: every feature without its own sensitivity follows it.
  CATALOG_REQUIRE_OK(f.catalog->ClassifyFeatures(Classify("", v1::SENSITIVITY_CONFIDENTIAL)));
  CATALOG_REQUIRE_OK(f.catalog->ClassifyFeatures(Classify("age", v1::SENSITIVITY_PERSONAL_DATA)));
  auto listed = f.catalog->ListFeatures({});
  CATALOG_REQUIRE_OK(listed);
  std::map<std::string, v1::Sensitivity> effective;
  for (const v1::CatalogEntry& entry : listed->entries()) {
    effective[entry.ref().feature()] = entry.sensitivity();
  }
  CHECK(effective ==
        std::map<std::string, v1::Sensitivity>{{"email", v1::SENSITIVITY_PERSONAL_DATA},
                                               {"age", v1::SENSITIVITY_PERSONAL_DATA},
                                               {"segment", v1::SENSITIVITY_CONFIDENTIAL}});
  auto group = f.catalog->GetFeatureGroup("customers");
  CATALOG_REQUIRE_OK(group);
  CHECK(group->spec().sensitivity() == v1::SENSITIVITY_CONFIDENTIAL);
  CHECK(Entry(*f.catalog, "customers").personal == std::vector<std::string>{"age", "email"});

  // Back to the group's.
  CATALOG_REQUIRE_OK(f.catalog->ClassifyFeatures(Classify("age", v1::SENSITIVITY_UNSPECIFIED)));
  CHECK(Entry(*f.catalog, "customers").personal == std::vector<std::string>{"email"});
}

TEST_CASE("classification: a re-apply keeps it, an apply may not change it") {
  CatalogFixture f;
  Define(*f.catalog);
  CATALOG_REQUIRE_OK(f.catalog->ClassifyFeatures(Classify("email", v1::SENSITIVITY_PERSONAL_DATA)));
  const int64_t update_seconds = f.catalog->GetFeatureGroup("customers")->update_time().seconds();
  f.clock.Advance(absl::Minutes(1));

  // The engineer's spec file, which never names a sensitivity: nothing changes.
  auto reapplied = f.catalog->ApplyFeatureGroup(ApplyRequest(Customers()));
  CATALOG_REQUIRE_OK(reapplied);
  CHECK(reapplied->group().spec().features(0).sensitivity() == v1::SENSITIVITY_PERSONAL_DATA);
  CHECK(reapplied->group().update_time().seconds() == update_seconds);

  // A description change and an added feature: a new version, the classification carried on.
  v1::FeatureGroupSpec grown = Customers();
  grown.set_description("who our customers are");
  *grown.add_features() = MakeFeature("phone", v1::FEATURE_TYPE_STRING);
  auto applied = f.catalog->ApplyFeatureGroup(ApplyRequest(grown));
  CATALOG_REQUIRE_OK(applied);
  CHECK(applied->group().schema_version() == 2);
  CHECK(applied->group().spec().features(0).sensitivity() == v1::SENSITIVITY_PERSONAL_DATA);
  CHECK(applied->group().spec().features(0).sensitivity_reason() == "GDPR art. 4");
  CHECK(Entry(*f.catalog, "customers").personal == std::vector<std::string>{"email"});

  // Declassifying, or classifying a new feature, through an apply is refused.
  v1::FeatureGroupSpec declassified = grown;
  declassified.mutable_features(0)->set_sensitivity(v1::SENSITIVITY_PUBLIC);
  CATALOG_REQUIRE_ERROR(
      f.catalog->ApplyFeatureGroup(ApplyRequest(declassified)),
      absl::StatusCode::kFailedPrecondition,
      "feature \"email\" would change sensitivity from SENSITIVITY_PERSONAL_DATA");
  v1::FeatureGroupSpec group_level = grown;
  group_level.set_sensitivity(v1::SENSITIVITY_PUBLIC);
  CATALOG_REQUIRE_ERROR(f.catalog->ApplyFeatureGroup(ApplyRequest(group_level)),
                        absl::StatusCode::kFailedPrecondition, "ClassifyFeatures");
  v1::FeatureGroupSpec new_personal = grown;
  v1::FeatureSpec* address = new_personal.add_features();
  *address = MakeFeature("address", v1::FEATURE_TYPE_STRING);
  address->set_sensitivity(v1::SENSITIVITY_PERSONAL_DATA);
  CATALOG_REQUIRE_ERROR(f.catalog->ApplyFeatureGroup(ApplyRequest(new_personal)),
                        absl::StatusCode::kFailedPrecondition, "feature \"address\"");
  // Naming the stored value is no change.
  v1::FeatureGroupSpec named = grown;
  named.mutable_features(0)->set_sensitivity(v1::SENSITIVITY_PERSONAL_DATA);
  CATALOG_REQUIRE_OK(f.catalog->ApplyFeatureGroup(ApplyRequest(named)));
}

TEST_CASE("classification: it survives a reopen of the catalog") {
  CatalogFixture f;
  Define(*f.catalog);
  CATALOG_REQUIRE_OK(f.catalog->ClassifyFeatures(Classify("email", v1::SENSITIVITY_PERSONAL_DATA)));
  auto reopened = Catalog::Create(testing::CatalogOptions(f.store.get(), &f.clock));
  CATALOG_REQUIRE_OK(reopened);
  auto group = (*reopened)->GetFeatureGroup("customers");
  CATALOG_REQUIRE_OK(group);
  CHECK(group->spec().features(0).sensitivity() == v1::SENSITIVITY_PERSONAL_DATA);
  CHECK(Entry(**reopened, "customers").personal == std::vector<std::string>{"email"});
}

TEST_CASE("classification: errors name what is wrong") {
  CatalogFixture f;
  Define(*f.catalog);
  CATALOG_REQUIRE_ERROR(f.catalog->ClassifyFeatures(Classify("email", v1::SENSITIVITY_PUBLIC, "")),
                        absl::StatusCode::kInvalidArgument, "reason is required");
  CATALOG_REQUIRE_ERROR(
      f.catalog->ClassifyFeatures(Classify("email", static_cast<v1::Sensitivity>(42))),
      absl::StatusCode::kInvalidArgument, "42");
  CATALOG_REQUIRE_ERROR(f.catalog->ClassifyFeatures(Classify("shoe_size", v1::SENSITIVITY_PUBLIC)),
                        absl::StatusCode::kNotFound, "no feature \"shoe_size\"");
  v1::ClassifyFeaturesRequest unknown = Classify("", v1::SENSITIVITY_PUBLIC);
  unknown.set_group("nope");
  CATALOG_REQUIRE_ERROR(f.catalog->ClassifyFeatures(unknown), absl::StatusCode::kNotFound,
                        "\"nope\"");
}

}  // namespace
}  // namespace fabrique::features
