#ifndef FABRIQUE_LIBS_MONITORING_REPORTS_PERFORMANCE_REPORT_H_
#define FABRIQUE_LIBS_MONITORING_REPORTS_PERFORMANCE_REPORT_H_

// A performance report assembled from a version's joined predictions (back-testing,
// libs/monitoring/backtest): its live metrics beside the training figures, the label coverage,
// a series of buckets when asked, and a severity from the policy's metric floors. Pure: no
// storage, no clock; ReportEngine stores what this builds.
//
// Metrics are computed over every usable labelled row, however few: below policy.min_labelled
// the report says sufficient_labels false (the metrics are indicative) and its severity is INFO.
// With enough labels, a metric that breaks one of policy.performance's thresholds makes the
// report WARNING (the alert it raises is the policy's business); else OK.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "fabrique/v1/common.pb.h"
#include "fabrique/v1/monitor.pb.h"
#include "libs/monitoring/backtest/labelled_rows.h"

namespace fabrique::monitoring {

struct PerformanceQuery {
  std::string model;
  int64_t version = 0;
  absl::Time from;  // The window, [from, to).
  absl::Time to;
  // Bucket width for the series; zero = no series.
  absl::Duration bucket = absl::ZeroDuration();
};

struct PerformanceData {
  v1::Task task = v1::TASK_UNSPECIFIED;  // Required.
  // The model's class labels in output order; may be empty (see row_resolution.h).
  std::vector<std::string> class_labels;
  // The version's metrics at training.
  std::vector<v1::Metric> training_metrics;
  // The joined predictions of the window, and how many predictions it holds in all.
  std::vector<LabelledRow> rows;
  int64_t prediction_count = 0;
  // The times of all its predictions, for a series (query.bucket > 0) only: a report without
  // one needs their count, and a window's predictions may number millions.
  std::vector<absl::Time> prediction_times;
};

// The report of `query` on `data` under `policy`, without report_id and compute_time.
// INVALID_ARGUMENT for an unspecified task, a negative bucket, or class labels that do not fit
// the task.
absl::StatusOr<v1::PerformanceReport> BuildPerformanceReport(const PerformanceQuery& query,
                                                             const PerformanceData& data,
                                                             const v1::MonitoringPolicy& policy);

// Whether `value` satisfies `threshold` (e.g. auc >= 0.75); true for an unspecified operator.
bool Satisfies(double value, const v1::MetricThreshold& threshold);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_REPORTS_PERFORMANCE_REPORT_H_
