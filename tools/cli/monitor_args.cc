#include "tools/cli/monitor_args.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace fabrique::cli {
namespace {

google::protobuf::Timestamp ToProto(absl::Time time) {
  google::protobuf::Timestamp timestamp;
  const int64_t micros = absl::ToUnixMicros(time);
  timestamp.set_seconds(micros / 1'000'000);
  timestamp.set_nanos(static_cast<int32_t>(micros % 1'000'000) * 1'000);
  return timestamp;
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
