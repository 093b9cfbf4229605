// fabrique-trainer: the trainer service binary (see --help), or, with --run_spec, one run to its
// end in the process (one_shot_run.h), as a Kubernetes Job runs it.
// Wired in one function, in order: flags -> storage -> cores -> services -> server.

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "libs/client/channel.h"
#include "libs/core/log.h"
#include "libs/core/status_macros.h"
#include "libs/server/access_wiring.h"
#include "libs/server/service_flags.h"
#include "libs/server/service_host.h"
#include "libs/server/service_state.h"
#include "libs/training/run_queue.h"
#include "libs/training/run_store.h"
#include "services/trainer/one_shot_run.h"
#include "services/trainer/remote_ports.h"
#include "services/trainer/trainer_metrics.h"
#include "services/trainer/trainer_service.h"

namespace fabrique::services {
namespace {

// Set by the flags below.
std::string features_target = "127.0.0.1:7101";
std::string registry_target = "127.0.0.1:7102";
absl::Duration dependency_retry = absl::Seconds(60);
std::string checkpoint_dir;  // "" = DATA_DIR/checkpoints.
// One-shot mode.
OneShotOptions one_shot;

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
  // Epoch checkpoints: kept across restarts and preemptions, so a requeued job resumes.
  const std::string checkpoints =
      checkpoint_dir.empty() ? absl::StrCat(flags.data_dir, "/checkpoints") : checkpoint_dir;
  if (!one_shot.run_spec_path.empty()) {
    // One run, no server: its record lives in DATA_DIR/kv for the time it runs.
    training::RunQueueOptions options;
    options.runs = runs.get();
    options.datasets = datasets.get();
    options.models = models.get();
    options.checkpoint_dir = checkpoints;
    ASSIGN_OR_RETURN(auto queue, training::RunQueue::Create(options));
    return RunOneShot(one_shot, queue.get(), runs.get());
  }
  // The host first, for its metrics registry: the core reports to TrainerMetrics from its start.
  ASSIGN_OR_RETURN(auto host, server::ServiceHost::Create(flags.host));
  TrainerMetrics metrics(host->metrics());
  training::RunQueueOptions queue_options;
  queue_options.runs = runs.get();
  queue_options.datasets = datasets.get();
  queue_options.models = models.get();
  queue_options.observer = &metrics;
  queue_options.checkpoint_dir = checkpoints;
  ASSIGN_OR_RETURN(auto queue, training::RunQueue::Create(queue_options));
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
        flags.Add("checkpoint_dir", &fabrique::services::checkpoint_dir,
                  "Folder of the runs' epoch checkpoints, one subfolder per tower job (or run); "
                  "empty = DATA_DIR/checkpoints. A run saves one after each epoch, and a run "
                  "submitted with resume_from_epoch resumes from it");
        auto& once = fabrique::services::one_shot;
        flags.Add("run_spec", &once.run_spec_path,
                  "One-shot mode: run this RunSpec (protobuf JSON, or binary when the name ends "
                  "in .pb) to its end in the process, without serving, then exit: 0 when it "
                  "registered a version, 1 with the reason on stderr otherwise. Progress goes to "
                  "stdout; SIGTERM cancels the run within one batch. Needs --squad");
        flags.Add("squad", &once.squad, "One-shot mode: the squad the run trains for");
        flags.Add("submitted_by", &once.submitted_by,
                  "One-shot mode: the user the run acts for (its peers check that user too); "
                  "empty = the trainer on its own");
        flags.Add("tower_job_id", &once.tower_job_id,
                  "One-shot mode: the tower job the run is for; names its checkpoints");
        flags.Add("resume_from_epoch", &once.resume_from_epoch,
                  "One-shot mode: resume after this epoch from the tower job's checkpoint in "
                  "--checkpoint_dir; 0 = from the start");
        flags.Add("termination_log", &once.termination_log,
                  "One-shot mode: at exit, write {\"model\",\"version\",\"checkpoint_epoch\","
                  "\"state\":\"SUCCEEDED|FAILED\",\"reason\"} as one JSON line here "
                  "(e.g. /dev/termination-log)");
      },
      fabrique::services::Run);
}
