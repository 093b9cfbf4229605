// fabrique-registry: the model registry binary (see --help).
// Wired in one function, in order: flags -> storage -> cores -> services -> server.

#include "absl/status/status.h"
#include "libs/core/status_macros.h"
#include "libs/registry/blob_store.h"
#include "libs/registry/registry_log.h"
#include "libs/registry/registry_store.h"
#include "libs/server/access_wiring.h"
#include "libs/server/service_flags.h"
#include "libs/server/service_host.h"
#include "libs/server/service_state.h"
#include "services/registry/model_owners.h"
#include "services/registry/model_registry_service.h"

namespace fabrique::services {
namespace {

// How young a blob CollectGarbage spares; set by --gc_grace.
absl::Duration gc_grace = absl::Hours(1);

absl::Status Run(const server::ServiceFlags& flags) {
  // Storage: everything under --data_dir: records in DATA_DIR/kv, artifacts in DATA_DIR/blobs.
  ASSIGN_OR_RETURN(auto state,
                   server::ServiceState::Open({flags.data_dir, std::string(flags.info->name)}));
  ASSIGN_OR_RETURN(auto blobs, registry::BlobStore::Create({flags.data_dir + "/blobs"}));
  // Cores.
  ASSIGN_OR_RETURN(auto log, registry::RegistryLog::Create({&state->store()}));
  registry::RegistryStoreOptions store_options;
  store_options.store = &state->store();
  store_options.log = log.get();
  store_options.artifact_size = [&blobs](const std::string& sha256) { return blobs->Size(sha256); };
  ASSIGN_OR_RETURN(auto store, registry::RegistryStore::Create(store_options));
  // Services.
  ASSIGN_OR_RETURN(auto host, server::ServiceHost::Create(flags.host));
  host->AddCollectable(state->metrics());
  // Identity: every call is checked against --policy in the squad owning the model it touches.
  ASSIGN_OR_RETURN(auto access, server::ServeAccess(flags, host.get()));
  ModelRegistryService service(
      store.get(), log.get(), blobs.get(),
      server::ServiceAccess(access->guard(), fabrique::v1::ModelRegistry::service_full_name(),
                            ModelOwners(store.get())),
      host->metrics(), gc_grace);
  host->AddService(&service, fabrique::v1::ModelRegistry::service_full_name(),
                   std::string(flags.info->area));
  // Watchers (inference servers) are always connected: end their streams when shutdown begins,
  // telling them where to resume, rather than hold the whole grace period.
  host->OnShutdown([&log] { log->Interrupt(); });
  // Server: serves until SIGTERM/SIGINT, then drains and stops; storage closes after it.
  RETURN_IF_ERROR(host->Start());
  return host->Run();
}

}  // namespace
}  // namespace fabrique::services

int main(int argc, char** argv) {
  return fabrique::server::ServiceMain(
      argc, argv, "registry",
      [](fabrique::core::FlagSet& flags) {
        flags.Add("gc_grace", &fabrique::services::gc_grace,
                  "CollectGarbage spares artifacts uploaded more recently than this, so that an "
                  "upload whose version is not registered yet survives");
      },
      fabrique::services::Run);
}
