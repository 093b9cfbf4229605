#ifndef FABRIQUE_TOOLS_CLI_MONITOR_ARGS_H_
#define FABRIQUE_TOOLS_CLI_MONITOR_ARGS_H_

// What the `fabrique monitor` report commands share: times on the command line (RFC 3339, "now",
// or a duration ago as "-2h"), the window they make, and printing a report as JSON.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "fabrique/v1/common.pb.h"
#include "google/protobuf/message.h"

namespace fabrique::cli {

// Reads `text` as a time relative to `now`: RFC 3339 ("2026-05-01T10:00:00Z"), "now", or a
// duration before now ("-90m", "-2h"). INVALID_ARGUMENT naming `flag` otherwise.
absl::StatusOr<absl::Time> ParseMonitorTime(absl::string_view flag, absl::string_view text,
                                            absl::Time now);

// Sets the bounds of `range` that `from` and `to` give ("" = unset: the server's default).
absl::Status SetRange(absl::string_view from_flag, const std::string& from,
                      absl::string_view to_flag, const std::string& to, absl::Time now,
                      v1::TimeRange* range);

// `message` as indented JSON with the proto's field names.
std::string MonitorJson(const google::protobuf::Message& message);

// "2026-05-01T10:00:00Z".
std::string MonitorTimeText(const google::protobuf::Timestamp& time);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_MONITOR_ARGS_H_
