// `fabrique monitor report`: the model's report for business users, written as one
// self-contained HTML page (the page the monitor serves at /reports/MODEL).

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "libs/client/typed_clients.h"
#include "libs/monitoring/report/html_report.h"
#include "libs/monitoring/report/report_format.h"
#include "libs/monitoring/report/report_from_protos.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/connection.h"
#include "tools/cli/registry_args.h"
#include "tools/cli/rpc_call.h"

namespace fabrique::cli {
namespace {

using MonitorStub = client::MonitorClient::Stub;

// Alerts read for the page, at most; the monitor lists the newest first.
constexpr int kMaxAlerts = 500;

// `text` as an RFC 3339 time, or as a duration before `now` ("24h": a day ago).
absl::StatusOr<absl::Time> ParseWhen(absl::string_view flag, const std::string& text,
                                     absl::Time now) {
  absl::Time time;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &time, &error)) return time;
  absl::Duration ago;
  if (absl::ParseDuration(text, &ago) && ago >= absl::ZeroDuration()) return now - ago;
  return absl::InvalidArgumentError(absl::StrCat(
      "--", flag, "=", text,
      " is neither an RFC 3339 time (2026-05-01T00:00:00Z) nor a duration before now (24h)"));
}

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t nanos = absl::ToUnixNanos(t);
  out->set_seconds(nanos / 1'000'000'000);
  out->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
}

// The alerts firing for `model`, newest first.
absl::StatusOr<std::vector<v1::Alert>> FiringAlerts(const client::MonitorClient& monitor,
                                                    const std::string& model) {
  std::vector<v1::Alert> alerts;
  v1::ListAlertsRequest request;
  request.set_model(model);
  request.set_state(v1::ALERT_STATE_FIRING);
  request.set_page_size(100);
  do {
    absl::StatusOr<v1::ListAlertsResponse> page =
        monitor.Call(&MonitorStub::ListAlerts, request, "ListAlerts " + model);
    if (!page.ok()) return page.status();
    for (v1::Alert& alert : *page->mutable_alerts()) alerts.push_back(std::move(alert));
    request.set_page_token(page->next_page_token());
  } while (!request.page_token().empty() && alerts.size() < kMaxAlerts);
  return alerts;
}

// Writes `contents` to `path` through a temporary file beside it, so a reader never sees half a
// page and a failure leaves any older page in place.
absl::Status WriteAtomically(const std::string& path, const std::string& contents) {
  const std::string temporary = absl::StrCat(path, ".tmp.", getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << contents;
    out.close();
    if (!out) {
      std::remove(temporary.c_str());
      return absl::UnavailableError(absl::StrCat("cannot write ", temporary));
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    return absl::UnavailableError(absl::StrCat("cannot move ", temporary, " to ", path));
  }
  return absl::OkStatus();
}

}  // namespace

