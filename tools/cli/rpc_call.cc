#include "tools/cli/rpc_call.h"

#include <chrono>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "libs/core/grpc_status.h"
#include "tools/cli/command_flags.h"

namespace fabrique::cli {

void SetTimeout(grpc::ClientContext* context, absl::Duration timeout) {
  context->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
}

absl::Status RpcError(const grpc::Status& status, absl::string_view call,
                      const ServiceTarget& target) {
  if (status.ok()) return absl::OkStatus();
  const absl::Status s = core::FromGrpcStatus(status);
  const std::string message = IsUnreachable(status, target.channel.get())
                                  ? UnreachableMessage(target, status.error_message())
                                  : std::string(s.message());
  return absl::Status(s.code(),
                      absl::StrCat(call, ": ", absl::StatusCodeToString(s.code()), ": ", message));
}

std::string ErrorLine(absl::string_view command, const absl::Status& status) {
  return absl::StrCat(command, ": ", status.message(), "\n");
}

int Fail(absl::string_view command, const absl::Status& status) {
  std::cerr << ErrorLine(command, status);
  return kExitFailure;
}

}  // namespace fabrique::cli
