#ifndef FABRIQUE_LIBS_SERVER_SERVICE_FLAGS_H_
#define FABRIQUE_LIBS_SERVER_SERVICE_FLAGS_H_

// The flags every service binary shares, and the main() every binary runs through: parse flags,
// answer --help, report bad flags with exit code 2, run the wiring function, exit 0 on a clean
// shutdown and 1 on an error (logged as JSON).
//
// Every binary serves TLS (--tls_cert, --tls_key, --tls_client_ca) unless started with
// --insecure; one started with neither exits 2 saying which flags to pass.

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "libs/client/channel.h"
#include "libs/client/service_catalog.h"
#include "libs/core/flags.h"
#include "libs/server/service_host.h"

namespace fabrique::server {

// Where a binary finds what authenticates its callers. Stored for the wiring; each path is read
// by the part that uses it.
struct AuthFlags {
  // JWKS file of the OIDC provider's token signing keys (--jwks). Default: none.
  std::string jwks_path;
  // The `iss` tokens must carry (--token_issuer). Default: none.
  std::string token_issuer;
  // The `aud` tokens must carry (--token_audience). Default "fabrique".
  std::string token_audience = "fabrique";
  // The RBAC policy file, CSV or YAML by extension (--policy). Default: none.
  std::string policy_path;
};

struct ServiceFlags {
  // The service's entry in the catalog: name, default ports, whether stateful, area. Never null.
  const client::ServiceInfo* info = nullptr;
  ServiceHostOptions host;
  // Folder holding all of the service's state (stateful services only). Default
  // "./fabrique-data/<service>".
  std::string data_dir;
  std::string log_level = "info";
  // Arenas of glibc's allocator (MemoryReturn::LimitArenas); 0 = glibc's default. ServiceMain
  // defaults it to one per usable CPU (core::UsableCpus), at least 2: as many as threads can run
  // at once, where glibc makes up to 8 per core.
  int malloc_arenas = 0;
  // --tls_cert, --tls_key, --tls_client_ca as given; ServiceMain moves them into host.tls.
  TlsFiles tls;
  // --insecure: plaintext and no authentication; ServiceMain sets host.plaintext.
  bool insecure = false;
  AuthFlags auth;
  // The tower whose role bindings the access policy follows (--bindings_target); "" = none.
  std::string bindings_target;

  // Options of a channel from this service to a peer at `target`: plaintext under --insecure;
  // otherwise TLS trusting the CA of --tls_client_ca (one CA signs every service's certificate)
  // and presenting this service's own certificate, so the peer knows which service calls.
  client::ChannelOptions PeerChannel(const std::string& target) const;
};

// Checks the transport flags of `flags` and sets flags->host's transport from them.
// INVALID_ARGUMENT, with a message saying which flags to pass, when none of the TLS files nor
// --insecure was given, when only some TLS files were, or when --insecure comes with them.
absl::Status ApplyTransportFlags(absl::string_view program, ServiceFlags* flags);

// Runs the binary of the catalog's service `service_name` (defaults come from the catalog):
// `run` wires and serves it and returns when it has shut down. `add_flags` may declare the
// binary's own flags on top of the shared ones.
int ServiceMain(int argc, char** argv, absl::string_view service_name,
                const std::function<void(core::FlagSet&)>& add_flags,
                const std::function<absl::Status(const ServiceFlags&)>& run);

}  // namespace fabrique::server

#endif  // FABRIQUE_LIBS_SERVER_SERVICE_FLAGS_H_
