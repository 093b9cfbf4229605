#ifndef FABRIQUE_LIBS_CLIENT_SERVICE_CATALOG_H_
#define FABRIQUE_LIBS_CLIENT_SERVICE_CATALOG_H_

// The six Fabrique services as clients and launchers see them: short name, binary, default
// ports and the gRPC service names each one serves. One table, so the CLI, tests and docs never
// disagree on a port.

#include <array>
#include <vector>

#include "absl/strings/string_view.h"

namespace fabrique::client {

struct ServiceInfo {
  absl::string_view name;                        // Short name: "features".
  absl::string_view binary;                      // Executable: "fabrique-features".
  int default_port;                              // gRPC, 7101..7106.
  int default_metrics_port;                      // Prometheus, 9101..9106.
  bool stateful;                                 // Takes --data_dir.
  std::vector<absl::string_view> grpc_services;  // Fully-qualified names it serves.
  absl::string_view summary;                     // What the binary serves, for --help.
  // The service area its calls belong to, named in UNIMPLEMENTED answers until then.
  absl::string_view area;
};

// In start-up order (features first, tower last); stop in reverse.
const std::vector<ServiceInfo>& Services();

// Returns the service called `name`, or nullptr.
const ServiceInfo* FindService(absl::string_view name);

}  // namespace fabrique::client

#endif  // FABRIQUE_LIBS_CLIENT_SERVICE_CATALOG_H_
