#ifndef FABRIQUE_LIBS_MONITORING_REPORTS_REPORT_SOURCE_H_
#define FABRIQUE_LIBS_MONITORING_REPORTS_REPORT_SOURCE_H_

// How the rest of the monitor (the evaluation loop, the HTTP report page, the canary gate) asks
// for reports: computed now from the windows, the reference profile and the joined outcomes,
// stored under a new id, and returned. The monitor's report core implements it.

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "fabrique/v1/monitor.pb.h"

namespace fabrique::monitoring {

class ReportSource {
 public:
  virtual ~ReportSource() = default;

  // Drift of `model` `version` over [from, to) against its reference profile (or, when
  // `baseline` is set, against that earlier range), with `policy`'s tests and thresholds
  // (AUTO and Evidently's thresholds where it names none). Stored with a new report_id.
  // INVALID_ARGUMENT when from >= to; a version without a profile gives a report whose columns
  // say DRIFT_STATUS_NO_REFERENCE, not an error.
  virtual absl::StatusOr<v1::DriftReport> ComputeDriftReport(
      absl::string_view model, int64_t version, absl::Time from, absl::Time to,
      const v1::MonitoringPolicy& policy, const v1::TimeRange* baseline = nullptr) = 0;

  // Performance of `model` `version` over [from, to) from the outcomes joined to its
  // predictions, beside its training metrics and the label coverage; buckets of `bucket` width
  // when it is positive. Stored with a new report_id.
  virtual absl::StatusOr<v1::PerformanceReport> ComputePerformanceReport(
      absl::string_view model, int64_t version, absl::Time from, absl::Time to,
      const v1::MonitoringPolicy& policy, absl::Duration bucket = absl::ZeroDuration()) = 0;
};

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_REPORTS_REPORT_SOURCE_H_
