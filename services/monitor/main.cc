// fabrique-monitor: the monitor service binary (see --help).
// Wired in one function, in order: flags -> storage -> cores -> services -> server.

#include "absl/status/status.h"
#include "libs/core/status_macros.h"
#include "libs/server/access_wiring.h"
#include "libs/server/service_flags.h"
#include "libs/server/service_host.h"
#include "libs/server/service_state.h"
#include "services/monitor/monitor_service.h"

namespace fabrique::services {
namespace {

absl::Status Run(const server::ServiceFlags& flags) {
  // Storage: everything under --data_dir.
  ASSIGN_OR_RETURN(auto state,
                   server::ServiceState::Open({flags.data_dir, std::string(flags.info->name)}));
  ASSIGN_OR_RETURN(auto host, server::ServiceHost::Create(flags.host));
  // Identity: the guard the calls will be checked by, and fabrique.v1.Access (whoami, can-i). It
  // refuses to start without --jwks and --policy unless --insecure, as every service does.
  ASSIGN_OR_RETURN(auto access, server::ServeAccess(flags, host.get()));
  // Services.
  MonitorService service;
  host->AddCollectable(state->metrics());
  host->AddService(&service, fabrique::v1::Monitor::service_full_name(),
                   std::string(flags.info->area));
  // Server: serves until SIGTERM/SIGINT, then drains and stops; storage closes after it.
  RETURN_IF_ERROR(host->Start());
  return host->Run();
}

}  // namespace
}  // namespace fabrique::services

int main(int argc, char** argv) {
  return fabrique::server::ServiceMain(argc, argv, "monitor", nullptr, fabrique::services::Run);
}
