#ifndef FABRIQUE_TOOLS_CLI_RPC_CALL_H_
#define FABRIQUE_TOOLS_CLI_RPC_CALL_H_

// What every `fabrique` subcommand that calls a service shares: deadlines, and turning a failed
// call into a message that names the call, the gRPC code and the server's words, so a user (or a
// script grepping stderr) sees "GetModel fraud: NOT_FOUND: model 'fraud' not found". A call that
// never reached a server says so and what to do (service_target.h).

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"
#include "tools/cli/service_target.h"

namespace fabrique::cli {

// Sets a deadline `timeout` from now on `context`.
void SetTimeout(grpc::ClientContext* context, absl::Duration timeout);

// Returns the absl::Status for a failed call over `target`'s channel, same code, with a message
// like "GetFeatureGroup cli_orders: NOT_FOUND: feature group 'x' not found", or, when the call
// found no server there (IsUnreachable), "ListFeatureGroups: UNAVAILABLE: cannot reach
// fabrique-features at 127.0.0.1:7101 (...): is 'fabrique up' running? ...". OK stays OK.
absl::Status RpcError(const grpc::Status& status, absl::string_view call,
                      const ServiceTarget& target);

// Builds a command's error line: "fabrique features ingest: <message>".
std::string ErrorLine(absl::string_view command, const absl::Status& status);

// Prints ErrorLine(command, status) to stderr; returns 1, the exit code of a failure.
int Fail(absl::string_view command, const absl::Status& status);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_RPC_CALL_H_
