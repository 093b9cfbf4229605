#ifndef FABRIQUE_TOOLS_CLI_RPC_CALL_H_
#define FABRIQUE_TOOLS_CLI_RPC_CALL_H_

// How every `fabrique` subcommand reports a failed operation: one line naming the command and
// the error, which for a call names the call, the gRPC code and the server's words
// ("fabrique models show: GetModel fraud: NOT_FOUND: model 'fraud' not found"), so a user or a
// script grepping stderr sees why. A refusal of who you are (UNAUTHENTICATED) or of what you may
// do (PERMISSION_DENIED) adds a line saying how to see or change that.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace fabrique::cli {

// Builds a command's error line: "fabrique features ingest: <message>\n".
std::string ErrorLine(absl::string_view command, const absl::Status& status);

// What to do about `status`, for the two codes that are about the caller: for UNAUTHENTICATED,
// where a token comes from; for PERMISSION_DENIED, how to see one's roles and ask why. "" for
// any other code.
std::string AccessHint(const absl::Status& status);

// Prints ErrorLine(command, status), and AccessHint's line when it has one, to stderr; returns
// 1, the exit code of a failure.
int Fail(absl::string_view command, const absl::Status& status);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_RPC_CALL_H_
