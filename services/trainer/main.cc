// fabrique-trainer: the trainer service binary (see --help).
// Wired in one function, in order: flags -> storage -> cores -> services -> server.

#include "absl/status/status.h"
#include "libs/core/status_macros.h"
#include "libs/server/service_flags.h"
#include "libs/server/service_host.h"
#include "libs/server/service_state.h"
#include "services/trainer/trainer_service.h"

namespace fabrique::services {
namespace {

absl::Status Run(const server::ServiceFlags& flags) {
  // Storage: everything under --data_dir.
  ASSIGN_OR_RETURN(auto state, server::ServiceState::Open({flags.data_dir, "trainer"}));
  // Services.
  TrainerService service;
  ASSIGN_OR_RETURN(auto host, server::ServiceHost::Create(flags.host));
  host->AddService(&service, fabrique::v1::Trainer::service_full_name(), "the trainer (issue 5)");
  // Server: serves until SIGTERM/SIGINT, then drains and stops; storage closes after it.
  RETURN_IF_ERROR(host->Start());
  return host->Run();
}

}  // namespace
}  // namespace fabrique::services

int main(int argc, char** argv) {
  fabrique::server::ServiceDefaults defaults;
  defaults.service_name = "trainer";
  defaults.summary =
      "Serves the trainer: LibTorch training runs from feature-store training sets to registered,\n"
      "servable TorchScript model versions.";
  defaults.port = 7103;
  defaults.metrics_port = 9103;
  defaults.stateful = true;
  return fabrique::server::ServiceMain(argc, argv, defaults, nullptr, fabrique::services::Run);
}
