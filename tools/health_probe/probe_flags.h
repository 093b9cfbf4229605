#ifndef FABRIQUE_TOOLS_HEALTH_PROBE_PROBE_FLAGS_H_
#define FABRIQUE_TOOLS_HEALTH_PROBE_PROBE_FLAGS_H_

// The command line of fabrique-health-probe. It takes grpc_health_probe's flags unchanged, so
// that a container probe written for grpc_health_probe works with this binary by swapping its
// path: Go's flag syntax (-name=value, --name=value, -name value, a bare -bool) and Go
// durations ("1s", "250ms", "1m30s").

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace fabrique::health_probe {

struct ProbeOptions {
  // HOST:PORT of the gRPC server; required.
  std::string addr;
  // The service whose health is asked; "" (the default) asks about the server as a whole.
  std::string service;
  // User-Agent sent with the call. Default "grpc_health_probe", as the original sends.
  std::string user_agent = "grpc_health_probe";
  // Time allowed to establish the connection, TLS handshake included. Default 1 s.
  absl::Duration connect_timeout = absl::Seconds(1);
  // Deadline of the Check call once connected. Default 1 s.
  absl::Duration rpc_timeout = absl::Seconds(1);
  // TLS instead of plaintext. Default off.
  bool tls = false;
  // PEM CA bundle the server's certificate is verified against; "" = the system's roots.
  std::string tls_ca_cert;
  // PEM client certificate and key presented for mutual TLS; both or neither.
  std::string tls_client_cert;
  std::string tls_client_key;
  // The name the server's certificate must carry, when it differs from -addr's host.
  std::string tls_server_name;
  // Asks for gzip compression of the call. Default off.
  bool gzip = false;
  // Logs the connection and call steps to stderr. Default off.
  bool verbose = false;
  // Extra call metadata, from repeated -rpc-header=NAME:VALUE.
  std::vector<std::pair<std::string, std::string>> rpc_headers;
  // -h / -help was given: print the usage and exit 0.
  bool help = false;
};

// Parses `args` (without the program name). INVALID_ARGUMENT naming the flag for an unknown flag,
// a malformed value, a missing -addr, a timeout that is not positive, TLS options without -tls,
// or a client certificate without its key. Flags of grpc_health_probe that this build does not
// offer (-tls-no-verify, -alts, -spiffe) are refused the same way rather than ignored, so a
// probe never silently checks less than it asks for.
absl::StatusOr<ProbeOptions> ParseProbeFlags(const std::vector<std::string>& args);

// The usage text printed for -help and after a flag error.
std::string ProbeUsage();

}  // namespace fabrique::health_probe

#endif  // FABRIQUE_TOOLS_HEALTH_PROBE_PROBE_FLAGS_H_
