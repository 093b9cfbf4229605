#ifndef FABRIQUE_LIBS_MONITORING_BACKTEST_CANARY_COMPARISON_H_
#define FABRIQUE_LIBS_MONITORING_BACKTEST_CANARY_COMPARISON_H_

// A candidate against the primary over the same period: the back-tested metric of each, their
// sample sizes, how their predictions are distributed, and the answer to the registry's
// promotion gate "candidate not worse than primary by more than X on metric M, with at least N
// labelled predictions" — NOT_WORSE, WORSE, or NOT_ENOUGH_DATA when either side has fewer than
// N, never a verdict drawn from a handful of outcomes.
//
// "Worse" follows the metric's direction: a lower auc is worse, a higher log_loss or rmse is
// worse. A difference equal to X is allowed; differences within rounding (1e-9 of the primary's
// value) count as equal, so "0.84 - 0.81 > 0.03" is not decided by the last bit of a double.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "fabrique/v1/common.pb.h"
#include "libs/monitoring/backtest/labelled_rows.h"

namespace fabrique::monitoring {

enum class CanaryVerdict { kNotWorse, kWorse, kNotEnoughData };
// "NOT_WORSE", "WORSE", "NOT_ENOUGH_DATA".
absl::string_view CanaryVerdictName(CanaryVerdict verdict);

struct CanaryOptions {
  // The metric compared ("auc", "log_loss", "rmse", ...); "" = the task's primary metric (auc,
  // accuracy or rmse). Must be one the task reports.
  std::string metric;
  // How much worse the candidate may be, in the metric's own unit; default 0, must be >= 0.
  double max_worse_by = 0;
  // Labelled predictions each side needs for a verdict; default 30, at least 1.
  int64_t min_labelled = 30;
  // The models' class labels in output index order (both versions share them); empty for
  // regression or class indices.
  std::vector<std::string> class_labels;
  // The period compared, [from, to): rows outside it are left out of both sides. Default: all.
  absl::Time from = absl::InfinitePast();
  absl::Time to = absl::InfiniteFuture();
};

// How one side's predictions are distributed (over its usable labelled rows).
struct PredictionSummary {
  int64_t count = 0;
  // Binary: mean P(class 1); regression: mean predicted value; multi-class: unset.
  std::optional<double> mean_score;
  // Classifiers: the share of rows predicted as each class, in class index order.
  std::vector<double> class_shares;
};

// A test of whether the two sides' predictions come from one distribution: "ks" (two-sample
// Kolmogorov–Smirnov on P(class 1) or the predicted values) or "chi_square" (the candidate's
// predicted classes against the primary's shares).
struct DistributionTest {
  std::string test;
  double statistic = 0;
  double p_value = 1;
};

struct CanaryComparison {
  std::string metric;
  bool higher_is_better = true;
  CanaryVerdict verdict = CanaryVerdict::kNotEnoughData;
  // Each side's metric; unset when that side has too few labelled predictions.
  std::optional<double> primary_value;
  std::optional<double> candidate_value;
  // How much worse the candidate is, in the metric's unit (negative: better); unset without
  // both values.
  std::optional<double> worse_by;
  double max_worse_by = 0;
  int64_t primary_labelled = 0;
  int64_t candidate_labelled = 0;
  PredictionSummary primary_predictions;
  PredictionSummary candidate_predictions;
  // Unset when a side has no usable row.
  std::optional<DistributionTest> distribution;
  // One sentence for people: "candidate auc 0.81 vs primary 0.84: worse by 0.03 > 0.02
  // allowed, 5000 candidate and 4800 primary labelled predictions".
  std::string explanation;
};

// Compares `candidate_rows` with `primary_rows` (each version's joined predictions) for a model
// of `task`. INVALID_ARGUMENT for an unspecified task, a metric the task does not report, a
// negative or non-finite max_worse_by, min_labelled < 1, an empty period, rows of another task or
// class labels that do not fit it; FAILED_PRECONDITION when the metric needs the models' scores
// (auc, log_loss, ece) and a side's predictions carry labels only.
absl::StatusOr<CanaryComparison> CompareCandidate(v1::Task task,
                                                  absl::Span<const LabelledRow> primary_rows,
                                                  absl::Span<const LabelledRow> candidate_rows,
                                                  const CanaryOptions& options);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_BACKTEST_CANARY_COMPARISON_H_
