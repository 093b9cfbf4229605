#include "libs/monitoring/reports/performance_report.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/monitoring/backtest/performance_windows.h"
#include "libs/monitoring/backtest/window_performance.h"
#include "libs/monitoring/reports/report_times.h"

namespace fabrique::monitoring {
namespace {

// Metrics are shown however few the labels are: the report says how far to trust them.
PerformanceOptions AnyLabels(const PerformanceData& data) {
  PerformanceOptions options;
  options.min_labelled = 1;
  options.class_labels = data.class_labels;
  return options;
}

v1::Severity SeverityOf(const v1::PerformanceReport& report, const v1::MonitoringPolicy& policy) {
  if (!report.sufficient_labels()) return v1::SEVERITY_INFO;
  for (const v1::MetricThreshold& threshold : policy.performance()) {
    for (const v1::Metric& metric : report.metrics()) {
      if (metric.name() == threshold.metric() && !Satisfies(metric.value(), threshold)) {
        return v1::SEVERITY_WARNING;
      }
    }
  }
  return v1::SEVERITY_OK;
}

}  // namespace

bool Satisfies(double value, const v1::MetricThreshold& threshold) {
  switch (threshold.op()) {
    case v1::COMPARISON_OP_GREATER:
      return value > threshold.value();
    case v1::COMPARISON_OP_GREATER_OR_EQUAL:
      return value >= threshold.value();
    case v1::COMPARISON_OP_LESS:
      return value < threshold.value();
    case v1::COMPARISON_OP_LESS_OR_EQUAL:
      return value <= threshold.value();
    case v1::COMPARISON_OP_EQUAL:
      return value == threshold.value();
    default:
      return true;
  }
}

absl::StatusOr<v1::PerformanceReport> BuildPerformanceReport(const PerformanceQuery& query,
                                                             const PerformanceData& data,
                                                             const v1::MonitoringPolicy& policy) {
  if (query.bucket < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("a performance bucket cannot be negative");
  }
  const int64_t predicted = data.prediction_count;
  ASSIGN_OR_RETURN(
      WindowPerformance whole,
      ComputePerformance(data.task, data.rows, predicted, data.training_metrics, AnyLabels(data)));
  v1::PerformanceReport report;
  report.mutable_model_version()->set_model(query.model);
  report.mutable_model_version()->set_version(query.version);
  SetRange(query.from, query.to, report.mutable_window());
  report.set_prediction_count(predicted);
  report.set_labelled_count(whole.joined_count);
  report.set_label_coverage(whole.label_coverage);
  for (v1::Metric& metric : LiveMetrics(whole)) *report.add_metrics() = std::move(metric);
  for (const v1::Metric& metric : data.training_metrics) *report.add_training_metrics() = metric;
  report.set_sufficient_labels(whole.joined_count >= policy.min_labelled() &&
                               whole.labelled_count > 0);
  if (query.bucket > absl::ZeroDuration() && !data.rows.empty()) {
    WindowOptions options;
    options.width = query.bucket;
    options.performance = AnyLabels(data);
    ASSIGN_OR_RETURN(std::vector<WindowPerformance> windows,
                     PerformanceByWindow(data.task, data.rows, data.prediction_times,
                                         data.training_metrics, options));
    for (const WindowPerformance& window : windows) {
      v1::PerformanceBucket* bucket = report.add_buckets();
      SetRange(window.start, window.end, bucket->mutable_window());
      bucket->set_labelled_count(window.joined_count);
      for (v1::Metric& metric : LiveMetrics(window)) *bucket->add_metrics() = std::move(metric);
    }
  }
  report.set_severity(SeverityOf(report, policy));
  return report;
}

}  // namespace fabrique::monitoring
