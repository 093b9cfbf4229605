// A candidate against the primary: each verdict, metrics where lower is better, the allowance's
// edge, sample sizes and the sentence people read, the prediction distributions, and refusals.

#include "libs/monitoring/backtest/canary_comparison.h"

#include <cmath>
#include <string>
#include <vector>

#include "catch2/catch.hpp"

namespace fabrique::monitoring {
namespace {

// `n` binary rows, the first `correct` of them predicted right (P(class 1) = 0.9 or 0.1).
std::vector<LabelledRow> Accurate(int n, int correct) {
  std::vector<LabelledRow> rows;
  for (int i = 0; i < n; ++i) {
    LabelledRow row;
    const int64_t label = i % 2;
    const bool right = i < correct;
    row.scores = {(label == 1) == right ? 0.9 : 0.1};
    row.label.set_int64_value(label);
    rows.push_back(row);
  }
  return rows;
}

// `n` regression rows whose errors are ±`error` (an RMSE of `error`).
std::vector<LabelledRow> Erring(int n, double error) {
  std::vector<LabelledRow> rows;
  for (int i = 0; i < n; ++i) {
    LabelledRow row;
    row.scores = {10 + (i % 2 == 0 ? error : -error)};
    row.label.set_double_value(10);
    rows.push_back(row);
  }
  return rows;
}

// `n` binary rows predicted right with confidence `p`.
std::vector<LabelledRow> Confident(int n, double p) {
  std::vector<LabelledRow> rows;
  for (int i = 0; i < n; ++i) {
    LabelledRow row;
    const int64_t label = i % 2;
    row.scores = {label == 1 ? p : 1 - p};
    row.label.set_int64_value(label);
    rows.push_back(row);
  }
  return rows;
}

// The comparison, which must succeed.
CanaryComparison Compare(v1::Task task, const std::vector<LabelledRow>& primary,
                         const std::vector<LabelledRow>& candidate, const CanaryOptions& options) {
  absl::StatusOr<CanaryComparison> comparison = CompareCandidate(task, primary, candidate, options);
  REQUIRE(comparison.ok());
  return *std::move(comparison);
}

CanaryOptions On(const std::string& metric, double max_worse_by, int64_t min_labelled = 30) {
  CanaryOptions options;
  options.metric = metric;
  options.max_worse_by = max_worse_by;
  options.min_labelled = min_labelled;
  return options;
}

TEST_CASE("Worse by more than allowed: WORSE, with both figures and sample sizes") {
  CanaryComparison c = Compare(v1::TASK_BINARY_CLASSIFICATION, Accurate(100, 84), Accurate(100, 81),
                               On("accuracy", 0.02));
  CHECK(c.verdict == CanaryVerdict::kWorse);
  CHECK(CanaryVerdictName(c.verdict) == "WORSE");
  CHECK(*c.primary_value == Approx(0.84));
  CHECK(*c.candidate_value == Approx(0.81));
  CHECK(*c.worse_by == Approx(0.03));
  CHECK(c.primary_labelled == 100);
  CHECK(c.candidate_labelled == 100);
  CHECK(c.explanation ==
        "candidate accuracy 0.81 vs primary accuracy 0.84: worse by 0.03 > 0.02 allowed, 100 "
        "candidate and 100 primary labelled predictions");
}

TEST_CASE("Worse by exactly the allowance, by less, or better: NOT_WORSE") {
  // 0.84 - 0.81 is 0.030000000000000027 in doubles: still exactly the allowance.
  CanaryComparison c = Compare(v1::TASK_BINARY_CLASSIFICATION, Accurate(100, 84), Accurate(100, 81),
                               On("accuracy", 0.03));
  CHECK(c.verdict == CanaryVerdict::kNotWorse);
  CHECK(CanaryVerdictName(c.verdict) == "NOT_WORSE");
  CHECK(c.explanation ==
        "candidate accuracy 0.81 vs primary accuracy 0.84: worse by 0.03, within the 0.03 "
        "allowed, 100 candidate and 100 primary labelled predictions");
  c = Compare(v1::TASK_BINARY_CLASSIFICATION, Accurate(100, 84), Accurate(120, 99),
              On("accuracy", 0.02));
  CHECK(c.verdict == CanaryVerdict::kNotWorse);
  CHECK(*c.worse_by == Approx(0.015));  // 0.825 vs 0.84
  CHECK(c.candidate_labelled == 120);
  c = Compare(v1::TASK_BINARY_CLASSIFICATION, Accurate(100, 84), Accurate(100, 90),
              On("accuracy", 0));
  CHECK(c.verdict == CanaryVerdict::kNotWorse);
  CHECK(*c.worse_by == Approx(-0.06));
  CHECK(c.explanation.find("better by 0.06, within the 0 allowed") != std::string::npos);
  // Equal figures.
  c = Compare(v1::TASK_BINARY_CLASSIFICATION, Accurate(100, 84), Accurate(100, 84),
              On("accuracy", 0));
  CHECK(c.verdict == CanaryVerdict::kNotWorse);
  CHECK(*c.worse_by == 0);
}

TEST_CASE("Too few labelled predictions on either side: NOT_ENOUGH_DATA, no verdict") {
  CanaryComparison c = Compare(v1::TASK_BINARY_CLASSIFICATION, Accurate(4800, 4000),
                               Accurate(12, 1), On("accuracy", 0.02));
  CHECK(c.verdict == CanaryVerdict::kNotEnoughData);
  CHECK(CanaryVerdictName(c.verdict) == "NOT_ENOUGH_DATA");
  CHECK(c.primary_value.has_value());
  CHECK_FALSE(c.candidate_value.has_value());
  CHECK_FALSE(c.worse_by.has_value());
  CHECK(c.explanation ==
        "not enough data: 12 candidate and 4800 primary labelled predictions, 30 needed on each "
        "side");
  c = Compare(v1::TASK_BINARY_CLASSIFICATION, Accurate(29, 29), Accurate(500, 400),
              On("accuracy", 0.02));
  CHECK(c.verdict == CanaryVerdict::kNotEnoughData);
  // Exactly the minimum is enough.
  c = Compare(v1::TASK_BINARY_CLASSIFICATION, Accurate(30, 30), Accurate(30, 30),
              On("accuracy", 0));
  CHECK(c.verdict == CanaryVerdict::kNotWorse);
}

TEST_CASE("Lower is better: a higher RMSE or log loss is worse") {
  CanaryComparison c =
      Compare(v1::TASK_REGRESSION, Erring(100, 1.0), Erring(100, 1.5), On("rmse", 0.2));
  CHECK_FALSE(c.higher_is_better);
  CHECK(c.verdict == CanaryVerdict::kWorse);
  CHECK(*c.worse_by == Approx(0.5));
  CHECK(c.explanation ==
        "candidate rmse 1.5 vs primary rmse 1: worse by 0.5 > 0.2 allowed, 100 candidate and 100 "
        "primary labelled predictions");
  c = Compare(v1::TASK_REGRESSION, Erring(100, 1.0), Erring(100, 0.5), On("rmse", 0));
  CHECK(c.verdict == CanaryVerdict::kNotWorse);
  CHECK(*c.worse_by == Approx(-0.5));
  c = Compare(v1::TASK_REGRESSION, Erring(100, 1.0), Erring(100, 1.1), On("mae", 0.2));
  CHECK(c.verdict == CanaryVerdict::kNotWorse);

  // log loss: -ln 0.9 = 0.105 for the primary, -ln 0.6 = 0.511 for the candidate.
  c = Compare(v1::TASK_BINARY_CLASSIFICATION, Confident(100, 0.9), Confident(100, 0.6),
              On("log_loss", 0.1));
  CHECK(c.verdict == CanaryVerdict::kWorse);
  CHECK(*c.worse_by == Approx(std::log(0.9) - std::log(0.6)));
  c = Compare(v1::TASK_BINARY_CLASSIFICATION, Confident(100, 0.6), Confident(100, 0.9),
              On("log_loss", 0));
  CHECK(c.verdict == CanaryVerdict::kNotWorse);
  // Both sides are equally accurate, so accuracy sees no difference where log loss does.
  c = Compare(v1::TASK_BINARY_CLASSIFICATION, Confident(100, 0.9), Confident(100, 0.6),
              On("accuracy", 0));
  CHECK(c.verdict == CanaryVerdict::kNotWorse);
}

TEST_CASE("The default metric is the task's primary one: auc for binary") {
  CanaryComparison c =
      Compare(v1::TASK_BINARY_CLASSIFICATION, Accurate(100, 100), Accurate(100, 50), On("", 0.1));
  CHECK(c.metric == "auc");
  CHECK(c.higher_is_better);
  CHECK(*c.primary_value == Approx(1.0));
  CHECK(c.verdict == CanaryVerdict::kWorse);
}

TEST_CASE("Prediction distributions: summaries and a two-sample test") {
  CanaryComparison c = Compare(v1::TASK_BINARY_CLASSIFICATION, Confident(100, 0.9),
                               Confident(100, 0.9), On("auc", 0));
  REQUIRE(c.distribution.has_value());
  CHECK(c.distribution->test == "ks");
  CHECK(c.distribution->statistic == 0);
  CHECK(c.distribution->p_value == Approx(1));
  CHECK(c.primary_predictions.count == 100);
  CHECK(*c.primary_predictions.mean_score == Approx(0.5));  // 0.9 and 0.1 alternating.
  CHECK(c.primary_predictions.class_shares == std::vector<double>{0.5, 0.5});

  // Every candidate prediction on the high side: the distributions differ.
  std::vector<LabelledRow> high = Accurate(100, 100);
  for (LabelledRow& row : high) row.scores = {0.9};
  c = Compare(v1::TASK_BINARY_CLASSIFICATION, Accurate(100, 100), high, On("accuracy", 0));
  CHECK(c.distribution->statistic == Approx(0.5));
  CHECK(c.distribution->p_value < 1e-5);
  CHECK(*c.candidate_predictions.mean_score == Approx(0.9));
  CHECK(c.candidate_predictions.class_shares == std::vector<double>{0, 1});

  // Multi-class: the predicted classes, chi-square.
  std::vector<LabelledRow> primary, candidate;
  for (int i = 0; i < 60; ++i) {
    LabelledRow row;
    row.label.set_int64_value(i % 3);
    row.scores = {0.1, 0.1, 0.1};
    row.scores[i % 3] = 0.8;
    primary.push_back(row);
    row.scores = {0.8, 0.1, 0.1};
    candidate.push_back(row);
  }
  c = Compare(v1::TASK_MULTICLASS_CLASSIFICATION, primary, candidate, On("macro_f1", 0.05));
  CHECK(c.verdict == CanaryVerdict::kWorse);
  CHECK(c.distribution->test == "chi_square");
  CHECK(c.distribution->p_value < 1e-10);
  CHECK(c.candidate_predictions.class_shares == std::vector<double>{1, 0, 0});
  CHECK_FALSE(c.candidate_predictions.mean_score.has_value());
}

TEST_CASE("The period compared leaves out rows outside it on both sides") {
  std::vector<LabelledRow> primary = Accurate(100, 84), candidate = Accurate(100, 81);
  const absl::Time start = absl::FromUnixSeconds(1'800'000'000);
  for (int i = 0; i < 100; ++i) {
    primary[i].time = start + absl::Minutes(i);
    candidate[i].time = start + absl::Minutes(i);
  }
  CanaryOptions options = On("accuracy", 0);
  options.from = start;
  options.to = start + absl::Minutes(50);  // The first 50 rows: all right on both sides.
  CanaryComparison c = Compare(v1::TASK_BINARY_CLASSIFICATION, primary, candidate, options);
  CHECK(c.primary_labelled == 50);
  CHECK(c.candidate_labelled == 50);
  CHECK(*c.worse_by == 0);
  CHECK(c.verdict == CanaryVerdict::kNotWorse);
}

TEST_CASE("Refusals: metric, allowance, sample size, period, scores") {
  const auto code = [](v1::Task task, const CanaryOptions& options) {
    return CompareCandidate(task, Accurate(40, 30), Accurate(40, 30), options).status().code();
  };
  CHECK(code(v1::TASK_BINARY_CLASSIFICATION, On("rmse", 0)) == absl::StatusCode::kInvalidArgument);
  CHECK(code(v1::TASK_UNSPECIFIED, On("auc", 0)) == absl::StatusCode::kInvalidArgument);
  CHECK(code(v1::TASK_BINARY_CLASSIFICATION, On("auc", -0.1)) ==
        absl::StatusCode::kInvalidArgument);
  CHECK(code(v1::TASK_BINARY_CLASSIFICATION, On("auc", NAN)) == absl::StatusCode::kInvalidArgument);
  CHECK(code(v1::TASK_BINARY_CLASSIFICATION, On("auc", 0, 0)) ==
        absl::StatusCode::kInvalidArgument);
  CanaryOptions empty = On("auc", 0);
  empty.from = empty.to = absl::UnixEpoch();
  CHECK(code(v1::TASK_BINARY_CLASSIFICATION, empty) == absl::StatusCode::kInvalidArgument);

  // A candidate that logs predicted labels only cannot be ranked: auc is refused, accuracy works.
  std::vector<LabelledRow> labels_only = Accurate(40, 30);
  for (LabelledRow& row : labels_only) {
    row.predicted_label = row.scores[0] >= 0.5 ? "1" : "0";
    row.scores.clear();
  }
  CHECK(
      CompareCandidate(v1::TASK_BINARY_CLASSIFICATION, Accurate(40, 30), labels_only, On("auc", 0))
          .status()
          .code() == absl::StatusCode::kFailedPrecondition);
  CanaryComparison c =
      Compare(v1::TASK_BINARY_CLASSIFICATION, Accurate(40, 30), labels_only, On("accuracy", 0));
  CHECK(c.verdict == CanaryVerdict::kNotWorse);
  CHECK(*c.worse_by == 0);
}

}  // namespace
}  // namespace fabrique::monitoring
