// fabrique-trainer: the trainer service binary (see --help).
// Wired in one function, in order: flags -> storage -> cores -> services -> server.

#include "absl/status/status.h"
#include "libs/client/channel.h"
#include "libs/core/log.h"
#include "libs/core/status_macros.h"
#include "libs/server/access_wiring.h"
#include "libs/server/service_flags.h"
#include "libs/server/service_host.h"
#include "libs/server/service_state.h"
#include "libs/training/run_queue.h"
#include "libs/training/run_store.h"
#include "services/trainer/remote_ports.h"
#include "services/trainer/trainer_metrics.h"
#include "services/trainer/trainer_service.h"

namespace fabrique::services {
namespace {

// Set by the flags below.
std::string features_target = "127.0.0.1:7101";
std::string registry_target = "127.0.0.1:7102";
absl::Duration dependency_retry = absl::Seconds(60);

absl::Status Run(const server::ServiceFlags& flags) {
  // Storage: runs and their events in DATA_DIR/kv.
  ASSIGN_OR_RETURN(auto state,
                   server::ServiceState::Open({flags.data_dir, std::string(flags.info->name)}));
  // Cores: runs a restart interrupted are failed here, with the state they were in.
  int interrupted = 0;
  ASSIGN_OR_RETURN(auto runs, training::RunStore::Create({&state->store()}, &interrupted));
  if (interrupted > 0) {
    core::Log(core::LogLevel::kWarning, "runs_interrupted", {{"count", interrupted}});
  }
  // Peers are reached as this service: TLS with its own certificate, or plaintext under
  // --insecure; a run's calls also name its submitter (remote_ports.h). Training-set chunks of wide
  // rows (a 784-float image is 3 KiB) pass gRPC's default 4 MiB.
  client::ChannelOptions features_channel = flags.PeerChannel(features_target);
  features_channel.max_receive_bytes = 256 << 20;
  ASSIGN_OR_RETURN(auto features, client::MakeChannel(features_channel));
  ASSIGN_OR_RETURN(auto registry, client::MakeChannel(flags.PeerChannel(registry_target)));
  ASSIGN_OR_RETURN(auto datasets, RemoteDatasets::Create({features, dependency_retry}));
  ASSIGN_OR_RETURN(auto models, RemoteModels::Create({registry, dependency_retry}));
  // The host first, for its metrics registry: the core reports to TrainerMetrics from its start.
  ASSIGN_OR_RETURN(auto host, server::ServiceHost::Create(flags.host));
  TrainerMetrics metrics(host->metrics());
  ASSIGN_OR_RETURN(
      auto queue, training::RunQueue::Create({runs.get(), datasets.get(), models.get(), &metrics}));
  // Identity: the guard every call is checked by, and fabrique.v1.Access (whoami, can-i).
  ASSIGN_OR_RETURN(auto access, server::ServeAccess(flags, host.get()));
  // Services.
  TrainerService service(queue.get(), runs.get(), access->guard());
  host->AddCollectable(state->metrics());
  host->AddService(&service, fabrique::v1::Trainer::service_full_name(),
                   std::string(flags.info->area));
  // As shutdown begins no further run starts (the queued ones stay queued for the next start),
  // the run in progress is stopped, and watches end so their clients reconnect after it.
  host->OnShutdown([&queue] {
    queue->Stop();
    queue->Interrupt();
  });
  // Server: serves until SIGTERM/SIGINT, then drains and stops; storage closes after it. The
  // workers start only once it serves: a start that fails (its port taken) runs nothing.
  RETURN_IF_ERROR(host->Start());
  queue->Start();
  return host->Run();
}

}  // namespace
}  // namespace fabrique::services

int main(int argc, char** argv) {
  return fabrique::server::ServiceMain(
      argc, argv, "trainer",
      [](fabrique::core::FlagSet& flags) {
        flags.Add("features_target", &fabrique::services::features_target,
                  "host:port of the feature store the training sets come from");
        flags.Add("registry_target", &fabrique::services::registry_target,
                  "host:port of the model registry versions are registered in");
        flags.Add("dependency_retry", &fabrique::services::dependency_retry,
                  "How long a call to an unavailable feature store or registry is retried "
                  "(with backoff) before the run fails");
      },
      fabrique::services::Run);
}
