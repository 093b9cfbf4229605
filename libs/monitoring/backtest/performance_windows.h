#ifndef FABRIQUE_LIBS_MONITORING_BACKTEST_PERFORMANCE_WINDOWS_H_
#define FABRIQUE_LIBS_MONITORING_BACKTEST_PERFORMANCE_WINDOWS_H_

// Performance over time: the joined predictions split into tumbling windows of one width,
// aligned to the Unix epoch (so hourly windows start on the hour, whoever asks), each computed
// as ComputePerformance does. A window holds the predictions scored in [start, start + width):
// a prediction on a boundary belongs to the window it opens.

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "fabrique/v1/common.pb.h"
#include "libs/monitoring/backtest/labelled_rows.h"
#include "libs/monitoring/backtest/window_performance.h"

namespace fabrique::monitoring {

struct WindowOptions {
  // Width of each window; default one hour, must be positive.
  absl::Duration width = absl::Hours(1);
  // Most windows one call computes (a guard against a tiny width over a long span); default
  // 10,000.
  int64_t max_windows = 10000;
  // Applied to each window (min_labelled, class labels).
  PerformanceOptions performance;
};

// The start of the window that holds `time`.
absl::Time WindowStart(absl::Time time, absl::Duration width);

// The performance of each window from the first to the last that holds a prediction, oldest
// first; a window between them with no prediction is included (no data, zero coverage), so a
// series has no silent gaps. `rows` are the version's joined predictions, `prediction_times`
// the times of all its predictions in the same span (for the coverage of each window).
// INVALID_ARGUMENT for a width <= 0, an infinite time, more windows than max_windows, a window
// with more rows than predictions, and ComputePerformance's own refusals.
absl::StatusOr<std::vector<WindowPerformance>> PerformanceByWindow(
    v1::Task task, absl::Span<const LabelledRow> rows,
    absl::Span<const absl::Time> prediction_times, absl::Span<const v1::Metric> training_metrics,
    const WindowOptions& options = {});

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_BACKTEST_PERFORMANCE_WINDOWS_H_
