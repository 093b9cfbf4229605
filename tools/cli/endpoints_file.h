#ifndef FABRIQUE_TOOLS_CLI_ENDPOINTS_FILE_H_
#define FABRIQUE_TOOLS_CLI_ENDPOINTS_FILE_H_

// `fabrique up` writes where each service listens to DATA_DIR/endpoints.tsv, so that
// `fabrique status --data_dir DIR`, every other command (service_target.h) and scripts find
// services started on free ports.
// One line per service: name, gRPC address, metrics port, pid, separated by tabs.

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace fabrique::cli {

struct Endpoint {
  std::string name;          // "features".
  std::string grpc_address;  // "127.0.0.1:7101".
  int metrics_port = -1;     // -1 when metrics are off.
  int pid = 0;
};

std::string EndpointsPath(const std::string& data_dir);
absl::Status WriteEndpoints(const std::string& data_dir, const std::vector<Endpoint>& endpoints);
absl::StatusOr<std::vector<Endpoint>> ReadEndpoints(const std::string& data_dir);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_ENDPOINTS_FILE_H_
