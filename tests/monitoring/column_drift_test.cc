// Verdicts per column and per dataset: which test ran, its threshold, the sizes and missing
// counts, "not enough data" instead of a verdict, and the refusals.

#include "libs/monitoring/column_drift.h"

#include <cmath>
#include <random>
#include <vector>

#include "catch2/catch.hpp"
#include "tests/monitoring/drift_samples.h"

namespace fabrique::monitoring {
namespace {

TEST_CASE("AUTO on numeric columns: KS, Wasserstein, chi-square and Z by rows and values") {
  absl::StatusOr<DriftResult> result = EvaluateColumn(Normal(500, 0, 1), Normal(400, 1, 2));
  REQUIRE(result.ok());
  CHECK(result->test == DriftTestKind::kKs);
  CHECK(result->column_kind == ColumnKind::kNumeric);
  REQUIRE(result->p_value.has_value());
  CHECK(*result->p_value < 1e-20);
  CHECK(result->drifted);
  CHECK(result->threshold.value == 0.05);

  result = EvaluateColumn(Normal(2000, 0, 3), Normal(300, 1, 4));
  REQUIRE(result.ok());
  CHECK(result->test == DriftTestKind::kWasserstein);
  CHECK_FALSE(result->p_value.has_value());
  CHECK(result->statistic > 0.5);
  CHECK(result->drifted);

  result = EvaluateColumn(Repeat({1, 2, 3}, 300), Repeat({1, 2, 3, 3}, 300));
  REQUIRE(result.ok());
  CHECK(result->column_kind == ColumnKind::kCategorical);
  CHECK(result->test == DriftTestKind::kChiSquare);

  result = EvaluateColumn(Repeat({0, 1}, 300), Repeat({0, 1, 1, 1}, 300));
  REQUIRE(result.ok());
  CHECK(result->column_kind == ColumnKind::kBinary);
  CHECK(result->test == DriftTestKind::kZTest);
  CHECK(result->drifted);

  result = EvaluateColumn(Repeat({0, 1, 2}, 3000), Repeat({0, 1, 2}, 300));
  REQUIRE(result.ok());
  CHECK(result->test == DriftTestKind::kJensenShannon);
  CHECK(result->statistic == Approx(0.0).margin(1e-12));
  CHECK_FALSE(result->drifted);
}

TEST_CASE("AUTO on categorical columns: chi-square, Z and Jensen–Shannon") {
  CategoricalColumn reference{{{"card", 300}, {"cash", 200}, {"transfer", 100}}, 7};
  CategoricalColumn current{{{"card", 100}, {"cash", 60}, {"transfer", 40}, {"crypto", 30}}, 2};
  absl::StatusOr<DriftResult> result = EvaluateColumn(reference, current);
  REQUIRE(result.ok());
  CHECK(result->test == DriftTestKind::kChiSquare);
  CHECK(result->column_kind == ColumnKind::kCategorical);
  CHECK(result->drifted);  // a new category with 30 values
  CHECK(result->reference_rows == 600);
  CHECK(result->current_rows == 230);
  CHECK(result->reference_missing == 7);
  CHECK(result->current_missing == 2);

  result = EvaluateColumn(CategoricalColumn{{{"no", 500}, {"yes", 500}}},
                          CategoricalColumn{{{"no", 52}, {"yes", 48}}});
  REQUIRE(result.ok());
  CHECK(result->test == DriftTestKind::kZTest);
  CHECK_FALSE(result->drifted);

  result = EvaluateColumn(CategoricalColumn{{{"card", 3000}, {"cash", 2000}}},
                          CategoricalColumn{{{"card", 30}, {"cash", 70}}});
  REQUIRE(result.ok());
  CHECK(result->test == DriftTestKind::kJensenShannon);
  CHECK(result->drifted);
}

TEST_CASE("an explicit test and threshold override AUTO's") {
  DriftOptions options;
  options.test = DriftTestKind::kPsi;
  options.threshold = 0.25;
  absl::StatusOr<DriftResult> result =
      EvaluateColumn(Normal(500, 0, 5), Normal(500, 0.3, 6), options);
  REQUIRE(result.ok());
  CHECK(result->test == DriftTestKind::kPsi);
  CHECK(result->threshold.value == 0.25);
  CHECK(result->threshold.drift_when == DriftWhen::kStatisticAtLeast);
  CHECK(result->drifted == (result->statistic >= 0.25));
}

TEST_CASE("too few values give no verdict, with the sizes and missing counts") {
  std::vector<double> current = Normal(29, 5, 7);
  current.push_back(NAN);
  absl::StatusOr<DriftResult> result = EvaluateColumn(Normal(100, 0, 8), current);
  REQUIRE(result.ok());
  CHECK_FALSE(result->enough_data);
  CHECK_FALSE(result->drifted);
  CHECK(std::isnan(result->statistic));
  CHECK_FALSE(result->p_value.has_value());
  CHECK(result->current_rows == 29);
  CHECK(result->current_missing == 1);

  result = EvaluateColumn(std::vector<double>(50, NAN), Normal(50, 0, 9));
  REQUIRE(result.ok());
  CHECK_FALSE(result->enough_data);
  CHECK(result->reference_rows == 0);
  CHECK(result->reference_missing == 50);

  DriftOptions options;
  options.min_rows = 10;
  result = EvaluateColumn(Normal(20, 0, 10), Normal(20, 0, 11), options);
  REQUIRE(result.ok());
  CHECK(result->enough_data);
}

TEST_CASE("refusals name the problem with INVALID_ARGUMENT") {
  DriftOptions options;
  options.min_rows = 0;
  CHECK(EvaluateColumn(Normal(50, 0, 1), Normal(50, 0, 2), options).status().code() ==
        absl::StatusCode::kInvalidArgument);
  options = {};
  options.test = DriftTestKind::kKs;
  const CategoricalColumn column{{{"a", 40}, {"b", 40}}};
  CHECK(EvaluateColumn(column, column, options).status().code() ==
        absl::StatusCode::kInvalidArgument);
  options.test = DriftTestKind::kZTest;
  CHECK(EvaluateColumn(Normal(50, 0, 1), Normal(50, 0, 2), options).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(EvaluateColumn(CategoricalColumn{{{"a", -1}}}, column).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("dataset drift is the share of evaluated columns that drifted") {
  DriftResult drifted, stable, unknown;
  drifted.enough_data = stable.enough_data = true;
  drifted.drifted = true;
  const std::vector<DriftResult> results = {drifted, stable, unknown};
  const DatasetDriftResult half = DatasetDrift(results);
  CHECK(half.columns == 3);
  CHECK(half.evaluated_columns == 2);
  CHECK(half.drifted_columns == 1);
  CHECK(half.drifted_share == 0.5);
  CHECK(half.drifted);  // 0.5 >= 0.5
  CHECK_FALSE(DatasetDrift(results, 0.6).drifted);
  const DatasetDriftResult none = DatasetDrift(std::vector<DriftResult>{unknown});
  CHECK(none.evaluated_columns == 0);
  CHECK_FALSE(none.drifted);
}

}  // namespace
}  // namespace fabrique::monitoring
