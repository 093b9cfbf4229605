#ifndef FABRIQUE_TOOLS_CLI_REGISTRY_CLIENT_H_
#define FABRIQUE_TOOLS_CLI_REGISTRY_CLIENT_H_

// What every `fabrique models` and `fabrique registry` subcommand shares: where the registry is
// (--target, or the endpoints `fabrique up --data_dir DIR` wrote), who is calling (--user,
// --roles, --squad, sent as the x-fabrique-* metadata the registry records and checks roles
// against), and deadlines. Calls, retries and error naming are libs/client's ServiceClient.
//
//   RegistryFlags flags;
//   AddRegistryFlags(&command_flags, &flags, /*mutating=*/true);
//   ASSIGN_OR_RETURN(RegistryClient client, RegistryClient::Connect(flags));
//   ASSIGN_OR_RETURN(v1::Model model, client.Call(&Stub::GetModel, request, "GetModel fraud"));

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "fabrique/v1/registry.grpc.pb.h"
#include "libs/client/typed_clients.h"
#include "libs/core/flags.h"
#include "tools/cli/rpc_call.h"

namespace fabrique::cli {

// The caller, as the registry records it. Defaults come from the environment (FABRIQUE_USER,
// FABRIQUE_ROLES, FABRIQUE_SQUAD; the user falls back to $USER), so a shell sets them once.
// Roles are comma-separated, e.g. "data-scientist,design-authority".
using Identity = client::AssertedIdentity;
Identity IdentityFromEnvironment();

struct RegistryFlags {
  std::string target = "127.0.0.1:7102";  // host:port of fabrique-registry.
  std::string data_dir;                   // When set, wins over `target`.
  Identity identity = IdentityFromEnvironment();
  absl::Duration timeout = absl::Seconds(30);  // Deadline of each unary call.
};

// Declares --target, --data_dir and --timeout on `flags`; with `mutating`, --user and --roles
// too, and --squad unless `squad_flag` is false (a command whose --squad means something else).
void AddRegistryFlags(core::FlagSet* flags, RegistryFlags* registry, bool mutating,
                      bool squad_flag = true);

using RegistryStub = v1::ModelRegistry::Stub;

// A connection to the registry (libs/client's typed client) that sends the caller's identity on
// every call and names the registry's address, and where it came from, in its errors.
class RegistryClient : public client::RegistryClient {
 public:
  // Fails if DIR/endpoints.tsv cannot be read or lists no "registry" service.
  static absl::StatusOr<RegistryClient> Connect(const RegistryFlags& flags);

 private:
  explicit RegistryClient(client::RegistryClient connected)
      : client::RegistryClient(std::move(connected)) {}
};

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_REGISTRY_CLIENT_H_
