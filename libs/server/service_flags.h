#ifndef FABRIQUE_LIBS_SERVER_SERVICE_FLAGS_H_
#define FABRIQUE_LIBS_SERVER_SERVICE_FLAGS_H_

// The flags every service binary shares, and the main() every binary runs through: parse flags,
// answer --help, report bad flags with exit code 2, run the wiring function, exit 0 on a clean
// shutdown and 1 on an error (logged as JSON).

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "libs/core/flags.h"
#include "libs/server/service_host.h"

namespace fabrique::server {

struct ServiceDefaults {
  std::string service_name;  // Short name: "features".
  std::string summary;       // One paragraph for --help.
  int port = 0;              // Default gRPC port (7101..7106).
  int metrics_port = 0;      // Default metrics port (9101..9106).
  bool stateful = false;     // Whether the binary takes --data_dir.
};

struct ServiceFlags {
  ServiceHostOptions host;
  // Folder holding all of the service's state (stateful services only). Default
  // "./fabrique-data/<service>".
  std::string data_dir;
  std::string log_level = "info";
};

// Runs a service binary: `run` wires and serves it and returns when it has shut down.
// `add_flags` may declare the binary's own flags on top of the shared ones.
int ServiceMain(int argc, char** argv, const ServiceDefaults& defaults,
                const std::function<void(core::FlagSet&)>& add_flags,
                const std::function<absl::Status(const ServiceFlags&)>& run);

}  // namespace fabrique::server

#endif  // FABRIQUE_LIBS_SERVER_SERVICE_FLAGS_H_
