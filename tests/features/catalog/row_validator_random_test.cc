// Randomized test of ValidationPlan: random batches with valid and invalid values, nulls,
// missing and shuffled columns, against a reference checker written the obvious way (one row,
// one value at a time, straight from the FeatureSpec).

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "catalog_test_util.h"
#include "libs/features/catalog/row_validator.h"
#include "row_validator_test_util.h"

namespace fabrique::features {
namespace {

using testing::TxGroup;

struct Expected {
  v1::RejectReason reason = v1::REJECT_REASON_UNSPECIFIED;
  std::string feature;
};

bool Allowed(const v1::FeatureExpectations& e, const v1::Value& value) {
  if (e.allowed_values().empty()) return true;
  for (const v1::Value& allowed : e.allowed_values()) {
    if (allowed.SerializeAsString() == value.SerializeAsString()) return true;
  }
  return false;
}

v1::RejectReason CheckReal(const v1::FeatureExpectations& e, double v) {
  if (e.finite() && !std::isfinite(v)) return v1::REJECT_REASON_NOT_FINITE;
  if (e.has_min_value() && v < e.min_value().value()) return v1::REJECT_REASON_BELOW_MIN;
  if (e.has_max_value() && v > e.max_value().value()) return v1::REJECT_REASON_ABOVE_MAX;
  return v1::REJECT_REASON_UNSPECIFIED;
}

v1::RejectReason ReferenceValue(const v1::FeatureSpec& spec, const v1::ValueColumn& column,
                                int row) {
  const v1::FeatureExpectations& e = spec.expectations();
  if (column.is_null_size() > 0 && column.is_null(row)) {
    return e.not_null() ? v1::REJECT_REASON_NULL_VALUE : v1::REJECT_REASON_UNSPECIFIED;
  }
  v1::Value value;
  switch (spec.type()) {
    case v1::FEATURE_TYPE_FLOAT:
      return CheckReal(e, column.float_values().values(row));
    case v1::FEATURE_TYPE_DOUBLE:
      return CheckReal(e, column.double_values().values(row));
    case v1::FEATURE_TYPE_INT64: {
      const int64_t v = column.int64_values().values(row);
      const v1::RejectReason bounds = CheckReal(e, static_cast<double>(v));
      if (bounds != v1::REJECT_REASON_UNSPECIFIED) return bounds;
      value.set_int64_value(v);
      break;
    }
    case v1::FEATURE_TYPE_BOOL:
      value.set_bool_value(column.bool_values().values(row));
      break;
    case v1::FEATURE_TYPE_STRING: {
      const std::string& v = column.string_values().values(row);
      if (e.max_string_length() > 0 && static_cast<int>(v.size()) > e.max_string_length()) {
        return v1::REJECT_REASON_STRING_TOO_LONG;
      }
      value.set_string_value(v);
      break;
    }
    case v1::FEATURE_TYPE_FLOAT_VECTOR: {
      const v1::FloatVector& v = column.float_vector_values().values(row);
      if (spec.vector_length() > 0 && v.values_size() != spec.vector_length()) {
        return v1::REJECT_REASON_WRONG_VECTOR_LENGTH;
      }
      for (float x : v.values()) {
        if (e.finite() && !std::isfinite(x)) return v1::REJECT_REASON_NOT_FINITE;
      }
      return v1::REJECT_REASON_UNSPECIFIED;
    }
    default:
      FAIL("unexpected type");
  }
  return Allowed(e, value) ? v1::REJECT_REASON_UNSPECIFIED : v1::REJECT_REASON_NOT_ALLOWED;
}

Expected Reference(const v1::FeatureGroup& group, const v1::RowBatch& batch, int row,
                   int64_t now_micros) {
  if (batch.entity_keys(row).empty()) return {v1::REJECT_REASON_EMPTY_ENTITY_KEY, ""};
  const int64_t retention = group.spec().retention().seconds() * 1'000'000;
  if (retention > 0 && batch.event_time_unix_micros(row) < now_micros - retention) {
    return {v1::REJECT_REASON_OUTSIDE_RETENTION, ""};
  }
  std::set<std::string> present;
  for (const v1::FeatureColumn& column : batch.columns()) {
    const std::string& name = column.feature().feature();
    present.insert(name);
    for (const v1::FeatureSpec& spec : group.spec().features()) {
      if (spec.name() != name) continue;
      const v1::RejectReason reason = ReferenceValue(spec, column.values(), row);
      if (reason != v1::REJECT_REASON_UNSPECIFIED) return {reason, name};
    }
  }
  for (const v1::FeatureSpec& spec : group.spec().features()) {
    if (spec.expectations().not_null() && present.count(spec.name()) == 0) {
      return {v1::REJECT_REASON_NULL_VALUE, spec.name()};
    }
  }
  return {};
}

// Random values for every feature of TxGroup, mostly valid.
class RandomBatches {
 public:
  explicit RandomBatches(uint32_t seed) : rng_(seed) {
    const v1::FeatureGroup group = TxGroup();
    for (const v1::FeatureSpec& feature : group.spec().features()) {
      names_.push_back(feature.name());
    }
  }

