// Derived features in the catalog: compiled when a group is applied (the expression's errors
// with their position, result types that must fit the declared type, what an expression may
// read), kept with the validation plan, and fixed once applied.

#include "libs/features/catalog/derived_features.h"

#include <string>

#include "catalog_test_util.h"

namespace fabrique::features {
namespace {

using testing::ApplyRequest;
using testing::CatalogFixture;
using testing::MakeEntity;
using testing::MakeFeature;
using testing::MakeGroup;

v1::FeatureSpec Derived(const std::string& name, v1::FeatureType type,
                        const std::string& expression) {
  v1::FeatureSpec feature = MakeFeature(name, type);
  feature.set_expression(expression);
  return feature;
}

v1::FeatureGroupSpec Orders(std::initializer_list<v1::FeatureSpec> derived) {
  v1::FeatureGroupSpec spec = MakeGroup(
      "orders", "customer",
      {MakeFeature("amount", v1::FEATURE_TYPE_FLOAT), MakeFeature("items", v1::FEATURE_TYPE_INT64),
       MakeFeature("city", v1::FEATURE_TYPE_STRING),
       MakeFeature("embedding", v1::FEATURE_TYPE_FLOAT_VECTOR)});
  for (const v1::FeatureSpec& feature : derived) *spec.add_features() = feature;
  return spec;
}

TEST_CASE("derived features compile in spec order, each reading the ones before it",
          "[catalog][derived]") {
  auto derived =
      CompileDerivedFeatures(Orders({Derived("ratio", v1::FEATURE_TYPE_DOUBLE, "amount / items"),
                                     Derived("ratio_log", v1::FEATURE_TYPE_FLOAT, "log1p(ratio)"),
                                     Derived("items_f", v1::FEATURE_TYPE_DOUBLE, "items * 2")}));
  CATALOG_REQUIRE_OK(derived);
  REQUIRE(derived->size() == 3);
  CHECK((*derived)[0].index == 4);
  CHECK((*derived)[1].name == "ratio_log");
  CHECK((*derived)[1].expression->inputs() == std::vector<std::string>{"ratio"});
  CHECK((*derived)[2].expression->result_type() == v1::FEATURE_TYPE_INT64);
  CHECK((*derived)[2].type == v1::FEATURE_TYPE_DOUBLE);
  CATALOG_REQUIRE_OK(CompileDerivedFeatures(Orders({})));
  CHECK(CompileDerivedFeatures(Orders({}))->empty());
}

TEST_CASE("a derived feature cannot read itself or one listed after it", "[catalog][derived]") {
  CATALOG_REQUIRE_ERROR(
      CompileDerivedFeatures(Orders({Derived("a", v1::FEATURE_TYPE_DOUBLE, "b + 1"),
                                     Derived("b", v1::FEATURE_TYPE_DOUBLE, "amount")})),
      absl::StatusCode::kInvalidArgument,
      "feature group \"orders\": feature \"a\": expression \"b + 1\": position 1: unknown "
      "feature \"b\"");
  CATALOG_REQUIRE_ERROR(
      CompileDerivedFeatures(Orders({Derived("a", v1::FEATURE_TYPE_DOUBLE, "a + 1")})),
      absl::StatusCode::kInvalidArgument, "unknown feature \"a\"");
}

TEST_CASE("the result must fit the declared type", "[catalog][derived]") {
  CATALOG_REQUIRE_ERROR(
      CompileDerivedFeatures(Orders({Derived("r", v1::FEATURE_TYPE_INT64, "amount / items")})),
      absl::StatusCode::kInvalidArgument,
      "feature \"r\": expression \"amount / items\" gives double, which does not fit the "
      "declared type int64");
  CATALOG_REQUIRE_ERROR(
      CompileDerivedFeatures(Orders({Derived("r", v1::FEATURE_TYPE_STRING, "items > 2")})),
      absl::StatusCode::kInvalidArgument,
      "gives bool, which does not fit the declared type string");
  CATALOG_REQUIRE_ERROR(
      CompileDerivedFeatures(Orders({Derived("r", v1::FEATURE_TYPE_FLOAT_VECTOR, "amount")})),
      absl::StatusCode::kInvalidArgument, "which an expression cannot compute");
  CATALOG_REQUIRE_ERROR(
      CompileDerivedFeatures(Orders({Derived("r", v1::FEATURE_TYPE_DOUBLE, "embedding * 2")})),
      absl::StatusCode::kInvalidArgument, "feature \"embedding\" is a FLOAT_VECTOR");
}

TEST_CASE("apply compiles expressions, keeps them with the plan, and fixes them",
          "[catalog][derived]") {
  CatalogFixture f;
  CATALOG_REQUIRE_OK(f.catalog->ApplyEntity(MakeEntity("customer", "customer_id")));
  const v1::Principal caller;
  // Refused, also when only validating.
  CATALOG_REQUIRE_ERROR(
      f.catalog->ApplyFeatureGroup(
          ApplyRequest(Orders({Derived("r", v1::FEATURE_TYPE_DOUBLE, "amount / itms")}), 0,
                       /*validate_only=*/true),
          caller),
      absl::StatusCode::kInvalidArgument,
      "expression \"amount / itms\": position 10: unknown feature \"itms\"");
  const v1::FeatureGroupSpec spec =
      Orders({Derived("ratio", v1::FEATURE_TYPE_DOUBLE, "amount / items")});
  CATALOG_REQUIRE_OK(f.catalog->ApplyFeatureGroup(ApplyRequest(spec), caller));
  auto plan = f.catalog->PlanFor("orders");
  CATALOG_REQUIRE_OK(plan);
  REQUIRE((*plan)->derived().size() == 1);
  CHECK((*plan)->derived()[0].expression->text() == "amount / items");

  v1::FeatureGroupSpec changed = spec;
  changed.mutable_features(4)->set_expression("amount * items");
  CATALOG_REQUIRE_ERROR(f.catalog->ApplyFeatureGroup(ApplyRequest(changed), caller),
                        absl::StatusCode::kFailedPrecondition,
                        "feature \"ratio\" would change its expression from \"amount / items\" "
                        "to \"amount * items\"");
  v1::FeatureGroupSpec plain = spec;
  plain.mutable_features(4)->clear_expression();
  CATALOG_REQUIRE_ERROR(f.catalog->ApplyFeatureGroup(ApplyRequest(plain), caller),
                        absl::StatusCode::kFailedPrecondition,
                        "feature \"ratio\" would lose its expression \"amount / items\"");
  v1::FeatureGroupSpec made_derived = spec;
  made_derived.mutable_features(1)->set_expression("2");
  CATALOG_REQUIRE_ERROR(f.catalog->ApplyFeatureGroup(ApplyRequest(made_derived), caller),
                        absl::StatusCode::kFailedPrecondition,
                        "feature \"items\" would become derived");
  // Metadata still changes in place.
  v1::FeatureGroupSpec described = spec;
  described.mutable_features(4)->set_description("amount per item");
  CATALOG_REQUIRE_OK(f.catalog->ApplyFeatureGroup(ApplyRequest(described), caller));
  CHECK(f.catalog->GetFeatureGroup("orders", 0)->schema_version() == 1);
}

}  // namespace
}  // namespace fabrique::features
