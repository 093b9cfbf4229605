#ifndef FABRIQUE_LIBS_MONITORING_REPORTS_DRIFT_REPORT_H_
#define FABRIQUE_LIBS_MONITORING_REPORTS_DRIFT_REPORT_H_

// A drift report assembled from what the monitor keeps: the live summaries of a window
// (window_source.h) against a version's reference profile, or against the summaries of an
// earlier live range. Pure: no storage, no clock; ReportEngine stores what this builds.
//
// Columns: one per model input, named by the profile's features in signature order (live
// inputs past the profile's are named "input_<i>"), then one per output by name: the profile's
// predictions first, then outputs only live data has. A column the reference lacks, or every
// column when there is no reference at all (report.no_reference), is DRIFT_STATUS_NO_REFERENCE.
// Dataset drift counts the inputs' verdicts against policy.dataset_drift_share (0 = 0.5).
// A column needs policy.min_samples values on each side for a verdict (0 = 30, Evidently's
// floor); the report is sufficient_data when the window holds min_samples predictions.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "fabrique/v1/common.pb.h"
#include "fabrique/v1/monitor.pb.h"
#include "libs/monitoring/windows/window_source.h"

namespace fabrique::monitoring {

struct DriftQuery {
  std::string model;
  int64_t version = 0;
  absl::Time from;  // The window, [from, to).
  absl::Time to;
  // Tests to run; empty = the policy's (see drift_scoring.h).
  std::vector<v1::DriftMetric> metrics;
  // Fill FeatureDrift.live and .reference.
  bool include_live_profiles = false;
  // Compare with this earlier range of live data instead of the reference profile.
  bool has_baseline = false;
  absl::Time baseline_from;
  absl::Time baseline_to;
};

struct DriftSides {
  const LiveSummaries* current = nullptr;         // Required.
  const v1::ReferenceProfile* profile = nullptr;  // nullptr: none (ignored with a baseline).
  const LiveSummaries* baseline = nullptr;        // Set with query.has_baseline.
  bool unknown_version = false;                   // The registry does not know the version.
};

// The report of `query` on `sides` under `policy`, without report_id and compute_time.
// INVALID_ARGUMENT for a reference that cannot be read, or DRIFT_METRIC_UNSPECIFIED asked.
absl::StatusOr<v1::DriftReport> BuildDriftReport(const DriftQuery& query, const DriftSides& sides,
                                                 const v1::MonitoringPolicy& policy);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_REPORTS_DRIFT_REPORT_H_
