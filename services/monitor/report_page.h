#ifndef FABRIQUE_SERVICES_MONITOR_REPORT_PAGE_H_
#define FABRIQUE_SERVICES_MONITOR_REPORT_PAGE_H_

// The monitor's report page on its metrics port: GET /reports/MODEL[?from=T&to=T&version=N]
// computes the drift and performance reports of the version (by default the primary alias's,
// else the latest) over the period (the last 24 hours by default; T in RFC 3339), adds the alerts
// firing, and answers the self-contained HTML page of libs/monitoring/report (the same page
// `fabrique monitor report` writes).
//
// The page shows a squad's data, so it asks the same as GetDriftReport: a bearer token
// (Authorization: Bearer <JWT>) whose holder has monitoring.read in the squad owning the model,
// unless the monitor runs --insecure. Answers: 200 text/html; 400 bad times or version; 401 no
// or bad token; 403 not allowed; 404 unknown model (or one without a version); 503 the registry
// or the reports cannot answer now (or the reports are not built into this monitor).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "fabrique/v1/monitor.pb.h"
#include "libs/auth/method_table.h"
#include "libs/core/clock.h"
#include "libs/monitoring/reports/report_source.h"
#include "libs/server/access.h"
#include "libs/server/http_pages.h"
#include "services/monitor/model_directory.h"

namespace fabrique::services {

struct ReportPageOptions {
  // Computes the reports. Not owned; nullptr: every page answers 503 saying reports are not
  // built into this monitor.
  monitoring::ReportSource* reports = nullptr;
  // The drift report with its live and reference profiles (FeatureDrift.live and .reference),
  // which the page draws. Default: reports->ComputeDriftReport, whose columns then show no
  // distributions.
  std::function<absl::StatusOr<v1::DriftReport>(const std::string& model, int64_t version,
                                                absl::Time from, absl::Time to,
                                                const v1::MonitoringPolicy& policy)>
      drift_with_profiles;
  // The alerts firing now for a model. Default: none shown.
  std::function<absl::StatusOr<std::vector<v1::Alert>>(const std::string& model)> firing_alerts;
  // The policy a model is evaluated under. Default: the default policy (Evidently's tests).
  std::function<absl::StatusOr<v1::MonitoringPolicy>(const std::string& model)> policy_of;
  // Which models exist and their latest version (the version shown when the page names none).
  // Not owned; required.
  ModelDirectory* directory = nullptr;
  // The version behind the model's primary alias, shown when the page names none; NOT_FOUND
  // when the model has none. Default (or NOT_FOUND): the model's latest version.
  std::function<absl::StatusOr<int64_t>(const std::string& model)> primary_version;
  // Who may see a model's page. Not owned; required.
  const server::Access* access = nullptr;
  // The squad owning a model, as the gRPC calls find it (MonitoredModelOwners). Required.
  auth::OwnerLookup owners;
  // The period shown when the page names no `from`. Default 24 h.
  absl::Duration default_period = absl::Hours(24);
  // Not owned. Default nullptr = the real clock.
  const core::Clock* clock = nullptr;
};

// The prefix the page is served under.
inline constexpr const char* kReportPagePrefix = "/reports/";

// The handler of kReportPagePrefix (ServiceHost::AddHttpPage). `options` is copied.
server::HttpHandler ReportPage(ReportPageOptions options);

// The HTTP status of an error: 400 INVALID_ARGUMENT, 401 UNAUTHENTICATED, 403
// PERMISSION_DENIED, 404 NOT_FOUND, 503 UNAVAILABLE or FAILED_PRECONDITION, 504
// DEADLINE_EXCEEDED, else 500.
int HttpStatusOf(const absl::Status& status);

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_MONITOR_REPORT_PAGE_H_
