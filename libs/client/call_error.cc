#include "libs/client/call_error.h"

#include "absl/strings/str_cat.h"
#include "libs/client/service_catalog.h"
#include "libs/core/grpc_status.h"

namespace fabrique::client {

bool IsUnreachable(const grpc::Status& status, grpc::Channel* channel) {
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE || channel == nullptr) return false;
  // READY means a connection is up, so the answer came from the server. Not READY (connecting,
  // failing to connect, or idle after the server closed the connection) means the call found no
  // server, or lost it: either way the next step is to check that the service runs. A server
  // that answers and at once stops may land here too; the end of its message is kept.
  return channel->GetState(/*try_to_connect=*/false) != GRPC_CHANNEL_READY;
}

std::string UnreachableMessage(const CallTarget& target, absl::string_view detail) {
  const ServiceInfo* info = FindService(target.service);
  const std::string binary =
      info != nullptr ? std::string(info->binary) : absl::StrCat("fabrique-", target.service);
  // gRPC's message ends with the system's reason ("...: Connection refused").
  const size_t colon = detail.rfind(": ");
  const absl::string_view reason =
      colon == absl::string_view::npos ? detail : detail.substr(colon + 2);
  std::string message = absl::StrCat("cannot reach ", binary, " at ", target.address);
  if (!target.origin.empty()) absl::StrAppend(&message, " (from ", target.origin, ")");
  absl::StrAppend(&message, ": ", reason, ".");
  if (!target.advice.empty()) absl::StrAppend(&message, " ", target.advice);
  return message;
}

absl::Status CallError(const grpc::Status& status, absl::string_view call, const CallTarget& target,
                       grpc::Channel* channel) {
  if (status.ok()) return absl::OkStatus();
  const absl::Status s = core::FromGrpcStatus(status);
  const std::string message = target.networked && IsUnreachable(status, channel)
                                  ? UnreachableMessage(target, status.error_message())
                                  : std::string(s.message());
  return absl::Status(s.code(),
                      absl::StrCat(call, ": ", absl::StatusCodeToString(s.code()), ": ", message));
}

}  // namespace fabrique::client
