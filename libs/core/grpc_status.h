#ifndef FABRIQUE_LIBS_CORE_GRPC_STATUS_H_
#define FABRIQUE_LIBS_CORE_GRPC_STATUS_H_

// The one boundary between absl::Status (used everywhere inside Fabrique) and grpc::Status (used
// only by service adapters and clients). Lives in its own target, fabrique::core_grpc, so domain
// libraries that depend on fabrique::core never link gRPC.

#include <cstddef>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace fabrique::core {

// Longest status message sent to a client, in bytes. Status messages travel in HTTP/2 trailers,
// whose size peers limit (8 KiB by default); longer messages are cut and marked.
inline constexpr size_t kMaxGrpcStatusMessageBytes = 4096;

// Converts an absl::Status to the grpc::Status a server returns. The codes share numbering; the
// message is truncated to kMaxGrpcStatusMessageBytes with a "...[truncated]" marker.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Converts a grpc::Status a client received to an absl::Status with the same code and message.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace fabrique::core

#endif  // FABRIQUE_LIBS_CORE_GRPC_STATUS_H_
