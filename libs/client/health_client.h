#ifndef FABRIQUE_LIBS_CLIENT_HEALTH_CLIENT_H_
#define FABRIQUE_LIBS_CLIENT_HEALTH_CLIENT_H_

// A client of grpc.health.v1, as Kubernetes probes and grpc_health_probe use it.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"

namespace fabrique::client {

enum class Health { kUnknown, kServing, kNotServing, kServiceUnknown };

const char* HealthName(Health health);

// Asks `channel` for the health of `service` ("" = the whole server), within `timeout`.
// A server that cannot be reached gives UNAVAILABLE or DEADLINE_EXCEEDED; a service the server
// does not know gives kServiceUnknown (the server's NOT_FOUND).
absl::StatusOr<Health> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                   const std::string& service, absl::Duration timeout);

// Polls CheckHealth until it says kServing or `timeout` passes; returns the last error or
// DEADLINE_EXCEEDED saying what it last saw.
absl::Status WaitUntilServing(const std::shared_ptr<grpc::Channel>& channel,
                              const std::string& service, absl::Duration timeout);

}  // namespace fabrique::client

#endif  // FABRIQUE_LIBS_CLIENT_HEALTH_CLIENT_H_
