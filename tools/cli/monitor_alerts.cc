// `fabrique monitor alerts`: lists alerts newest first (optionally of one model, in one state,
// at least as severe as asked), or acknowledges one, optionally muting it for a while.

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "libs/client/typed_clients.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/connection.h"
#include "tools/cli/json_file.h"
#include "tools/cli/registry_print.h"
#include "tools/cli/rpc_call.h"

namespace fabrique::cli {
namespace {

using MonitorStub = client::MonitorClient::Stub;

// "firing" -> ALERT_STATE_FIRING, for the enums whose values share a prefix.
template <typename Enum, typename Parse>
bool ParseEnum(const std::string& text, const std::string& prefix, Parse parse, Enum* out) {
  if (text.empty()) return true;
  return parse(prefix + absl::AsciiStrToUpper(text), out);
}

std::string Short(const std::string& name, const std::string& prefix) {
  return absl::AsciiStrToLower(absl::StrReplaceAll(name, {{prefix, ""}}));
}

void PrintAlerts(const std::vector<v1::Alert>& alerts) {
  std::cout << absl::StrFormat("%-26s %-14s %-16s %-9s %-12s %-21s %s\n", "ID", "MODEL", "KIND",
                               "SEVERITY", "STATE", "FIRED", "SUMMARY");
  for (const v1::Alert& alert : alerts) {
    std::string state = Short(v1::AlertState_Name(alert.state()), "ALERT_STATE_");
    if (alert.has_silenced_until()) state += "*";
    std::string summary = alert.summary();
    if (!alert.retrain_job_id().empty()) {
      absl::StrAppend(&summary, " [retrain job ", alert.retrain_job_id(), "]");
    }
    std::cout << absl::StrFormat(
        "%-26s %-14s %-16s %-9s %-12s %-21s %s\n", alert.id(),
        absl::StrCat(alert.model_version().model(), ":", alert.model_version().version()),
        Short(v1::AlertKind_Name(alert.kind()), "ALERT_KIND_"),
        Short(v1::Severity_Name(alert.severity()), "SEVERITY_"), state,
        FormatTimestamp(alert.fire_time()), summary);
  }
}

}  // namespace

int RunMonitorAlerts(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  std::string state;
  std::string min_severity;
  std::string kind;
  int64_t limit = 50;
  std::string ack;
  std::string comment;
  absl::Duration silence = absl::ZeroDuration();
  bool json = false;
  core::FlagSet flags(
      "fabrique monitor alerts",
      "Lists alerts newest first: drift of inputs or outputs, performance below a floor, "
      "missing values, no traffic. With --ack ID, acknowledges that alert (and with --silence, "
      "mutes it for that long). In the list, a state marked * is muted.");
  flags.set_usage_args("[flags] [MODEL]");
  AddConnectionFlags(&flags, &connection, "monitor", "the monitor (fabrique-monitor)");
  flags.Add("state", &state, "Only alerts in this state: firing, acknowledged or resolved");
  flags.Add("min_severity", &min_severity,
            "Only alerts at least this severe: info, warning, "
            "critical");
  flags.Add("kind", &kind,
            "Only this kind: feature_drift, prediction_drift, performance, data_quality, "
            "no_traffic");
  flags.Add("limit", &limit, "At most this many alerts");
  flags.Add("ack", &ack, "Acknowledge the alert with this id");
  flags.Add("comment", &comment, "With --ack: why, recorded on the alert");
  flags.Add("silence", &silence, "With --ack: mute it for this long, e.g. 2h; 0 = not muted");
  flags.Add("json", &json, "Print the alerts as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 1, "[MODEL]", &parsed)) return *code;
  if (ack.empty() && (!comment.empty() || silence != absl::ZeroDuration())) {
    return BadUsage(flags, "--comment and --silence go with --ack ID");
  }
  if (silence < absl::ZeroDuration()) return BadUsage(flags, "--silence must not be negative");
  if (limit <= 0) return BadUsage(flags, "--limit must be 1 or more");
  v1::ListAlertsRequest request;
  if (!parsed.positional.empty()) request.set_model(parsed.positional[0]);
  v1::AlertState state_value = v1::ALERT_STATE_UNSPECIFIED;
  v1::Severity severity_value = v1::SEVERITY_UNSPECIFIED;
  v1::AlertKind kind_value = v1::ALERT_KIND_UNSPECIFIED;
  if (!ParseEnum(state, "ALERT_STATE_", v1::AlertState_Parse, &state_value)) {
    return BadUsage(flags, absl::StrCat("--state ", state, ": firing, acknowledged or resolved"));
  }
  if (!ParseEnum(min_severity, "SEVERITY_", v1::Severity_Parse, &severity_value)) {
    return BadUsage(flags,
                    absl::StrCat("--min_severity ", min_severity, ": info, warning or critical"));
  }
  if (!ParseEnum(kind, "ALERT_KIND_", v1::AlertKind_Parse, &kind_value)) {
    return BadUsage(flags, absl::StrCat("--kind ", kind,
                                        ": feature_drift, prediction_drift, "
                                        "performance, data_quality, no_traffic"));
  }
  request.set_state(state_value);
  request.set_min_severity(severity_value);
  request.set_kind(kind_value);
  absl::StatusOr<client::MonitorClient> monitor =
      ConnectClient<client::MonitorClient>(connection, "monitor");
  if (!monitor.ok()) return Fail(flags.program(), monitor.status());
  if (!ack.empty()) {
    v1::AcknowledgeAlertRequest acknowledge;
    acknowledge.set_id(ack);
    acknowledge.set_comment(comment);
    acknowledge.mutable_silence_for()->set_seconds(absl::ToInt64Seconds(silence));
    absl::StatusOr<v1::Alert> alert =
        monitor->Call(&MonitorStub::AcknowledgeAlert, acknowledge, "AcknowledgeAlert " + ack);
    if (!alert.ok()) return Fail(flags.program(), alert.status());
    if (json) {
      PrintJson(*alert);
    } else {
      PrintAlerts({*alert});
    }
    return 0;
  }
  std::vector<v1::Alert> alerts;
  request.set_page_size(static_cast<int32_t>(std::min<int64_t>(limit, 500)));
  while (true) {
    absl::StatusOr<v1::ListAlertsResponse> page =
        monitor->CallIdempotent(&MonitorStub::ListAlerts, request, "ListAlerts");
    if (!page.ok()) return Fail(flags.program(), page.status());
    for (const v1::Alert& alert : page->alerts()) {
      if (static_cast<int64_t>(alerts.size()) < limit) alerts.push_back(alert);
    }
    if (page->next_page_token().empty() || static_cast<int64_t>(alerts.size()) >= limit) break;
    request.set_page_token(page->next_page_token());
  }
  if (json) {
    v1::ListAlertsResponse all;
    for (const v1::Alert& alert : alerts) *all.add_alerts() = alert;
    PrintJson(all);
    return 0;
  }
  PrintAlerts(alerts);
  return 0;
}

}  // namespace fabrique::cli
