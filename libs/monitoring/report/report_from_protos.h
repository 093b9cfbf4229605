#ifndef FABRIQUE_LIBS_MONITORING_REPORT_REPORT_FROM_PROTOS_H_
#define FABRIQUE_LIBS_MONITORING_REPORT_REPORT_FROM_PROTOS_H_

// The report page's model (report_model.h) from what the monitor's API returns: a drift report
// (with its live and reference profiles), a performance report with buckets, and the alerts
// firing. The HTTP page (`/reports/MODEL` on the monitor's metrics port) and
// `fabrique monitor report` both build the page through here, so they show the same thing.
//
// The verdict (health) is read from the figures, in this order:
//   kDegraded       a live metric, on enough labels, is worse than at training by more than
//                   `degradation_tolerance` of the training figure (or the report's severity
//                   is WARNING or worse);
//   kDrifting       a feature or output drifted;
//   kNotEnoughData  no column had enough values for a verdict and the labels were too few;
//   kHealthy        otherwise.
// "Since" is the fire time of the oldest alert firing for that verdict; for a degradation
// without one, the start of the run of buckets that fell below training.

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "fabrique/v1/monitor.pb.h"
#include "libs/monitoring/report/report_model.h"

namespace fabrique::monitoring::report {

struct ReportProtos {
  std::string model;  // Required.
  // The period shown; unset (InfinitePast) = the drift report's window, else the performance
  // report's.
  absl::Time from = absl::InfinitePast();
  absl::Time to = absl::InfinitePast();
  absl::Time generated_at = absl::UnixEpoch();
  std::optional<v1::DriftReport> drift;              // None: no drift section.
  std::optional<v1::PerformanceReport> performance;  // None: no performance section.
  std::vector<v1::Alert> alerts;                     // Firing now; others are left out.
};

struct ReportFromProtosOptions {
  // How much worse than at training a live metric may be, as a share of the training figure,
  // before the model counts as degraded. Default 0.05 (5%).
  double degradation_tolerance = 0.05;
  // Categories drawn per categorical feature, "(other)" included. Default 12.
  size_t max_categories = 12;
};

ReportModel ReportFromProtos(const ReportProtos& protos,
                             const ReportFromProtosOptions& options = {});

// One feature (or output) of a drift report, verdict from its first score (the one its status is
// of), distributions from its `reference` and `live` profiles.
FeatureReport FeatureFromDrift(const v1::FeatureDrift& feature, size_t max_categories = 12);

// Evidently's short name of a test, as the page and the metrics name it: "psi", "ks",
// "jensenshannon", "chisquare", "wasserstein", "z", "out_of_range"; "auto" and "unknown".
absl::string_view DriftMetricName(v1::DriftMetric metric);

// Whether larger values of `metric` are better: known names decide ("auc", "accuracy", ... up;
// "rmse", "mae", "log_loss", ... down), else the message's higher_is_better.
bool MetricHigherIsBetter(const v1::Metric& metric);

// "critical", "warning", "info", "ok" or "unknown".
absl::string_view SeverityName(v1::Severity severity);

// A bucket width that splits [from, to) into at most 60 buckets: the smallest of 5 minutes,
// 15 minutes, 1 hour, 6 hours, 1 day and 7 days that does.
absl::Duration PerformanceBucketFor(absl::Time from, absl::Time to);

}  // namespace fabrique::monitoring::report

#endif  // FABRIQUE_LIBS_MONITORING_REPORT_REPORT_FROM_PROTOS_H_
