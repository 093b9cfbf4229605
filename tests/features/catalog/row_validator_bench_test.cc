// Throughput of ValidationPlan::Validate on the ingest benchmark's shape: rows of 20 float
// features. Hidden from the default run (tag [.]); run it on a Release build with
//   features_catalog_validator_test "[bench]"

#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>

#include "catalog_test_util.h"
#include "libs/features/catalog/row_validator.h"

namespace fabrique::features {
namespace {

v1::FeatureGroup FloatGroup(int features, bool expectations) {
  v1::FeatureGroup group;
  group.set_schema_version(1);
  group.mutable_spec()->set_name("bench");
  group.mutable_spec()->set_entity("customer");
  group.mutable_spec()->mutable_retention()->set_seconds(365 * 86400);
  for (int i = 0; i < features; ++i) {
    v1::FeatureSpec* feature = group.mutable_spec()->add_features();
    feature->set_name("f" + std::to_string(i));
    feature->set_type(v1::FEATURE_TYPE_FLOAT);
    if (!expectations) continue;
    feature->mutable_expectations()->set_finite(true);
    feature->mutable_expectations()->set_not_null(i % 4 == 0);
    feature->mutable_expectations()->mutable_min_value()->set_value(-1e6);
    feature->mutable_expectations()->mutable_max_value()->set_value(1e6);
  }
  return group;
}

v1::RowBatch FloatBatch(int features, int rows, int64_t now_micros, bool with_nulls) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> value(-1000, 1000);
  v1::RowBatch batch;
  for (int row = 0; row < rows; ++row) {
    batch.add_entity_keys("customer-" + std::to_string(row));
    batch.add_event_time_unix_micros(now_micros - row);
  }
  for (int i = 0; i < features; ++i) {
    v1::FeatureColumn* column = batch.add_columns();
    column->mutable_feature()->set_feature("f" + std::to_string(i));
    v1::FloatList* list = column->mutable_values()->mutable_float_values();
    for (int row = 0; row < rows; ++row) list->add_values(value(rng));
    if (with_nulls && i % 4 != 0) {
      for (int row = 0; row < rows; ++row) column->mutable_values()->add_is_null(row % 7 == 0);
    }
  }
  return batch;
}

// Validates the batch repeatedly for about a second; returns rows per second.
double Measure(const ValidationPlan& plan, const v1::RowBatch& batch) {
  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < 10; ++i) REQUIRE(plan.Validate(batch)->rejected_rows == 0);
  int64_t rows = 0;
  const Clock::time_point start = Clock::now();
  Clock::time_point now = start;
  while (now - start < std::chrono::seconds(1)) {
    for (int i = 0; i < 20; ++i) rows += plan.Validate(batch)->good_rows();
    now = Clock::now();
  }
  return static_cast<double>(rows) / std::chrono::duration<double>(now - start).count();
}

TEST_CASE("Validator throughput on rows of 20 float features", "[.][bench]") {
  core::FakeClock clock;
  const int64_t now = absl::ToUnixMicros(clock.Now());
  struct Case {
    const char* name;
    bool expectations;
    bool nulls;
    int rows;
  };
  for (const Case& c : {Case{"min/max/finite/not_null, 10k-row batches", true, false, 10000},
                        Case{"min/max/finite/not_null, 1k-row batches", true, false, 1000},
                        Case{"min/max/finite/not_null + is_null, 10k rows", true, true, 10000},
                        Case{"no expectations (shape only), 10k rows", false, false, 10000}}) {
    std::shared_ptr<const ValidationPlan> plan = *ValidationPlan::Build(
        std::make_shared<const v1::FeatureGroup>(FloatGroup(20, c.expectations)), &clock);
    const v1::RowBatch batch = FloatBatch(20, c.rows, now, c.nulls);
    const double rows_per_second = Measure(*plan, batch);
    std::printf("%-48s %12.0f rows/s  %8.1f M values/s\n", c.name, rows_per_second,
                rows_per_second * 20 / 1e6);
  }
}

}  // namespace
}  // namespace fabrique::features
