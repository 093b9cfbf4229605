#ifndef FABRIQUE_TOOLS_HEALTH_PROBE_HEALTH_CHECK_H_
#define FABRIQUE_TOOLS_HEALTH_PROBE_HEALTH_CHECK_H_

// One health check as a container probe makes it: connect within -connect-timeout, call
// grpc.health.v1.Health/Check within -rpc-timeout, and turn the outcome into
// grpc_health_probe's exit code, so kubelet and dashboards read both binaries alike.

#include <ostream>

#include "tools/health_probe/probe_flags.h"

namespace fabrique::health_probe {

// grpc_health_probe's exit codes.
enum ProbeExit : int {
  kServing = 0,
  kInvalidArguments = 1,
  kConnectionFailure = 2,
  kRpcFailure = 3,
  kUnhealthy = 4,
};

// Runs the check described by `options`, writing one line on the outcome (and, with -v, one per
// step) to `log`. A certificate file that cannot be read is kInvalidArguments; a server that is
// not there, or whose TLS handshake fails, kConnectionFailure; a call that fails (including
// NOT_FOUND for an unknown -service, and UNIMPLEMENTED from a server without the health
// service) kRpcFailure; any answer but SERVING kUnhealthy.
ProbeExit RunHealthCheck(const ProbeOptions& options, std::ostream& log);

}  // namespace fabrique::health_probe

#endif  // FABRIQUE_TOOLS_HEALTH_PROBE_HEALTH_CHECK_H_
