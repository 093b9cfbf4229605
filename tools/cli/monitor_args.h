#ifndef FABRIQUE_TOOLS_CLI_MONITOR_ARGS_H_
#define FABRIQUE_TOOLS_CLI_MONITOR_ARGS_H_

// What the `fabrique monitor` report commands share: times on the command line (RFC 3339, "now",
// or a duration ago as "-2h"), the window they make, and printing a report as JSON.

#include <iostream>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "fabrique/v1/common.pb.h"
#include "google/protobuf/message.h"
#include "libs/client/typed_clients.h"
#include "libs/core/flags.h"
#include "tools/cli/connection.h"
#include "tools/cli/rpc_call.h"

namespace fabrique::cli {

// Reads `text` as a time relative to `now`: RFC 3339 ("2026-05-01T10:00:00Z"), "now", or a
// duration before now ("-90m", "-2h"). INVALID_ARGUMENT naming `flag` otherwise.
absl::StatusOr<absl::Time> ParseMonitorTime(absl::string_view flag, absl::string_view text,
                                            absl::Time now);

// Sets the bounds of `range` that `from` and `to` give ("" = unset: the server's default).
absl::Status SetRange(absl::string_view from_flag, const std::string& from,
                      absl::string_view to_flag, const std::string& to, absl::Time now,
                      v1::TimeRange* range);

// The flags both report commands take: where the monitor is, the window, a stored report's id,
// and JSON output.
struct ReportFlags {
  ConnectionFlags connection;
  std::string from;
  std::string to;
  std::string id;
  bool json = false;
};
void AddReportFlags(core::FlagSet* flags, ReportFlags* report);

// Reads MODEL[:VERSION|@ALIAS] (the one positional argument) into `model` and --from/--to into
// `window`. Returns the exit code of bad usage (2, after saying why), or nullopt.
std::optional<int> ReadReportTarget(const core::FlagSet& flags, const core::ParsedArgs& parsed,
                                    const std::string& from, const std::string& to,
                                    v1::ModelRef* model, v1::TimeRange* window);

// `message` as indented JSON with the proto's field names.
std::string MonitorJson(const google::protobuf::Message& message);

// "2026-05-01T10:00:00Z".
std::string MonitorTimeText(const google::protobuf::Timestamp& time);

// Asks the monitor for a report with `method` and prints it, as JSON or with `print`; returns the
// command's exit code (1 when the call failed, saying why).
template <typename Request, typename Report>
int ShowReport(const core::FlagSet& flags, const ConnectionFlags& connection,
               client::MonitorClient::UnaryMethod<Request, Report> method, const Request& request,
               const std::string& call, bool json, void (*print)(const Report&)) {
  absl::StatusOr<client::MonitorClient> monitor =
      ConnectClient<client::MonitorClient>(connection, "monitor");
  if (!monitor.ok()) return Fail(flags.program(), monitor.status());
  absl::StatusOr<Report> report = monitor->Call(method, request, call);
  if (!report.ok()) return Fail(flags.program(), report.status());
  if (json) {
    std::cout << MonitorJson(*report) << "\n";
  } else {
    print(*report);
  }
  return 0;
}

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_MONITOR_ARGS_H_
