// fabrique-health-probe: the container health probe of Fabrique's image, a drop-in for
// grpc_health_probe (same flags, same exit codes) built from this tree, so the image needs no
// Go binary fetched from elsewhere.

#include <iostream>
#include <string>
#include <vector>

#include "grpc/support/log.h"
#include "tools/health_probe/health_check.h"
#include "tools/health_probe/probe_flags.h"

int main(int argc, char** argv) {
  using namespace fabrique::health_probe;
  const std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<ProbeOptions> options = ParseProbeFlags(args);
  if (!options.ok()) {
    std::cerr << "error: " << options.status().message() << "\n\n" << ProbeUsage();
    return kInvalidArguments;
  }
  if (options->help) {
    std::cout << ProbeUsage();
    return kServing;
  }
  // gRPC's own log lines (a failed handshake is logged on every retry) would bury the one line
  // the probe writes; kubelet shows that line in the pod's events. -v keeps them.
  if (!options->verbose) gpr_set_log_function([](gpr_log_func_args*) {});
  return RunHealthCheck(*options, std::cerr);
}