int RunMonitorReport(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  std::string from_flag;
  std::string to_flag;
  std::string html_path;
  absl::Duration bucket = absl::ZeroDuration();
  core::FlagSet flags(
      "fabrique monitor report",
      "Writes a model's report for business users as one self-contained HTML page (no script, "
      "no link outside it): whether the model is healthy, what changed and since when; each "
      "feature's reference and live distributions with its drift test, statistic and "
      "threshold; performance over time beside the training figure; the alerts firing. "
      "MODEL alone reports the version behind the model's primary alias.");
  flags.set_usage_args("[flags] MODEL[:VERSION|@ALIAS] --html FILE");
  AddConnectionFlags(&flags, &connection, "monitor", "the monitor (fabrique-monitor)");
  flags.Add("from", &from_flag,
            "Start of the period: an RFC 3339 time, or a duration before now (168h); "
            "\"\" = 24h before --to");
  flags.Add("to", &to_flag, "End of the period, as --from; \"\" = now");
  flags.Add("bucket", &bucket,
            "Width of each point of the performance series; 0 = at most 60 points over the "
            "period (5m, 15m, 1h, 6h, 24h or 168h)");
  flags.Add("html", &html_path, "The page to write (required); replaced whole, never half");
  core::ParsedArgs parsed;
  if (auto code =
          ParseCommandArgs(flags, args, 1, 1, "one MODEL, MODEL:VERSION or MODEL@ALIAS", &parsed)) {
    return *code;
  }
  if (html_path.empty()) return BadUsage(flags, "--html FILE is required: where the page goes");
  absl::StatusOr<VersionSpec> spec = ParseVersionSpec(parsed.positional[0], false);
  if (!spec.ok()) return BadUsage(flags, spec.status().message());
  const absl::Time now = absl::Now();
  absl::StatusOr<absl::Time> to = to_flag.empty() ? now : ParseWhen("to", to_flag, now);
  if (!to.ok()) return BadUsage(flags, to.status().message());
  absl::StatusOr<absl::Time> from =
      from_flag.empty() ? *to - absl::Hours(24) : ParseWhen("from", from_flag, now);
  if (!from.ok()) return BadUsage(flags, from.status().message());
  if (*from >= *to) return BadUsage(flags, "--from must be before --to");
  if (bucket < absl::ZeroDuration()) return BadUsage(flags, "--bucket must not be negative");
  if (bucket == absl::ZeroDuration()) bucket = monitoring::report::PerformanceBucketFor(*from, *to);

  absl::StatusOr<client::MonitorClient> monitor =
      ConnectClient<client::MonitorClient>(connection, "monitor");
  if (!monitor.ok()) return Fail(flags.program(), monitor.status());
  const std::string& model = spec->ref.model();
  v1::GetDriftReportRequest drift_request;
  *drift_request.mutable_model() = spec->ref;
  SetTimestamp(*from, drift_request.mutable_window()->mutable_start_time());
  SetTimestamp(*to, drift_request.mutable_window()->mutable_end_time());
  drift_request.set_include_live_profiles(true);
  absl::StatusOr<v1::DriftReport> drift = monitor->Call(&MonitorStub::GetDriftReport, drift_request,
                                                        "GetDriftReport " + parsed.positional[0]);
  if (!drift.ok()) return Fail(flags.program(), drift.status());
  v1::GetPerformanceReportRequest performance_request;
  *performance_request.mutable_model() = spec->ref;
  *performance_request.mutable_window() = drift_request.window();
  performance_request.mutable_bucket()->set_seconds(absl::ToInt64Seconds(bucket));
  absl::StatusOr<v1::PerformanceReport> performance =
      monitor->Call(&MonitorStub::GetPerformanceReport, performance_request,
                    "GetPerformanceReport " + parsed.positional[0]);
  if (!performance.ok()) return Fail(flags.program(), performance.status());
  absl::StatusOr<std::vector<v1::Alert>> alerts = FiringAlerts(*monitor, model);
  if (absl::IsUnimplemented(alerts.status())) {
    // A monitor without alerts still has reports worth a page; the page then lists none.
    std::cerr << flags.program() << ": the monitor keeps no alerts (" << alerts.status().message()
              << "); the page shows none\n";
    alerts = std::vector<v1::Alert>();
  }
  if (!alerts.ok()) return Fail(flags.program(), alerts.status());

  monitoring::report::ReportProtos protos;
  protos.model = model;
  protos.from = *from;
  protos.to = *to;
  protos.generated_at = now;
  protos.drift = *std::move(drift);
  protos.performance = *std::move(performance);
  protos.alerts = *std::move(alerts);
  const monitoring::report::ReportModel report = monitoring::report::ReportFromProtos(protos);
  const std::string page = monitoring::report::RenderHtmlReport(report);
  if (absl::Status written = WriteAtomically(html_path, page); !written.ok()) {
    return Fail(flags.program(), written);
  }
  std::cout << absl::StrFormat("%s: %s. %s\nwrote %s (%d bytes)\n", model,
                               monitoring::report::HealthLabel(report.health), report.health_reason,
                               html_path, page.size());
  return 0;
}

}  // namespace fabrique::cli
