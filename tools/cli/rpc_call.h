#ifndef FABRIQUE_TOOLS_CLI_RPC_CALL_H_
#define FABRIQUE_TOOLS_CLI_RPC_CALL_H_

// What every `fabrique` subcommand that calls a service shares: deadlines, and turning a failed
// call into a message that names the call, the gRPC code and the server's words, so a user (or a
// script grepping stderr) sees "GetModel fraud: NOT_FOUND: model 'fraud' not found".

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace fabrique::cli {

// Sets a deadline `timeout` from now on `context`.
void SetTimeout(grpc::ClientContext* context, absl::Duration timeout);

// Returns the absl::Status for a failed call, same code, with a message like
// "GetFeatureGroup cli_orders: NOT_FOUND: feature group 'x' not found". OK stays OK.
absl::Status RpcError(const grpc::Status& status, absl::string_view call);

// Builds a command's error line: "fabrique features ingest: <message>".
std::string ErrorLine(absl::string_view command, const absl::Status& status);

// Prints ErrorLine(command, status) to stderr; returns 1, the exit code of a failure.
int Fail(absl::string_view command, const absl::Status& status);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_RPC_CALL_H_
