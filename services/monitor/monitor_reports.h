#ifndef FABRIQUE_SERVICES_MONITOR_MONITOR_REPORTS_H_
#define FABRIQUE_SERVICES_MONITOR_MONITOR_REPORTS_H_

// What the monitor's report calls (GetDriftReport, ListDriftReports, GetPerformanceReport,
// ListPerformanceReports, PutReferenceProfile, GetReferenceProfile) need, given to
// MonitorService by main.cc. Without an engine those calls answer UNIMPLEMENTED.
//
// How a call picks what to report on:
//   - the model ref: a version as given; an alias through the registry; neither = the
//     "production" alias (NOT_FOUND when the model has none, UNAVAILABLE when the registry does
//     not answer);
//   - the window: as given; an unset end = now, an unset start = the end less the policy's
//     window (0 = 1 hour);
//   - the tests: the request's metrics, else the policy's, else AUTO. A named test that does
//     not fit a column's type (KS on categories) is left out for that column, which then gets
//     AUTO: one categorical column does not fail a report on numeric ones.

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/monitor.pb.h"
#include "libs/core/clock.h"
#include "libs/monitoring/reference/reference_profiles.h"
#include "libs/monitoring/reports/report_engine.h"
#include "libs/monitoring/reports/report_store.h"

namespace fabrique::services {

struct MonitorReports {
  // None is owned; all must outlive the service. Unset engine: the calls are not served.
  monitoring::ReportEngine* engine = nullptr;
  monitoring::ReportStore* store = nullptr;
  monitoring::ReferenceProfiles* references = nullptr;
  // The version an alias of a model names now: NOT_FOUND when there is none; another error when
  // the registry could not be asked.
  std::function<absl::StatusOr<int64_t>(const std::string& model, const std::string& alias)>
      alias_version;
  // The policy a model is watched under (the default policy when it has none of its own).
  std::function<v1::MonitoringPolicy(absl::string_view model)> policy;
  // Where "now" comes from. Default nullptr = the real clock.
  const core::Clock* clock = nullptr;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_MONITOR_MONITOR_REPORTS_H_