  v1::RowBatch Make(int64_t now_micros) {
    const int rows = Uniform(0, 60);
    v1::RowBatch batch;
    for (int row = 0; row < rows; ++row) {
      batch.add_entity_keys(Chance(0.04) ? "" : "k" + std::to_string(Uniform(0, 1000)));
      const int64_t age = static_cast<int64_t>(Real(0, 33)) * 86'400'000'000LL;
      batch.add_event_time_unix_micros(now_micros - age + Uniform(-1000, 1000));
    }
    std::vector<int> features = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    std::shuffle(features.begin(), features.end(), rng_);
    for (int feature : features) {
      if (Chance(0.12)) continue;  // Absent: all null.
      v1::FeatureColumn* column = batch.add_columns();
      column->mutable_feature()->set_feature(names_[feature]);
      if (Chance(0.3)) column->mutable_feature()->set_group("tx");
      FillColumn(feature, rows, *column->mutable_values());
      if (Chance(0.3)) {
        for (int row = 0; row < rows; ++row) column->mutable_values()->add_is_null(Chance(0.1));
      }
    }
    return batch;
  }

 private:
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  double Real(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng_); }
  bool Chance(double p) { return Real(0, 1) < p; }
  double Special(double usual) {
    if (Chance(0.03)) return std::numeric_limits<double>::quiet_NaN();
    if (Chance(0.03)) return Chance(0.5) ? INFINITY : -INFINITY;
    return usual;
  }

  void FillColumn(int feature, int rows, v1::ValueColumn& values) {
    static const std::array<const char*, 6> kCountries = {"fr", "de", "us", "xx", "fra", ""};
    switch (feature) {
      case 0: {
        auto* list = values.mutable_float_values();
        for (int r = 0; r < rows; ++r) list->add_values(Special(Real(-10, 1010)));
        return;
      }
      case 1:
      case 2: {
        auto* list = values.mutable_double_values();
        for (int r = 0; r < rows; ++r) list->add_values(Special(Real(-0.02, 1.02)));
        return;
      }
      case 3:
      case 4: {
        auto* list = values.mutable_int64_values();
        for (int r = 0; r < rows; ++r) {
          list->add_values(feature == 3 ? Uniform(-2, 102) : Chance(0.95) ? Uniform(1, 3) : 4);
        }
        return;
      }
      case 5:
      case 8: {
        auto* list = values.mutable_string_values();
        for (int r = 0; r < rows; ++r) {
          list->add_values(kCountries[Chance(0.9) ? Uniform(0, 2) : Uniform(3, 5)]);
        }
        return;
      }
      case 6: {
        auto* list = values.mutable_bool_values();
        for (int r = 0; r < rows; ++r) list->add_values(Chance(0.97));
        return;
      }
      default: {
        auto* list = values.mutable_float_vector_values();
        for (int r = 0; r < rows; ++r) {
          v1::FloatVector* vector = list->add_values();
          const int length = Chance(0.9) ? 3 : Uniform(0, 5);
          for (int i = 0; i < length; ++i) vector->add_values(Chance(0.97) ? Real(-1, 1) : NAN);
        }
      }
    }
  }

  std::mt19937 rng_;
  std::vector<std::string> names_;
};

TEST_CASE("Randomized batches agree with the reference checker", "[validator][random]") {
  core::FakeClock clock;
  const v1::FeatureGroup group = TxGroup();
  std::shared_ptr<const ValidationPlan> plan =
      *ValidationPlan::Build(std::make_shared<const v1::FeatureGroup>(group), &clock);
  const uint32_t seed = std::random_device()();
  INFO("seed " << seed);
  RandomBatches random(seed);
  std::mt19937 caps(seed);
  int64_t rejected = 0, total = 0;
  for (int iteration = 0; iteration < 400; ++iteration) {
    const int64_t now = absl::ToUnixMicros(clock.Now());
    const v1::RowBatch batch = random.Make(now);
    const int64_t cap = std::uniform_int_distribution<int>(0, 70)(caps);
    ValidateOptions options;
    options.max_reject_details = cap;
    absl::StatusOr<ValidationResult> result = plan->Validate(batch, options);
    CATALOG_REQUIRE_OK(result);
    INFO("iteration " << iteration << ": " << batch.ShortDebugString());
    std::array<int64_t, v1::RejectReason_ARRAYSIZE> counts = {};
    std::vector<Expected> expected_rejects;
    for (int row = 0; row < batch.entity_keys_size(); ++row) {
      const Expected expected = Reference(group, batch, row, now);
      INFO("row " << row);
      REQUIRE(static_cast<int>(result->row_reasons[row]) == static_cast<int>(expected.reason));
      if (expected.reason == v1::REJECT_REASON_UNSPECIFIED) continue;
      ++counts[expected.reason];
      if (static_cast<int64_t>(expected_rejects.size()) < cap) {
        REQUIRE(result->rejects.size() > expected_rejects.size());
        REQUIRE(result->rejects[expected_rejects.size()].row_index() == row);
        REQUIRE(result->rejects[expected_rejects.size()].feature() == expected.feature);
        REQUIRE_FALSE(result->rejects[expected_rejects.size()].message().empty());
        expected_rejects.push_back(expected);
      }
    }
    REQUIRE(result->rejects.size() == expected_rejects.size());
    REQUIRE(result->reject_counts == counts);
    rejected += result->rejected_rows;
    total += result->row_count;
    clock.Advance(absl::Seconds(1));
  }
  // The mix exercised both outcomes.
  REQUIRE(rejected > total / 10);
  REQUIRE(rejected < total * 9 / 10);
}

}  // namespace
}  // namespace fabrique::features
