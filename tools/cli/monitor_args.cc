#include "tools/cli/monitor_args.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/registry_args.h"

namespace fabrique::cli {
namespace {

google::protobuf::Timestamp ToProto(absl::Time time) {
  return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(time));
}

}  // namespace

absl::StatusOr<absl::Time> ParseMonitorTime(absl::string_view flag, absl::string_view text,
                                            absl::Time now) {
  if (text == "now") return now;
  absl::Duration ago;
  if (absl::StartsWith(text, "-") && absl::ParseDuration(text.substr(1), &ago)) return now - ago;
  absl::Time time;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, std::string(text), &time, &error)) return time;
  return absl::InvalidArgumentError(absl::StrCat(
      "--", flag, " '", text,
      "' is not a time: give RFC 3339 (2026-05-01T10:00:00Z), 'now', or a duration ago (-2h)"));
}

absl::Status SetRange(absl::string_view from_flag, const std::string& from,
                      absl::string_view to_flag, const std::string& to, absl::Time now,
                      v1::TimeRange* range) {
  if (!from.empty()) {
    absl::StatusOr<absl::Time> start = ParseMonitorTime(from_flag, from, now);
    if (!start.ok()) return start.status();
    *range->mutable_start_time() = ToProto(*start);
  }
  if (!to.empty()) {
    absl::StatusOr<absl::Time> end = ParseMonitorTime(to_flag, to, now);
    if (!end.ok()) return end.status();
    *range->mutable_end_time() = ToProto(*end);
  }
  return absl::OkStatus();
}

void AddReportFlags(core::FlagSet* flags, ReportFlags* report) {
  flags->set_usage_args("[flags] MODEL[:VERSION|@ALIAS]");
  AddConnectionFlags(flags, &report->connection, "monitor", "the monitor (fabrique-monitor)");
  flags->Add("from", &report->from,
             "Window start: RFC 3339, 'now' or a duration ago (-2h); "
             "default: the window's end less the policy's window");
  flags->Add("to", &report->to, "Window end, as --from; default now");
  flags->Add("id", &report->id, "Fetch the stored report with this id instead");
  flags->Add("json", &report->json, "Print the report as JSON");
}

std::optional<int> ReadReportTarget(const core::FlagSet& flags, const core::ParsedArgs& parsed,
                                    const std::string& from, const std::string& to,
                                    v1::ModelRef* model, v1::TimeRange* window) {
  if (parsed.positional.size() != 1) return BadUsage(flags, "name MODEL[:VERSION|@ALIAS]");
  absl::StatusOr<VersionSpec> spec = ParseVersionSpec(parsed.positional[0], false);
  if (!spec.ok()) return BadUsage(flags, spec.status().message());
  *model = spec->ref;
  if (absl::Status set = SetRange("from", from, "to", to, absl::Now(), window); !set.ok()) {
    return BadUsage(flags, set.message());
  }
  return std::nullopt;
}

std::string MonitorJson(const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &text, options);
  return text;
}

std::string MonitorTimeText(const google::protobuf::Timestamp& time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                          absl::FromUnixSeconds(time.seconds()) + absl::Nanoseconds(time.nanos()),
                          absl::UTCTimeZone());
}

}  // namespace fabrique::cli
