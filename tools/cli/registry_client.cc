#include "tools/cli/registry_client.h"

#include <cstdlib>
#include <utility>

namespace fabrique::cli {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

}  // namespace

Identity IdentityFromEnvironment() {
  Identity identity{Env("FABRIQUE_USER"), Env("FABRIQUE_ROLES"), Env("FABRIQUE_SQUAD")};
  if (identity.user.empty()) identity.user = Env("USER");
  return identity;
}

void AddRegistryFlags(core::FlagSet* flags, RegistryFlags* registry, bool mutating,
                      bool squad_flag) {
  flags->Add("target", &registry->target, "host:port of the model registry (fabrique-registry)");
  flags->Add("data_dir", &registry->data_dir,
             "Read the endpoints 'fabrique up --data_dir DIR' wrote (overrides --target)");
  flags->Add("timeout", &registry->timeout, "Deadline of each call");
  if (!mutating) return;
  flags->Add("user", &registry->identity.user,
             "Who you are, as recorded in the audit trail (env FABRIQUE_USER, else $USER)");
  flags->Add("roles", &registry->identity.roles,
             "Your roles, comma-separated, e.g. data-scientist,design-authority "
             "(env FABRIQUE_ROLES)");
  if (squad_flag) {
    flags->Add("squad", &registry->identity.squad, "The squad you act for (env FABRIQUE_SQUAD)");
  }
}

absl::StatusOr<RegistryClient> RegistryClient::Connect(const RegistryFlags& flags) {
  absl::StatusOr<ServiceTarget> target = ResolveService(flags.target, flags.data_dir, "registry");
  if (!target.ok()) return target.status();
  client::CallContext call;
  call.timeout = flags.timeout;
  call.credentials.asserted = flags.identity;
  return RegistryClient(
      client::RegistryClient(target->channel, CallTargetOf(*target), std::move(call)));
}

}  // namespace fabrique::cli
