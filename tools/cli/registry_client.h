#ifndef FABRIQUE_TOOLS_CLI_REGISTRY_CLIENT_H_
#define FABRIQUE_TOOLS_CLI_REGISTRY_CLIENT_H_

// What every `fabrique models` and `fabrique registry` subcommand shares: where the registry is
// and how to prove who you are (connection.h's flags: --target or --data_dir, --token, --ca,
// --insecure, --timeout). The registry records and authorizes the caller its token names. Calls,
// retries and error naming are libs/client's ServiceClient.
//
//   RegistryFlags flags;
//   AddRegistryFlags(&command_flags, &flags);
//   ASSIGN_OR_RETURN(RegistryClient client, RegistryClient::Connect(flags));
//   ASSIGN_OR_RETURN(v1::Model model, client.Call(&Stub::GetModel, request, "GetModel fraud"));

#include <utility>

#include "absl/status/statusor.h"
#include "fabrique/v1/registry.grpc.pb.h"
#include "libs/client/typed_clients.h"
#include "libs/core/flags.h"
#include "tools/cli/connection.h"
#include "tools/cli/rpc_call.h"

namespace fabrique::cli {

using RegistryFlags = ConnectionFlags;

// Declares the connection flags (connection.h) for the registry on `flags`.
void AddRegistryFlags(core::FlagSet* flags, RegistryFlags* registry);

using RegistryStub = v1::ModelRegistry::Stub;

// A connection to the registry (libs/client's typed client) that carries the caller's
// credentials on every call and names the registry's address, and where it came from, in its
// errors.
class RegistryClient : public client::RegistryClient {
 public:
  // Fails as connection.h's Connect does.
  static absl::StatusOr<RegistryClient> Connect(const RegistryFlags& flags);

 private:
  explicit RegistryClient(client::RegistryClient connected)
      : client::RegistryClient(std::move(connected)) {}
};

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_REGISTRY_CLIENT_H_
