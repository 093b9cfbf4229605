#include "tools/cli/rpc_call.h"

#include <chrono>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "libs/client/call_error.h"
#include "tools/cli/command_flags.h"

namespace fabrique::cli {

void SetTimeout(grpc::ClientContext* context, absl::Duration timeout) {
  context->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
}

absl::Status RpcError(const grpc::Status& status, absl::string_view call,
                      const ServiceTarget& target) {
  return client::CallError(status, call, CallTargetOf(target), target.channel.get());
}

std::string ErrorLine(absl::string_view command, const absl::Status& status) {
  return absl::StrCat(command, ": ", status.message(), "\n");
}

int Fail(absl::string_view command, const absl::Status& status) {
  std::cerr << ErrorLine(command, status);
  return kExitFailure;
}

}  // namespace fabrique::cli
