#ifndef FABRIQUE_LIBS_MONITORING_BACKTEST_WINDOW_PERFORMANCE_H_
#define FABRIQUE_LIBS_MONITORING_BACKTEST_WINDOW_PERFORMANCE_H_

// How a model version did on the outcomes joined to its predictions over one window, each
// metric beside the figure it reached at training time:
//
//   binary       auc, log_loss, accuracy, precision, recall, ece
//   multi-class  accuracy, macro_f1, log_loss
//   regression   rmse, mae, r2
//
// computed by the trainer's own functions (libs/training/evaluation.h), so a live figure and a
// training figure mean the same thing. Metrics of ranking and probability (auc, log_loss, ece)
// need the model's scores: over rows that carry only a predicted label they are left out.
// Below `min_labelled` usable rows a window says "not enough data" and gives no metric.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "fabrique/v1/common.pb.h"
#include "libs/monitoring/backtest/labelled_rows.h"
#include "libs/monitoring/backtest/row_resolution.h"

namespace fabrique::monitoring {

// One live metric beside the training figure.
struct MetricComparison {
  std::string name;  // "auc", "rmse", ... (v1::Metric's names)
  double live = 0;
  // The version's figure from training (its test split, else validation, else any other);
  // unset when the version registered none under this name.
  std::optional<double> training;
  bool higher_is_better = true;
  // live - training (unset with training): positive is better when higher_is_better.
  std::optional<double> delta;
};

struct PerformanceOptions {
  // Usable labelled rows below which a window gives "not enough data" instead of metrics.
  // Default 30; at least 1.
  int64_t min_labelled = 30;
  // The model's class labels in output index order (its signature's class_labels); empty for
  // regression, or when labels and predicted labels are class indices.
  std::vector<std::string> class_labels;
};

struct WindowPerformance {
  // The window; infinite bounds when the rows were not split into windows.
  absl::Time start = absl::InfinitePast();
  absl::Time end = absl::InfiniteFuture();
  int64_t predicted_count = 0;  // Predictions the version made in the window.
  int64_t joined_count = 0;     // Those with an outcome joined: the rows given.
  int64_t labelled_count = 0;   // Joined rows usable for metrics.
  int64_t skipped_count = 0;    // Joined rows left out (a label or score that cannot be read).
  std::string skipped_reason;   // Why the first of them was; "" when none.
  double label_coverage = 0;    // joined_count / predicted_count, 0..1; 0 without predictions.
  bool enough_data = false;     // labelled_count >= min_labelled
  std::string reason;           // "not enough data: ..." when !enough_data; else "".
  std::vector<MetricComparison> metrics;  // Empty when !enough_data.
};

// The performance of `rows` (the joined predictions of one version in one window) for a model
// of `task`, out of `predicted_count` predictions, beside `training_metrics` (the version's
// registered metrics). INVALID_ARGUMENT for an unspecified task, a row of another task,
// class labels that do not fit the task, min_labelled < 1, or a predicted_count below the
// number of rows.
absl::StatusOr<WindowPerformance> ComputePerformance(v1::Task task,
                                                     absl::Span<const LabelledRow> rows,
                                                     int64_t predicted_count,
                                                     absl::Span<const v1::Metric> training_metrics,
                                                     const PerformanceOptions& options = {});

// The same over rows already read by ResolveRows (`joined_count` rows were given to it), for a
// caller that also needs the resolved rows; the arguments are taken as valid.
WindowPerformance PerformanceOfResolved(v1::Task task, const ResolvedRows& rows,
                                        int64_t joined_count, int64_t predicted_count,
                                        absl::Span<const v1::Metric> training_metrics,
                                        int64_t min_labelled);

// The metrics as the monitor reports them (PerformanceReport.metrics): split "live", the
// training figure as the baseline.
std::vector<v1::Metric> LiveMetrics(const WindowPerformance& performance);

// Whether larger values of metric `name` are better, for a model of `task`; INVALID_ARGUMENT
// when the task does not report that metric (or the task is unspecified).
absl::StatusOr<bool> MetricHigherIsBetter(v1::Task task, const std::string& name);

// Whether metric `name` ranks or weighs probabilities (auc, log_loss, ece), and so needs the
// model's scores rather than predicted labels.
bool MetricNeedsScores(const std::string& name);

// The training figure of metric `name`: split "test", else "validation", else any split but
// "train" and "live", else "train"; nullptr when there is none.
const v1::Metric* TrainingFigure(absl::Span<const v1::Metric> training_metrics,
                                 const std::string& name);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_BACKTEST_WINDOW_PERFORMANCE_H_
