#ifndef FABRIQUE_TOOLS_CLI_SERVICE_TARGET_H_
#define FABRIQUE_TOOLS_CLI_SERVICE_TARGET_H_

// Where a `fabrique` command reaches one service, and what it tells the user when nothing
// answers there. Every command that calls a service connects through connection.h, which fills a
// ServiceTarget, so a call that cannot connect names the service, the address and where the
// address came from, and says what to do instead of showing gRPC's "failed to connect to all
// addresses".

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/channel.h"
#include "grpcpp/support/status.h"
#include "libs/client/call_error.h"

namespace fabrique::cli {

struct ServiceTarget {
  std::string service;   // Catalog name: "features".
  std::string address;   // host:port.
  std::string data_dir;  // The folder whose endpoints.tsv gave `address`; "" for --target.
  // The channel to `address` that every call to the service goes through: its state after a
  // failed call tells a server that answered from one never reached (IsUnreachable).
  std::shared_ptr<grpc::Channel> channel;
};

// Whether a failed call found no server (libs/client/call_error.h).
using client::IsUnreachable;

// `target` as libs/client's errors name it: the endpoints file it came from, and what to do.
client::CallTarget CallTargetOf(const ServiceTarget& target);

// What to do when nothing answers where a command looked: "Is 'fabrique up' running? Start it,
// or pass --data_dir DIR ... or --target HOST:PORT", or, when the addresses came from
// DATA_DIR/endpoints.tsv, whether that `fabrique up` is still running.
std::string UnreachableAdvice(const std::string& data_dir);

// What an unreachable `target` means and what to do: "cannot reach fabrique-features at
// 127.0.0.1:7101 (Connection refused): is 'fabrique up' running? ...". `detail` is gRPC's
// message, whose last part (the system's reason) is kept.
std::string UnreachableMessage(const ServiceTarget& target, absl::string_view detail);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_SERVICE_TARGET_H_
