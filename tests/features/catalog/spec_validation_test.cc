// Validation of definitions: every rule of names.h and spec_validation.h is refused with
// INVALID_ARGUMENT naming the culprit, directly and through Catalog (which stores nothing).

#include "libs/features/catalog/spec_validation.h"

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "catalog_test_util.h"
#include "libs/features/catalog/names.h"

namespace fabrique::features {
namespace {

using testing::CatalogFixture;
using testing::MakeEntity;
using testing::MakeFeature;
using testing::MakeGroup;

TEST_CASE("Names follow [a-z][a-z0-9_]*", "[names]") {
  for (const char* good : {"a", "customer", "customer_id", "f2", "a_b_c_9"}) {
    INFO(good);
    REQUIRE(IsValidName(good));
  }
  for (const char* bad : {"", "Customer", "2fast", "_x", "a-b", "a b", "caf\xc3\xa9", "a.b"}) {
    INFO(bad);
    REQUIRE_FALSE(IsValidName(bad));
  }
  REQUIRE(IsValidName(std::string(kMaxNameLength, 'a')));
  REQUIRE_FALSE(IsValidName(std::string(kMaxNameLength + 1, 'a')));

  CATALOG_REQUIRE_ERROR(ValidateName("feature name", "Amount"), absl::StatusCode::kInvalidArgument,
                        "feature name \"Amount\" is invalid");
  CATALOG_REQUIRE_ERROR(ValidateName("feature name", std::string(10000, 'a')),
                        absl::StatusCode::kInvalidArgument, "longer than 128 bytes");
}

TEST_CASE("An entity needs a valid name and join key", "[spec]") {
  CATALOG_REQUIRE_OK(ValidateEntity(MakeEntity("customer", "customer_id")));
  CATALOG_REQUIRE_ERROR(ValidateEntity(MakeEntity("Customer", "customer_id")),
                        absl::StatusCode::kInvalidArgument, "entity name \"Customer\"");
  CATALOG_REQUIRE_ERROR(ValidateEntity(MakeEntity("customer", "")),
                        absl::StatusCode::kInvalidArgument,
                        "entity \"customer\": join key is empty");
  CATALOG_REQUIRE_ERROR(ValidateEntity(MakeEntity("customer", "customer-id")),
                        absl::StatusCode::kInvalidArgument, "join key \"customer-id\"");
}

struct BadSpec {
  std::string what;
  std::function<void(v1::FeatureGroupSpec&)> mutate;
  std::string expected;  // A substring of the message.
};

v1::Value StringValue(const std::string& text) {
  v1::Value value;
  value.set_string_value(text);
  return value;
}

// Each way a group spec can be wrong; the valid spec has "amount" (float), "country" (string),
// "count" (int64) and "embedding" (float vector).
std::vector<BadSpec> BadSpecs() {
  auto feature = [](v1::FeatureGroupSpec& spec, int i) { return spec.mutable_features(i); };
  auto expect = [feature](v1::FeatureGroupSpec& spec, int i) {
    return feature(spec, i)->mutable_expectations();
  };
  return {
      {"bad group name", [](auto& s) { s.set_name("Payments"); },
       "feature group name \"Payments\" is invalid"},
      {"bad entity name", [](auto& s) { s.set_entity("my-customer"); },
       "entity name \"my-customer\""},
      {"no features", [](auto& s) { s.clear_features(); }, "has no features"},
      {"bad feature name", [=](auto& s) { feature(s, 1)->set_name("Country"); },
       "features[1] name \"Country\" is invalid"},
      {"duplicate feature", [=](auto& s) { feature(s, 2)->set_name("amount"); },
       "feature \"amount\" is listed twice"},
      {"no type", [=](auto& s) { feature(s, 2)->set_type(v1::FEATURE_TYPE_UNSPECIFIED); },
       "feature \"count\": type is not specified"},
      {"negative ttl", [](auto& s) { s.mutable_ttl()->set_seconds(-5); }, "ttl is negative"},
      {"negative retention", [](auto& s) { s.mutable_retention()->set_nanos(-1); },
       "retention is negative"},
      {"negative vector length", [=](auto& s) { feature(s, 3)->set_vector_length(-4); },
       "feature \"embedding\": vector_length -4 is negative"},
      {"vector length on a float", [=](auto& s) { feature(s, 0)->set_vector_length(4); },
       "feature \"amount\": vector_length applies only to float_vector"},
      {"min on a string", [=](auto& s) { expect(s, 1)->mutable_min_value()->set_value(0); },
       "feature \"country\": min_value/max_value apply only to numeric"},
      {"max on a vector", [=](auto& s) { expect(s, 3)->mutable_max_value()->set_value(1); },
       "feature \"embedding\": min_value/max_value apply only to numeric"},
      {"NaN bound",
       [=](auto& s) {
         expect(s, 0)->mutable_min_value()->set_value(std::numeric_limits<double>::quiet_NaN());
       },
       "feature \"amount\": min_value/max_value must not be NaN"},
      {"min above max",
       [=](auto& s) {
         expect(s, 2)->mutable_min_value()->set_value(10);
         expect(s, 2)->mutable_max_value()->set_value(1);
       },
       "feature \"count\": min_value 10 is greater than max_value 1"},
      {"max length on an int64", [=](auto& s) { expect(s, 2)->set_max_string_length(5); },
       "feature \"count\": max_string_length applies only to string"},
      {"negative max length", [=](auto& s) { expect(s, 1)->set_max_string_length(-1); },
       "feature \"country\": max_string_length -1 is negative"},
      {"allowed values on a float",
       [=](auto& s) { *expect(s, 0)->add_allowed_values() = StringValue("x"); },
       "feature \"amount\": allowed_values apply only to string, int64 and bool"},
      {"allowed value of another type",
       [=](auto& s) {
         *expect(s, 1)->add_allowed_values() = StringValue("fr");
         expect(s, 1)->add_allowed_values()->set_int64_value(7);
       },
       "feature \"country\": allowed_values[1] is int64 (7) but the feature is string"},
      {"null allowed value", [=](auto& s) { expect(s, 2)->add_allowed_values(); },
       "feature \"count\": allowed_values[0] is null"},
      {"finite on a string", [=](auto& s) { expect(s, 1)->set_finite(true); },
       "feature \"country\": finite applies only to float, double and float_vector"},
  };
}

v1::FeatureGroupSpec ValidSpec() {
  v1::FeatureGroupSpec spec = MakeGroup("payments", "customer",
                                        {MakeFeature("amount", v1::FEATURE_TYPE_FLOAT),
                                         MakeFeature("country", v1::FEATURE_TYPE_STRING),
                                         MakeFeature("count", v1::FEATURE_TYPE_INT64),
                                         MakeFeature("embedding", v1::FEATURE_TYPE_FLOAT_VECTOR)});
  spec.mutable_ttl()->set_seconds(3600);
  spec.mutable_features(0)->mutable_expectations()->set_finite(true);
  spec.mutable_features(0)->mutable_expectations()->mutable_min_value()->set_value(0);
  spec.mutable_features(1)->mutable_expectations()->set_max_string_length(2);
  spec.mutable_features(3)->set_vector_length(8);
  return spec;
}

TEST_CASE("Every invalid group spec is INVALID_ARGUMENT naming what to fix", "[spec]") {
  CATALOG_REQUIRE_OK(ValidateFeatureGroupSpec(ValidSpec()));
  for (const BadSpec& bad : BadSpecs()) {
    SECTION(bad.what) {
      v1::FeatureGroupSpec spec = ValidSpec();
      bad.mutate(spec);
      CATALOG_REQUIRE_ERROR(ValidateFeatureGroupSpec(spec), absl::StatusCode::kInvalidArgument,
                            bad.expected);
    }
  }
}

TEST_CASE("The catalog refuses invalid groups and stores none of them", "[spec][catalog]") {
  CatalogFixture fixture;
  CATALOG_REQUIRE_OK(fixture.catalog->ApplyEntity(MakeEntity("customer", "customer_id")));
  for (const BadSpec& bad : BadSpecs()) {
    v1::FeatureGroupSpec spec = ValidSpec();
    bad.mutate(spec);
    v1::ApplyFeatureGroupRequest request;
    *request.mutable_spec() = spec;
    INFO(bad.what);
    CATALOG_REQUIRE_ERROR(fixture.catalog->ApplyFeatureGroup(request),
                          absl::StatusCode::kInvalidArgument, bad.expected);
  }
  REQUIRE(fixture.catalog->ListFeatureGroups({})->groups().empty());
}

TEST_CASE("A group of an unknown entity is NOT_FOUND naming the entity", "[spec][catalog]") {
  CatalogFixture fixture;
  v1::ApplyFeatureGroupRequest request;
  *request.mutable_spec() = ValidSpec();
  CATALOG_REQUIRE_ERROR(fixture.catalog->ApplyFeatureGroup(request), absl::StatusCode::kNotFound,
                        "entity \"customer\"");
  v1::ApplyFeatureGroupRequest negative = request;
  negative.set_expected_schema_version(-1);
  CATALOG_REQUIRE_ERROR(fixture.catalog->ApplyFeatureGroup(negative),
                        absl::StatusCode::kInvalidArgument, "expected_schema_version -1");
}

}  // namespace
}  // namespace fabrique::features
