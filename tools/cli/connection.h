#ifndef FABRIQUE_TOOLS_CLI_CONNECTION_H_
#define FABRIQUE_TOOLS_CLI_CONNECTION_H_

// A command's connection to one service, made from its flags as credentials.h resolves them: the
// channel (TLS against the resolved CA, or plaintext under --insecure), where it goes for error
// messages, and the context every call carries (deadline and bearer token). Every command that
// calls a service connects here and calls through libs/client's typed clients.
//
//   ConnectionFlags flags;
//   AddConnectionFlags(&flag_set, &flags, "registry", "the model registry (fabrique-registry)");
//   ...
//   ASSIGN_OR_RETURN(client::RegistryClient registry,
//                    ConnectClient<client::RegistryClient>(flags, "registry"));

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/client/call_context.h"
#include "tools/cli/credentials.h"
#include "tools/cli/service_target.h"

namespace fabrique::cli {

struct Connection {
  ServiceTarget target;      // Service, address and the channel to it.
  client::CallContext call;  // --timeout and the credentials.
  ResolvedConnection resolved;
};

// Resolves `flags` for `service` (credentials.h) and makes the channel and call context. Errors
// are ResolveConnection's, and MakeChannel's for a CA file that is missing or not PEM.
absl::StatusOr<Connection> Connect(const ConnectionFlags& flags, absl::string_view service,
                                   const Getenv& getenv = ProcessEnvironment());

// The call context `resolved` says, with `timeout`: its token as given, or a source minting one
// for the local user as calls need it.
client::CallContext CallContextFor(const ResolvedConnection& resolved, absl::Duration timeout);

// A typed client (libs/client/typed_clients.h, or any client::ServiceClient) over Connect's
// channel and context.
template <typename Client>
absl::StatusOr<Client> ConnectClient(const ConnectionFlags& flags, absl::string_view service) {
  absl::StatusOr<Connection> connection = Connect(flags, service);
  if (!connection.ok()) return connection.status();
  return Client(connection->target.channel, CallTargetOf(connection->target),
                std::move(connection->call));
}

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_CONNECTION_H_
