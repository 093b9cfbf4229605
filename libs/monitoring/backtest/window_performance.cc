#include "libs/monitoring/backtest/window_performance.h"

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/monitoring/backtest/row_resolution.h"
#include "libs/training/evaluation.h"

namespace fabrique::monitoring {
namespace {

constexpr char kLiveSplit[] = "live";

// The trainer's metrics of the resolved rows. Their baselines are not used: the training
// figure takes that place, so the baseline inputs are neutral values.
std::vector<v1::Metric> EvaluationMetrics(v1::Task task, const ResolvedRows& rows) {
  switch (task) {
    case v1::TASK_BINARY_CLASSIFICATION:
      return training::BinaryMetrics(rows.scores, rows.labels, 0.5, kLiveSplit);
    case v1::TASK_MULTICLASS_CLASSIFICATION: {
      const std::vector<double> uniform(rows.classes, 1.0 / rows.classes);
      return training::MulticlassMetrics(rows.scores, rows.classes, rows.labels, uniform,
                                         kLiveSplit);
    }
    default:
      return training::RegressionMetrics(rows.scores, rows.targets, 0, kLiveSplit);
  }
}

int SplitPreference(const std::string& split) {
  if (split == "test") return 0;
  if (split == "validation") return 1;
  if (split == "train") return 3;
  return 2;
}

}  // namespace

absl::StatusOr<bool> MetricHigherIsBetter(v1::Task task, const std::string& name) {
  if (task == v1::TASK_UNSPECIFIED) {
    return absl::InvalidArgumentError("the model's task is not set");
  }
  // The metrics of no rows: their names and directions, as the trainer defines them.
  ResolvedRows none;
  none.classes = task == v1::TASK_REGRESSION ? 0 : 2;
  for (const v1::Metric& metric : EvaluationMetrics(task, none)) {
    if (metric.name() == name) return metric.higher_is_better();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("a ", v1::Task_Name(task), " model does not report metric '", name, "'"));
}

bool MetricNeedsScores(const std::string& name) {
  return name == "auc" || name == "log_loss" || name == "ece";
}

const v1::Metric* TrainingFigure(absl::Span<const v1::Metric> training_metrics,
                                 const std::string& name) {
  const v1::Metric* best = nullptr;
  for (const v1::Metric& metric : training_metrics) {
    if (metric.name() != name || metric.split() == kLiveSplit) continue;
    if (best == nullptr || SplitPreference(metric.split()) < SplitPreference(best->split())) {
      best = &metric;
    }
  }
  return best;
}

absl::StatusOr<WindowPerformance> ComputePerformance(v1::Task task,
                                                     absl::Span<const LabelledRow> rows,
                                                     int64_t predicted_count,
                                                     absl::Span<const v1::Metric> training_metrics,
                                                     const PerformanceOptions& options) {
  if (options.min_labelled < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("min_labelled must be at least 1, not ", options.min_labelled));
  }
  const int64_t joined = static_cast<int64_t>(rows.size());
  if (predicted_count < joined) {
    return absl::InvalidArgumentError(
        absl::StrCat(joined, " joined outcomes for only ", predicted_count, " predictions"));
  }
  ASSIGN_OR_RETURN(ResolvedRows resolved, ResolveRows(task, rows, options.class_labels));
  return PerformanceOfResolved(task, resolved, joined, predicted_count, training_metrics,
                               options.min_labelled);
}

WindowPerformance PerformanceOfResolved(v1::Task task, const ResolvedRows& rows,
                                        int64_t joined_count, int64_t predicted_count,
                                        absl::Span<const v1::Metric> training_metrics,
                                        int64_t min_labelled) {
  WindowPerformance performance;
  performance.predicted_count = predicted_count;
  performance.joined_count = joined_count;
  performance.labelled_count = rows.size();
  performance.skipped_count = rows.skipped;
  performance.skipped_reason = rows.skip_reason;
  performance.label_coverage =
      predicted_count > 0 ? static_cast<double>(joined_count) / static_cast<double>(predicted_count)
                          : 0;
  performance.enough_data = performance.labelled_count >= min_labelled;
  if (!performance.enough_data) {
    performance.reason = absl::StrCat("not enough data: ", performance.labelled_count,
                                      " labelled predictions, ", min_labelled, " needed");
    return performance;
  }
  for (const v1::Metric& metric : EvaluationMetrics(task, rows)) {
    if (!rows.all_scored && MetricNeedsScores(metric.name())) continue;
    MetricComparison comparison;
    comparison.name = metric.name();
    comparison.live = metric.value();
    comparison.higher_is_better = metric.higher_is_better();
    if (const v1::Metric* training = TrainingFigure(training_metrics, metric.name())) {
      comparison.training = training->value();
      comparison.delta = metric.value() - training->value();
    }
    performance.metrics.push_back(std::move(comparison));
  }
  return performance;
}

std::vector<v1::Metric> LiveMetrics(const WindowPerformance& performance) {
  std::vector<v1::Metric> metrics;
  for (const MetricComparison& comparison : performance.metrics) {
    v1::Metric& metric = metrics.emplace_back();
    metric.set_name(comparison.name);
    metric.set_value(comparison.live);
    metric.set_higher_is_better(comparison.higher_is_better);
    metric.set_split(kLiveSplit);
    if (comparison.training) metric.mutable_baseline()->set_value(*comparison.training);
  }
  return metrics;
}

}  // namespace fabrique::monitoring
