#include "libs/monitoring/backtest/canary_comparison.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/core/status_macros.h"
#include "libs/monitoring/backtest/row_resolution.h"
#include "libs/monitoring/backtest/window_performance.h"
#include "libs/monitoring/drift_statistics.h"
#include "libs/training/evaluation.h"

namespace fabrique::monitoring {
namespace {

// Differences this close to the allowance, relative to the primary's value, count as equal.
constexpr double kRounding = 1e-9;

// One version's rows in the period, resolved and evaluated.
struct Side {
  ResolvedRows resolved;
  WindowPerformance performance;
};

absl::StatusOr<Side> Evaluate(v1::Task task, absl::Span<const LabelledRow> rows,
                              const CanaryOptions& options) {
  std::vector<LabelledRow> in_period;
  for (const LabelledRow& row : rows) {
    if (row.time >= options.from && row.time < options.to) in_period.push_back(row);
  }
  Side side;
  ASSIGN_OR_RETURN(side.resolved, ResolveRows(task, in_period, options.class_labels));
  const int64_t joined = static_cast<int64_t>(in_period.size());
  side.performance =
      PerformanceOfResolved(task, side.resolved, joined, joined, {}, options.min_labelled);
  return side;
}

std::optional<double> ValueOf(const WindowPerformance& performance, const std::string& metric) {
  for (const MetricComparison& comparison : performance.metrics) {
    if (comparison.name == metric) return comparison.live;
  }
  return std::nullopt;
}

PredictionSummary Summarise(v1::Task task, const ResolvedRows& rows) {
  PredictionSummary summary;
  summary.count = rows.size();
  if (summary.count == 0) return summary;
  if (task != v1::TASK_MULTICLASS_CLASSIFICATION) {
    double sum = 0;
    for (const double score : rows.scores) sum += score;
    summary.mean_score = sum / static_cast<double>(rows.scores.size());
  }
  if (rows.classes > 0) {
    std::vector<int64_t> counts(rows.classes, 0);
    for (const int64_t predicted : rows.predicted) ++counts[predicted];
    for (const int64_t count : counts) {
      summary.class_shares.push_back(static_cast<double>(count) /
                                     static_cast<double>(summary.count));
    }
  }
  return summary;
}

// Predicted classes as counts by name, for the chi-square test.
CategoryCountMap PredictedCounts(const ResolvedRows& rows) {
  CategoryCountMap counts;
  for (const int64_t predicted : rows.predicted) ++counts[absl::StrCat(predicted)];
  return counts;
}

std::optional<DistributionTest> CompareDistributions(v1::Task task, const ResolvedRows& primary,
                                                     const ResolvedRows& candidate) {
  if (primary.size() == 0 || candidate.size() == 0) return std::nullopt;
  if (task == v1::TASK_MULTICLASS_CLASSIFICATION) {
    absl::StatusOr<ChiSquareResult> chi_square =
        ChiSquare(AlignCategories(PredictedCounts(primary), PredictedCounts(candidate)));
    if (!chi_square.ok()) return std::nullopt;
    return DistributionTest{"chi_square", chi_square->statistic, chi_square->p_value};
  }
  absl::StatusOr<KsResult> ks = Ks2Samp(primary.scores, candidate.scores);
  if (!ks.ok()) return std::nullopt;
  return DistributionTest{"ks", ks->statistic, ks->p_value};
}

std::string Figure(double value) { return absl::StrFormat("%.4g", value); }

std::string Explain(const CanaryComparison& c, int64_t min_labelled) {
  const std::string sizes = absl::StrCat(c.candidate_labelled, " candidate and ",
                                         c.primary_labelled, " primary labelled predictions");
  if (c.verdict == CanaryVerdict::kNotEnoughData) {
    return absl::StrCat("not enough data: ", sizes, ", ", min_labelled, " needed on each side");
  }
  std::string change;
  if (*c.worse_by > 0) {
    change = absl::StrCat("worse by ", Figure(*c.worse_by));
  } else if (*c.worse_by < 0) {
    change = absl::StrCat("better by ", Figure(-*c.worse_by));
  } else {
    change = "equal";
  }
  const std::string allowance =
      c.verdict == CanaryVerdict::kWorse
          ? absl::StrCat(" > ", Figure(c.max_worse_by), " allowed")
          : absl::StrCat(", within the ", Figure(c.max_worse_by), " allowed");
  return absl::StrCat("candidate ", c.metric, " ", Figure(*c.candidate_value), " vs primary ",
                      c.metric, " ", Figure(*c.primary_value), ": ", change, allowance, ", ",
                      sizes);
}

absl::Status CheckOptions(const CanaryOptions& options) {
  if (!std::isfinite(options.max_worse_by) || options.max_worse_by < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_worse_by must be a finite number >= 0, not ", options.max_worse_by));
  }
  if (options.min_labelled < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("min_labelled must be at least 1, not ", options.min_labelled));
  }
  if (options.from >= options.to) {
    return absl::InvalidArgumentError("the period compared is empty (from >= to)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::string_view CanaryVerdictName(CanaryVerdict verdict) {
  switch (verdict) {
    case CanaryVerdict::kNotWorse:
      return "NOT_WORSE";
    case CanaryVerdict::kWorse:
      return "WORSE";
    default:
      return "NOT_ENOUGH_DATA";
  }
}

absl::StatusOr<CanaryComparison> CompareCandidate(v1::Task task,
                                                  absl::Span<const LabelledRow> primary_rows,
                                                  absl::Span<const LabelledRow> candidate_rows,
                                                  const CanaryOptions& options) {
  RETURN_IF_ERROR(CheckOptions(options));
  CanaryComparison c;
  c.metric = options.metric.empty() ? training::PrimaryMetric(task) : options.metric;
  ASSIGN_OR_RETURN(c.higher_is_better, MetricHigherIsBetter(task, c.metric));
  c.max_worse_by = options.max_worse_by;
  ASSIGN_OR_RETURN(Side primary, Evaluate(task, primary_rows, options));
  ASSIGN_OR_RETURN(Side candidate, Evaluate(task, candidate_rows, options));
  for (const auto& [name, side] : {std::pair{"primary", &primary}, {"candidate", &candidate}}) {
    if (MetricNeedsScores(c.metric) && !side->resolved.all_scored) {
      return absl::FailedPreconditionError(
          absl::StrCat(c.metric, " needs the model's scores, and some of the ", name,
                       "'s predictions carry a predicted label only: compare on accuracy"));
    }
  }
  c.primary_labelled = primary.performance.labelled_count;
  c.candidate_labelled = candidate.performance.labelled_count;
  c.primary_predictions = Summarise(task, primary.resolved);
  c.candidate_predictions = Summarise(task, candidate.resolved);
  c.distribution = CompareDistributions(task, primary.resolved, candidate.resolved);
  c.primary_value = ValueOf(primary.performance, c.metric);
  c.candidate_value = ValueOf(candidate.performance, c.metric);
  if (!primary.performance.enough_data || !candidate.performance.enough_data) {
    c.verdict = CanaryVerdict::kNotEnoughData;
  } else {
    c.worse_by = c.higher_is_better ? *c.primary_value - *c.candidate_value
                                    : *c.candidate_value - *c.primary_value;
    const double rounding = kRounding * std::max(1.0, std::abs(*c.primary_value));
    if (std::abs(*c.worse_by) <= rounding) c.worse_by = 0;
    c.verdict =
        *c.worse_by > c.max_worse_by + rounding ? CanaryVerdict::kWorse : CanaryVerdict::kNotWorse;
  }
  c.explanation = Explain(c, options.min_labelled);
  return c;
}

}  // namespace fabrique::monitoring
