// Drift verdicts from summaries: equal to the verdicts on the values while the sketches hold
// every value; within the stated error bound of them once the sketches compact; categories
// exact; "not enough data"; and the refusals.

#include "libs/monitoring/summary_drift.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "tests/monitoring/drift_samples.h"

namespace fabrique::monitoring {
namespace {

ColumnSummary Numbers(const std::vector<double>& values, uint64_t seed = 0) {
  ColumnSummary::Options options;
  options.sketch.seed = seed;
  ColumnSummary summary(options);
  for (double value : values) summary.AddNumber(value);
  return summary;
}

ColumnSummary Categories(const std::vector<std::pair<std::string, int>>& counts,
                         int max_categories = 1000, int missing = 0) {
  ColumnSummary::Options options;
  options.kind = ColumnSummary::Kind::kCategorical;
  options.categories.max_categories = max_categories;
  ColumnSummary summary(options);
  for (const auto& [category, count] : counts) {
    for (int i = 0; i < count; ++i) summary.AddCategory(category);
  }
  summary.AddMissing(missing);
  return summary;
}

DriftOptions Test(DriftTestKind test) {
  DriftOptions options;
  options.test = test;
  return options;
}

void CheckEqual(const DriftResult& got, const DriftResult& want) {
  CHECK(got.test == want.test);
  CHECK(got.column_kind == want.column_kind);
  CHECK(got.statistic == Approx(want.statistic).epsilon(1e-9).margin(1e-12));
  REQUIRE(got.p_value.has_value() == want.p_value.has_value());
  if (want.p_value) CHECK(*got.p_value == Approx(*want.p_value).margin(1e-9));
  CHECK(got.reference_rows == want.reference_rows);
  CHECK(got.current_rows == want.current_rows);
  CHECK(got.reference_missing == want.reference_missing);
  CHECK(got.current_missing == want.current_missing);
  CHECK(got.enough_data == want.enough_data);
  CHECK(got.drifted == want.drifted);
  CHECK(got.error_bound == 0);
}

// The summaries' statistic is within its stated bound of the one on the values.
void CheckWithinBound(const DriftResult& got, const DriftResult& exact) {
  CHECK(got.test == exact.test);
  CHECK(got.reference_rows == exact.reference_rows);
  CHECK(got.current_rows == exact.current_rows);
  CHECK(got.error_bound > 0);
  CHECK(std::fabs(got.statistic - exact.statistic) <= got.error_bound);
}

TEST_CASE("while the sketches hold every value, every test equals the one on the values") {
  std::vector<double> reference = Normal(800, 0, 1, 1), current = Normal(700, 0.3, 2, 1.2);
  reference.push_back(NAN);
  current.push_back(INFINITY);
  current.push_back(NAN);
  for (DriftTestKind test : {DriftTestKind::kAuto, DriftTestKind::kKs, DriftTestKind::kWasserstein,
                             DriftTestKind::kPsi, DriftTestKind::kJensenShannon}) {
    INFO(DriftTestName(test));
    absl::StatusOr<DriftResult> got =
        EvaluateSummaries(Numbers(reference), Numbers(current), Test(test));
    absl::StatusOr<DriftResult> want = EvaluateColumn(reference, current, Test(test));
    REQUIRE(got.ok());
    REQUIRE(want.ok());
    CheckEqual(*got, *want);
  }
  CHECK(EvaluateSummaries(Numbers(reference), Numbers(current))->test == DriftTestKind::kKs);
  CHECK(EvaluateSummaries(Numbers(reference), Numbers(current))->current_missing == 2);

  // Few values: categories (chi-square), two values (Z), values as PSI's categories.
  const std::vector<double> three = Repeat({1, 2, 3}, 300), more_threes = Repeat({1, 2, 3, 3}, 300);
  const std::vector<double> two = Repeat({0, 1}, 300), more_ones = Repeat({0, 1, 1, 1}, 300);
  for (const auto& [ref, cur] : {std::pair{three, more_threes}, std::pair{two, more_ones}}) {
    for (DriftTestKind test : {DriftTestKind::kAuto, DriftTestKind::kPsi,
                               DriftTestKind::kJensenShannon, DriftTestKind::kChiSquare}) {
      absl::StatusOr<DriftResult> got = EvaluateSummaries(Numbers(ref), Numbers(cur), Test(test));
      absl::StatusOr<DriftResult> want = EvaluateColumn(ref, cur, Test(test));
      REQUIRE(got.ok());
      REQUIRE(want.ok());
      CheckEqual(*got, *want);
    }
  }
  CHECK(EvaluateSummaries(Numbers(two), Numbers(more_ones))->test == DriftTestKind::kZTest);
  CHECK(EvaluateSummaries(Numbers(three), Numbers(more_threes), Test(DriftTestKind::kZTest))
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("compacted sketches: each statistic within its bound of the exact one") {
  const std::vector<double> reference = Normal(60000, 0, 3, 1);
  for (const std::vector<double>& current :
       {Normal(50000, 0, 4, 1), Normal(50000, 0.2, 5, 1), Normal(50000, 0, 6, 1.5)}) {
    const ColumnSummary ref = Numbers(reference, 7), cur = Numbers(current, 8);
    REQUIRE_FALSE(ref.sketch()->exact());
    for (DriftTestKind test : {DriftTestKind::kAuto, DriftTestKind::kKs, DriftTestKind::kPsi,
                               DriftTestKind::kJensenShannon}) {
      INFO(DriftTestName(test));
      absl::StatusOr<DriftResult> got = EvaluateSummaries(ref, cur, Test(test));
      absl::StatusOr<DriftResult> exact = EvaluateColumn(reference, current, Test(test));
      REQUIRE(got.ok());
      REQUIRE(exact.ok());
      CheckWithinBound(*got, *exact);
    }
  }
  absl::StatusOr<DriftResult> auto_choice =
      EvaluateSummaries(Numbers(reference), Numbers(Normal(50000, 0.5, 9, 1)));
  REQUIRE(auto_choice.ok());
  CHECK(auto_choice->test == DriftTestKind::kWasserstein);
  CHECK(auto_choice->column_kind == ColumnKind::kNumeric);
  CHECK(auto_choice->drifted);
  CHECK(auto_choice->error_bound < 0.15);

  absl::StatusOr<DriftResult> ks = EvaluateSummaries(
      Numbers(reference), Numbers(Normal(50000, 0.5, 9, 1)), Test(DriftTestKind::kKs));
  REQUIRE(ks.ok());
  REQUIRE(ks->p_value.has_value());
  CHECK(*ks->p_value < 1e-10);
  CHECK(ks->error_bound == Approx(2 * QuantileSketch::NormalizedRankError(400)));
}

TEST_CASE("a compacted low-cardinality column is compared value by value") {
  const std::vector<double> reference = Repeat({0, 1, 2}, 30000);
  const std::vector<double> current = Repeat({0, 1, 2, 2}, 20000);
  absl::StatusOr<DriftResult> got = EvaluateSummaries(Numbers(reference), Numbers(current));
  absl::StatusOr<DriftResult> exact = EvaluateColumn(reference, current);
  REQUIRE(got.ok());
  REQUIRE(exact.ok());
  CHECK(got->column_kind == ColumnKind::kCategorical);
  CheckWithinBound(*got, *exact);
  CHECK(std::isfinite(got->error_bound));

  // Chi-square on values a sketch may have dropped: no bound.
  got = EvaluateSummaries(Numbers(reference), Numbers(current), Test(DriftTestKind::kChiSquare));
  REQUIRE(got.ok());
  CHECK(std::isinf(got->error_bound));
}

TEST_CASE("categories are exact; an overflowed cap leaves no bound") {
  const ColumnSummary reference = Categories({{"red", 60}, {"blue", 30}, {"green", 10}}, 1000, 4);
  const ColumnSummary current = Categories({{"red", 30}, {"blue", 30}, {"violet", 40}});
  absl::StatusOr<DriftResult> got = EvaluateSummaries(reference, current);
  CategoryCountMap ref_counts = {{"red", 60}, {"blue", 30}, {"green", 10}};
  CategoryCountMap cur_counts = {{"red", 30}, {"blue", 30}, {"violet", 40}};
  absl::StatusOr<DriftResult> want =
      EvaluateColumn(CategoricalColumn{ref_counts, 4}, CategoricalColumn{cur_counts, 0});
  REQUIRE(got.ok());
  REQUIRE(want.ok());
  CheckEqual(*got, *want);
  CHECK(got->test == DriftTestKind::kChiSquare);
  CHECK(got->drifted);

  got = EvaluateSummaries(Categories({{"a", 50}, {"b", 50}, {"c", 50}}, 2),
                          Categories({{"a", 50}, {"b", 50}, {"d", 50}}, 2));
  REQUIRE(got.ok());
  CHECK(std::isinf(got->error_bound));

  CHECK(EvaluateSummaries(reference, current, Test(DriftTestKind::kKs)).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(EvaluateSummaries(reference, current, Test(DriftTestKind::kWasserstein)).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("too few values: not enough data, never a verdict") {
  DriftOptions options;
  options.min_rows = 100;
  absl::StatusOr<DriftResult> result =
      EvaluateSummaries(Numbers(Normal(50, 0, 1, 1)), Numbers(Normal(5000, 5, 2, 1)), options);
  REQUIRE(result.ok());
  CHECK_FALSE(result->enough_data);
  CHECK_FALSE(result->drifted);
  CHECK(std::isnan(result->statistic));
  CHECK(result->reference_rows == 50);

  result = EvaluateSummaries(Numbers({NAN, NAN}), Numbers(Normal(50000, 5, 2, 1)));
  REQUIRE(result.ok());
  CHECK_FALSE(result->enough_data);
  CHECK(result->reference_missing == 2);

  result = EvaluateSummaries(Categories({{"a", 3}}), Categories({{"a", 300}}));
  REQUIRE(result.ok());
  CHECK_FALSE(result->enough_data);
}

TEST_CASE("refusals: kinds that differ, no distribution kept, bad options, corrupt profiles") {
  const ColumnSummary numbers = Numbers(Normal(100, 0, 1, 1));
  const ColumnSummary categories = Categories({{"a", 100}});
  CHECK(EvaluateSummaries(numbers, categories).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(EvaluateSummaries(categories, numbers).status().code() ==
        absl::StatusCode::kInvalidArgument);
  DriftOptions zero_rows;
  zero_rows.min_rows = 0;
  CHECK(EvaluateSummaries(numbers, numbers, zero_rows).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(EvaluateSummaries(Numbers(Normal(100000, 0, 1, 1)), numbers, zero_rows).status().code() ==
        absl::StatusCode::kInvalidArgument);

  v1::DistributionProfile without_sketch = numbers.ToProto("x");
  without_sketch.mutable_numeric()->clear_quantile_sketch();
  without_sketch.mutable_numeric()->clear_bin_edges();
  without_sketch.mutable_numeric()->clear_bin_fractions();
  absl::StatusOr<ColumnSummary> no_values = ColumnSummary::FromProto(without_sketch);
  REQUIRE(no_values.ok());
  CHECK(EvaluateSummaries(*no_values, numbers).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(EvaluateSummaries(without_sketch, numbers).status().code() ==
        absl::StatusCode::kInvalidArgument);

  v1::DistributionProfile corrupt = numbers.ToProto("x");
  corrupt.mutable_numeric()->set_quantile_sketch("not a sketch");
  CHECK(EvaluateSummaries(corrupt, numbers).status().code() == absl::StatusCode::kInvalidArgument);
  v1::DistributionProfile bad_bins = numbers.ToProto("x");
  bad_bins.mutable_numeric()->clear_quantile_sketch();
  bad_bins.mutable_numeric()->add_bin_fractions(0.5);
  CHECK(EvaluateSummaries(bad_bins, numbers).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(EvaluateSummaries(numbers.ToProto("x"), categories).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(EvaluateSummaries(v1::DistributionProfile(), numbers).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("a reference profile: its sketch as the summary, or its bins with their coarser error") {
  const std::vector<double> reference = Normal(3000, 0, 11, 1), current = Normal(900, 0.4, 12, 1);
  const v1::DistributionProfile profile = Numbers(reference).ToProto("amount");
  for (DriftTestKind test : {DriftTestKind::kAuto, DriftTestKind::kWasserstein}) {
    absl::StatusOr<DriftResult> got = EvaluateSummaries(profile, Numbers(current), Test(test));
    absl::StatusOr<DriftResult> want = EvaluateColumn(reference, current, Test(test));
    REQUIRE(got.ok());
    REQUIRE(want.ok());
    CheckEqual(*got, *want);
  }

  v1::DistributionProfile bins = profile;
  bins.mutable_numeric()->clear_quantile_sketch();
  for (DriftTestKind test : {DriftTestKind::kAuto, DriftTestKind::kKs, DriftTestKind::kWasserstein,
                             DriftTestKind::kPsi, DriftTestKind::kJensenShannon}) {
    INFO(DriftTestName(test));
    absl::StatusOr<DriftResult> got = EvaluateSummaries(bins, Numbers(current), Test(test));
    absl::StatusOr<DriftResult> exact = EvaluateColumn(reference, current, Test(test));
    REQUIRE(got.ok());
    REQUIRE(exact.ok());
    CheckWithinBound(*got, *exact);
  }
  // Bins state the largest bin's share (a tenth) as their error: coarser than a sketch's.
  CHECK(EvaluateSummaries(bins, Numbers(current), Test(DriftTestKind::kKs))->error_bound >= 0.1);

  const v1::DistributionProfile categorical =
      Categories({{"red", 60}, {"blue", 40}}).ToProto("colour");
  absl::StatusOr<DriftResult> got =
      EvaluateSummaries(categorical, Categories({{"red", 20}, {"blue", 80}}));
  REQUIRE(got.ok());
  CHECK(got->test == DriftTestKind::kZTest);
  CHECK(got->drifted);
  CHECK(got->error_bound == 0);
}

}  // namespace
}  // namespace fabrique::monitoring
