// fabrique-registry: the model registry binary (see --help).
// Wired in one function, in order: flags -> storage -> cores -> services -> server.

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "libs/client/channel.h"
#include "libs/client/typed_clients.h"
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
#include "services/registry/monitor_client_port.h"
#include "services/registry/monitor_gate_recheck.h"

namespace fabrique::services {
namespace {

// How young a blob CollectGarbage spares; set by --gc_grace.
absl::Duration gc_grace = absl::Hours(1);
// The monitor asked by monitor comparison gates ("" = none), and how often requests waiting on
// it are evaluated again; set by --monitor_target and --monitor_recheck_interval.
std::string monitor_target;
absl::Duration monitor_recheck_interval = absl::Minutes(1);

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
  // Ports: the monitor, asked by monitor comparison gates as this service, with a short
  // deadline (a promotion request waits on it).
  std::unique_ptr<MonitorClientPort> monitor;
  if (!monitor_target.empty()) {
    client::CallContext monitor_call;
    monitor_call.timeout = absl::Seconds(5);
    ASSIGN_OR_RETURN(client::MonitorClient monitor_client,
                     client::MonitorClient::Connect(flags.PeerChannel(monitor_target),
                                                    {"monitor", monitor_target}, monitor_call));
    monitor = std::make_unique<MonitorClientPort>(std::move(monitor_client));
    store_options.monitor = monitor.get();
  }
  ASSIGN_OR_RETURN(auto store, registry::RegistryStore::Create(store_options));
  std::optional<MonitorGateRecheck> recheck;
  if (monitor != nullptr && monitor_recheck_interval > absl::ZeroDuration()) {
    recheck.emplace(store.get(), monitor_recheck_interval);
  }
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
        flags.Add("monitor_target", &fabrique::services::monitor_target,
                  "host:port of the monitor, asked by promotion policies' monitor comparison "
                  "gates how a candidate does against the alias's holder on live traffic. "
                  "Empty: no monitor, and those gates fail");
        flags.Add("monitor_recheck_interval", &fabrique::services::monitor_recheck_interval,
                  "How often promotion requests waiting on the monitor (too few labelled "
                  "predictions, or the monitor unreachable) are evaluated again; 0 = never");
      },
      fabrique::services::Run);
}
