#ifndef FABRIQUE_LIBS_SERVER_SERVICE_FLAGS_H_
#define FABRIQUE_LIBS_SERVER_SERVICE_FLAGS_H_

// The flags every service binary shares, and the main() every binary runs through: parse flags,
// answer --help, report bad flags with exit code 2, run the wiring function, exit 0 on a clean
// shutdown and 1 on an error (logged as JSON).

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "libs/client/service_catalog.h"
#include "libs/core/flags.h"
#include "libs/server/service_host.h"

namespace fabrique::server {

struct ServiceFlags {
  // The service's entry in the catalog: name, default ports, whether stateful, area. Never null.
  const client::ServiceInfo* info = nullptr;
  ServiceHostOptions host;
  // Folder holding all of the service's state (stateful services only). Default
  // "./fabrique-data/<service>".
  std::string data_dir;
  std::string log_level = "info";
};

// Runs the binary of the catalog's service `service_name` (defaults come from the catalog):
// `run` wires and serves it and returns when it has shut down. `add_flags` may declare the
// binary's own flags on top of the shared ones.
int ServiceMain(int argc, char** argv, absl::string_view service_name,
                const std::function<void(core::FlagSet&)>& add_flags,
                const std::function<absl::Status(const ServiceFlags&)>& run);

}  // namespace fabrique::server

#endif  // FABRIQUE_LIBS_SERVER_SERVICE_FLAGS_H_
