// ValidationPlan: every RejectReason with its row, feature and message; batch-level errors by
// code; the first problem of a row wins; and a randomized comparison with a simple per-row
// reference checker.

#include "libs/features/catalog/row_validator.h"

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "catalog_test_util.h"
#include "row_validator_test_util.h"

namespace fabrique::features {
namespace {

using testing::BatchBuilder;
using testing::TxGroup;

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

struct PlanFixture {
  PlanFixture() {
    absl::StatusOr<std::shared_ptr<const ValidationPlan>> built =
        ValidationPlan::Build(std::make_shared<const v1::FeatureGroup>(TxGroup()), &clock);
    CATALOG_REQUIRE_OK(built);
    plan = *std::move(built);
  }
  int64_t now_micros() const { return absl::ToUnixMicros(clock.Now()); }

  core::FakeClock clock;
  std::shared_ptr<const ValidationPlan> plan;
};

// A batch of `rows` good rows with every feature of TxGroup.
BatchBuilder GoodBatch(const PlanFixture& fixture, int rows) {
  BatchBuilder batch(rows, fixture.now_micros());
  batch.Floats("amount", std::vector<float>(rows, 10.5f));
  batch.Doubles("score", std::vector<double>(rows, 0.5));
  batch.Doubles("ratio", std::vector<double>(rows, 0.25));
  batch.Int64s("count", std::vector<int64_t>(rows, 7));
  batch.Int64s("channel", std::vector<int64_t>(rows, 2));
  batch.Strings("country", std::vector<std::string>(rows, "fr"));
  batch.Bools("flag", std::vector<bool>(rows, true));
  batch.Vectors("embedding", std::vector<std::vector<float>>(rows, {1, 2, 3}));
  batch.Strings("note", std::vector<std::string>(rows, "anything goes"));
  return batch;
}

TEST_CASE("Good rows pass and carry their column mapping", "[validator]") {
  PlanFixture fixture;
  BatchBuilder batch = GoodBatch(fixture, 5);
  absl::StatusOr<ValidationResult> result = fixture.plan->Validate(batch.batch());
  CATALOG_REQUIRE_OK(result);
  REQUIRE(result->row_count == 5);
  REQUIRE(result->rejected_rows == 0);
  REQUIRE(result->good_rows() == 5);
  REQUIRE(result->rejects.empty());
  REQUIRE(result->schema_version == 3);
  for (int64_t row = 0; row < 5; ++row) REQUIRE(result->good(row));
  REQUIRE(result->column_features.size() == 9);
  REQUIRE(result->column_features[0] == fixture.plan->FeatureIndex("amount"));
  REQUIRE(fixture.plan->FeatureIndex("embedding") == 7);
  REQUIRE(fixture.plan->FeatureIndex("nope") == -1);

  const v1::RowBatch empty;
  REQUIRE(fixture.plan->Validate(empty)->row_count == 0);
}

struct ExpectedReject {
  int64_t row;
  std::string feature;
  v1::RejectReason reason;
  std::string message;  // A substring.
};

TEST_CASE("Every reject reason names its row, feature and problem", "[validator]") {
  PlanFixture fixture;
  BatchBuilder batch = GoodBatch(fixture, 16);
  batch.SetKey(1, "");
  batch.SetTime(2, fixture.now_micros() - absl::ToInt64Microseconds(absl::Hours(24 * 31)));
  batch.SetNull("score", 3);
  batch.SetFloat("amount", 4, -3);
  batch.SetFloat("amount", 5, 1001);
  batch.SetInt64("channel", 6, 9);
  batch.SetString("country", 7, "fra");
  batch.SetFloat("amount", 8, kNan);
  batch.SetVector("embedding", 9, {1, 2});
  batch.SetVector("embedding", 10, {1, kInf, 3});
  batch.SetString("country", 11, "xx");
  batch.SetBool("flag", 12, false);
  batch.SetInt64("count", 13, 101);
  // Row 14: null in a nullable feature, whose placeholder would break its bounds: fine.
  batch.SetFloat("amount", 14, -5);
  batch.SetNull("amount", 14);
  // Row 15: NaN passes bounds when the feature does not ask for finite values; inf does not.
  batch.SetDouble("ratio", 15, std::nan(""));
  const std::vector<ExpectedReject> expected = {
      {1, "", v1::REJECT_REASON_EMPTY_ENTITY_KEY, "entity key is empty"},
      {2, "", v1::REJECT_REASON_OUTSIDE_RETENTION, "before the retention window"},
      {3, "score", v1::REJECT_REASON_NULL_VALUE, "score is null but the feature is not_null"},
      {4, "amount", v1::REJECT_REASON_BELOW_MIN, "amount = -3 < min 0"},
      {5, "amount", v1::REJECT_REASON_ABOVE_MAX, "amount = 1001 > max 1000"},
      {6, "channel", v1::REJECT_REASON_NOT_ALLOWED, "channel = 9 is not an allowed value"},
      {7, "country", v1::REJECT_REASON_STRING_TOO_LONG, "country is 3 bytes long"},
      {8, "amount", v1::REJECT_REASON_NOT_FINITE, "amount = nan is not finite"},
      {9, "embedding", v1::REJECT_REASON_WRONG_VECTOR_LENGTH,
       "embedding has 2 elements, expected vector_length 3"},
      {10, "embedding", v1::REJECT_REASON_NOT_FINITE, "embedding[1] = inf is not finite"},
      {11, "country", v1::REJECT_REASON_NOT_ALLOWED, "country = \"xx\" is not an allowed value"},
      {12, "flag", v1::REJECT_REASON_NOT_ALLOWED, "flag = false is not an allowed value"},
      {13, "count", v1::REJECT_REASON_ABOVE_MAX, "count = 101 > max 100"},
  };
  absl::StatusOr<ValidationResult> result = fixture.plan->Validate(batch.batch());
  CATALOG_REQUIRE_OK(result);
  REQUIRE(result->rejected_rows == static_cast<int64_t>(expected.size()));
  REQUIRE(result->rejects.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const v1::RowReject& reject = result->rejects[i];
    INFO(reject.ShortDebugString());
    REQUIRE(reject.row_index() == expected[i].row);
    REQUIRE(reject.feature() == expected[i].feature);
    REQUIRE(reject.reason() == expected[i].reason);
    REQUIRE(absl::StrContains(reject.message(), expected[i].message));
    REQUIRE_FALSE(result->good(expected[i].row));
  }
  REQUIRE(result->good(0));
  REQUIRE(result->good(14));
  REQUIRE(result->good(15));
  REQUIRE(result->reject_counts[v1::REJECT_REASON_NOT_ALLOWED] == 3);
  REQUIRE(result->reject_counts[v1::REJECT_REASON_NOT_FINITE] == 2);
  REQUIRE(result->reject_counts[v1::REJECT_REASON_NULL_VALUE] == 1);

  batch.SetDouble("ratio", 15, std::numeric_limits<double>::infinity());
  REQUIRE(fixture.plan->Validate(batch.batch())->rejects.back().reason() ==
          v1::REJECT_REASON_ABOVE_MAX);
}

TEST_CASE("A row reports its first problem only", "[validator]") {
  PlanFixture fixture;
  BatchBuilder batch = GoodBatch(fixture, 3);
  batch.SetKey(0, "");
  batch.SetFloat("amount", 0, -1);
  batch.SetFloat("amount", 1, -1);  // amount is column 0, country column 5.
  batch.SetString("country", 1, "xx");
  batch.SetString("country", 2, "xx");
  absl::StatusOr<ValidationResult> result = fixture.plan->Validate(batch.batch());
  CATALOG_REQUIRE_OK(result);
  REQUIRE(result->rejected_rows == 3);
  REQUIRE(result->rejects[0].reason() == v1::REJECT_REASON_EMPTY_ENTITY_KEY);
  REQUIRE(result->rejects[1].reason() == v1::REJECT_REASON_BELOW_MIN);
  REQUIRE(result->rejects[2].reason() == v1::REJECT_REASON_NOT_ALLOWED);
  // Counts are per row, so they add up to the rejected rows.
  int64_t total = 0;
  for (int64_t count : result->reject_counts) total += count;
  REQUIRE(total == 3);
}

TEST_CASE("Retention is measured from the injected clock", "[validator]") {
  PlanFixture fixture;
  const int64_t window = absl::ToInt64Microseconds(absl::Hours(24 * 30));
  BatchBuilder batch = GoodBatch(fixture, 3);
  batch.SetTime(0, fixture.now_micros() - window);      // At the edge: kept.
  batch.SetTime(1, fixture.now_micros() - window - 1);  // Just outside.
  batch.SetTime(2, fixture.now_micros() + 1'000'000);   // Future times are not refused here.
  REQUIRE(fixture.plan->Validate(batch.batch())->rejected_rows == 1);
  fixture.clock.Advance(absl::Microseconds(1));
  absl::StatusOr<ValidationResult> later = fixture.plan->Validate(batch.batch());
  REQUIRE(later->rejected_rows == 2);
  REQUIRE(later->reject_counts[v1::REJECT_REASON_OUTSIDE_RETENTION] == 2);
}

TEST_CASE("An absent not_null feature rejects every row", "[validator]") {
  PlanFixture fixture;
  BatchBuilder batch(4, fixture.now_micros());
  batch.Floats("amount", {1, 2, 3, 4});
  absl::StatusOr<ValidationResult> result = fixture.plan->Validate(batch.batch());
  CATALOG_REQUIRE_OK(result);
  REQUIRE(result->rejected_rows == 4);
  REQUIRE(result->rejects[0].feature() == "score");
  REQUIRE(absl::StrContains(result->rejects[0].message(), "absent from the batch"));
}

TEST_CASE("Details are capped; counts are not", "[validator]") {
  PlanFixture fixture;
  BatchBuilder batch = GoodBatch(fixture, 50);
  for (int row = 0; row < 50; ++row) batch.SetFloat("amount", row, -1);
  ValidateOptions options;
  options.max_reject_details = 7;
  absl::StatusOr<ValidationResult> result = fixture.plan->Validate(batch.batch(), options);
  CATALOG_REQUIRE_OK(result);
  REQUIRE(result->rejects.size() == 7);
  REQUIRE(result->rejects[6].row_index() == 6);
  REQUIRE(result->rejected_rows == 50);
  REQUIRE(result->reject_counts[v1::REJECT_REASON_BELOW_MIN] == 50);
}

TEST_CASE("Batch-level problems fail the whole batch with a precise code", "[validator]") {
  PlanFixture fixture;
  auto validate = [&](const BatchBuilder& batch) { return fixture.plan->Validate(batch.batch()); };

  BatchBuilder times = GoodBatch(fixture, 3);
  times.mutable_batch().add_event_time_unix_micros(0);
  CATALOG_REQUIRE_ERROR(validate(times), absl::StatusCode::kInvalidArgument,
                        "has 3 entity keys but 4 event times");

  BatchBuilder unknown = GoodBatch(fixture, 3);
  unknown.Floats("amount_eur", {1, 2, 3});
  CATALOG_REQUIRE_ERROR(validate(unknown), absl::StatusCode::kNotFound,
                        "feature \"amount_eur\" not found in feature group \"tx\"");

  BatchBuilder mistyped(3, fixture.now_micros());
  mistyped.Int64s("amount", {1, 2, 3});
  CATALOG_REQUIRE_ERROR(validate(mistyped), absl::StatusCode::kInvalidArgument,
                        "feature \"amount\" of group \"tx\" is float but its column carries int64 "
                        "values (3 rows)");

  BatchBuilder untyped(3, fixture.now_micros());
  untyped.mutable_batch().add_columns()->mutable_feature()->set_feature("amount");
  CATALOG_REQUIRE_ERROR(validate(untyped), absl::StatusCode::kInvalidArgument, "carries no values");

  BatchBuilder short_column(3, fixture.now_micros());
  short_column.Floats("amount", {1, 2});
  CATALOG_REQUIRE_ERROR(validate(short_column), absl::StatusCode::kInvalidArgument,
                        "column of feature \"amount\" has 2 values");

  BatchBuilder short_nulls(3, fixture.now_micros());
  short_nulls.Floats("amount", {1, 2, 3});
  short_nulls.mutable_batch().mutable_columns(0)->mutable_values()->add_is_null(true);
  CATALOG_REQUIRE_ERROR(validate(short_nulls), absl::StatusCode::kInvalidArgument,
                        "1 is_null flags but the batch has 3 rows");

  BatchBuilder twice(3, fixture.now_micros());
  twice.Floats("amount", {1, 2, 3});
  twice.Floats("amount", {1, 2, 3});
  CATALOG_REQUIRE_ERROR(validate(twice), absl::StatusCode::kInvalidArgument,
                        "feature \"amount\" has more than one column");

  BatchBuilder other_group(3, fixture.now_micros());
  other_group.Floats("amount", {1, 2, 3});
  other_group.mutable_batch().mutable_columns(0)->mutable_feature()->set_group("refunds");
  CATALOG_REQUIRE_ERROR(validate(other_group), absl::StatusCode::kInvalidArgument,
                        "\"refunds:amount\" of another group");
  other_group.mutable_batch().mutable_columns(0)->mutable_feature()->set_group("tx");
  CATALOG_REQUIRE_OK(validate(other_group));
}

}  // namespace
}  // namespace fabrique::features
