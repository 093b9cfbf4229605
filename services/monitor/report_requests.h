#ifndef FABRIQUE_SERVICES_MONITOR_REPORT_REQUESTS_H_
#define FABRIQUE_SERVICES_MONITOR_REPORT_REQUESTS_H_

// How a report request names what it reports on, read into the report core's terms: the
// version behind a model ref, the window (monitor_reports.h says the defaults), list filters.
// No gRPC here.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "fabrique/v1/monitor.pb.h"
#include "libs/monitoring/reports/drift_report.h"
#include "libs/monitoring/reports/report_store.h"
#include "libs/monitoring/reports/report_times.h"
#include "services/monitor/monitor_reports.h"

namespace fabrique::services {

// The alias a ref without a selector means.
inline constexpr char kPrimaryAlias[] = "production";

// The version `ref` names: its version (INVALID_ARGUMENT below 1), or its alias's (the
// production alias without a selector) as `reports.alias_version` says: NOT_FOUND when the
// alias does not exist, UNAVAILABLE when the registry could not be asked.
absl::StatusOr<int64_t> ResolveVersion(const v1::ModelRef& ref, const MonitorReports& reports);

struct ReportWindow {
  absl::Time from;
  absl::Time to;
};

// The window `range` names (unset bounds: the end is `now`, the start the end less the
// policy's window, 1 hour when it sets none). INVALID_ARGUMENT when it does not end after it
// starts.
absl::StatusOr<ReportWindow> WindowOf(const v1::TimeRange& range,
                                      const v1::MonitoringPolicy& policy, absl::Time now);

// What a report request is about once read: the model's policy, the version, the window.
struct ReportTarget {
  v1::MonitoringPolicy policy;
  int64_t version = 0;
  ReportWindow window;
};

// The target of a request for `ref` over `range`, now by `reports.clock`. Errors as
// ResolveVersion and WindowOf.
absl::StatusOr<ReportTarget> TargetOf(const v1::ModelRef& ref, const v1::TimeRange& range,
                                      const MonitorReports& reports);

// The drift query of `request` on `target`. INVALID_ARGUMENT for a baseline window missing a
// bound.
absl::StatusOr<monitoring::DriftQuery> DriftQueryOf(const v1::GetDriftReportRequest& request,
                                                    const ReportTarget& target);

// A list filter from a list request's fields.
monitoring::ReportFilter FilterOf(const std::string& model, int64_t version,
                                  const v1::TimeRange& range,
                                  v1::Severity min_severity = v1::SEVERITY_UNSPECIFIED);

using monitoring::TimeOf;

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_MONITOR_REPORT_REQUESTS_H_
