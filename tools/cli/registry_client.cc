#include "tools/cli/registry_client.h"

#include <utility>

namespace fabrique::cli {

void AddRegistryFlags(core::FlagSet* flags, RegistryFlags* registry) {
  AddConnectionFlags(flags, registry, "registry", "the model registry (fabrique-registry)");
}

absl::StatusOr<RegistryClient> RegistryClient::Connect(const RegistryFlags& flags) {
  absl::StatusOr<client::RegistryClient> connected =
      ConnectClient<client::RegistryClient>(flags, "registry");
  if (!connected.ok()) return connected.status();
  return RegistryClient(*std::move(connected));
}

}  // namespace fabrique::cli
