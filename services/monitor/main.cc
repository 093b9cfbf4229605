// fabrique-monitor: the monitor service binary (see --help). Takes the prediction log from
// inference servers and outcomes from squads' systems into its intake store, joined for
// back-testing; keeps monitoring policies and alerts, and asks the tower for retrains.
// Wired in one function, in order: flags -> storage -> ports -> cores -> services -> server.

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "libs/auth/method_table.h"
#include "libs/client/channel.h"
#include "libs/client/typed_clients.h"
#include "libs/core/status_macros.h"
#include "libs/monitoring/alerts/alert_engine.h"
#include "libs/monitoring/alerts/alert_storage.h"
#include "libs/monitoring/alerts/alert_store.h"
#include "libs/monitoring/alerts/policy_store.h"
#include "libs/monitoring/alerts/retrain_trigger.h"
#include "libs/monitoring/intake/intake_store.h"
#include "libs/monitoring/reports/report_source.h"
#include "libs/monitoring/windows/window_source.h"
#include "libs/server/access_wiring.h"
#include "libs/server/service_flags.h"
#include "libs/server/service_host.h"
#include "libs/server/service_state.h"
#include "services/monitor/alert_owners.h"
#include "services/monitor/evaluation_loop.h"
#include "services/monitor/model_directory.h"
#include "services/monitor/monitor_intake.h"
#include "services/monitor/monitor_metrics.h"
#include "services/monitor/monitor_service.h"
#include "services/monitor/registry_model_lookup.h"
#include "services/monitor/tower_retrain_port.h"

namespace fabrique::services {
namespace {

// Set by the flags below.
struct MonitorFlags {
  absl::Duration retention = absl::Hours(24 * 90);
  absl::Duration max_label_delay = absl::Hours(24 * 30);
  std::string registry_target = "127.0.0.1:7102";
  absl::Duration registry_cache_ttl = absl::Seconds(30);
  // Policies, alerts and retrains.
  std::string tower_target = "127.0.0.1:7106";
  std::string trainer_target = "127.0.0.1:7103";
  absl::Duration evaluation_tick = absl::Seconds(10);
  absl::Duration evaluation_lookback = absl::Hours(24);
};
MonitorFlags monitor_flags;

absl::Status Run(const server::ServiceFlags& flags) {
  const MonitorFlags& f = monitor_flags;
  // Storage: everything under --data_dir; the prediction log and outcomes in DATA_DIR/intake.
  ASSIGN_OR_RETURN(auto state,
                   server::ServiceState::Open({flags.data_dir, std::string(flags.info->name)}));
  ASSIGN_OR_RETURN(auto host, server::ServiceHost::Create(flags.host));
  MonitorMetrics metrics(host->metrics());
  // Ports: the registry, asked which models and versions exist, their tasks and owners, as this
  // service; a short deadline, since records must not wait on it.
  client::CallContext registry_call;
  registry_call.timeout = absl::Seconds(2);
  ASSIGN_OR_RETURN(client::RegistryClient registry,
                   client::RegistryClient::Connect(flags.PeerChannel(f.registry_target),
                                                   {"registry", f.registry_target}, registry_call));
  ModelDirectoryOptions directory_options;
  directory_options.lookup = RegistryModelLookup(std::move(registry));
  directory_options.ttl = f.registry_cache_ttl;
  directory_options.on_unavailable = [&metrics] { metrics.RegistryLookupFailed(); };
  ModelDirectory directory(std::move(directory_options));
  // Cores.
  monitoring::IntakeOptions intake_options;
  intake_options.dir = absl::StrCat(flags.data_dir, "/intake");
  intake_options.retention = f.retention;
  intake_options.max_label_delay = f.max_label_delay;
  intake_options.known = MonitorIntake::KnownFrom(&directory);
  ASSIGN_OR_RETURN(auto store, monitoring::IntakeStore::Open(std::move(intake_options)));
  MonitorIntake intake(store.get(), &directory);
  if (absl::StatusOr<int64_t> pending = intake.PendingOutcomes(); pending.ok()) {
    metrics.SetPendingOutcomes(*pending);
  }
  // Policies, alerts and the retrain trigger, in DATA_DIR/alerts. Retraining jobs go to the
  // tower (one try per round: the trigger keeps and retries them); the spec of the run that
  // trained a version comes from the registry and the trainer.
  ASSIGN_OR_RETURN(auto alert_storage,
                   monitoring::OpenAlertStorage(absl::StrCat(flags.data_dir, "/alerts")));
  ASSIGN_OR_RETURN(auto policies, monitoring::PolicyStore::Create({alert_storage.get()}));
  ASSIGN_OR_RETURN(auto alerts, monitoring::AlertStore::Create({alert_storage.get()}));
  client::CallContext peer_call;
  peer_call.timeout = absl::Seconds(5);
  client::RetryPolicy one_retry;
  one_retry.max_attempts = 2;
  ASSIGN_OR_RETURN(client::TowerClient tower_client,
                   client::TowerClient::Connect(flags.PeerChannel(f.tower_target),
                                                {"tower", f.tower_target}, peer_call));
  TowerJobPort tower(std::move(tower_client));
  ASSIGN_OR_RETURN(
      client::RegistryClient origin_registry,
      client::RegistryClient::Connect(flags.PeerChannel(f.registry_target),
                                      {"registry", f.registry_target}, peer_call, one_retry));
  std::optional<client::TrainerClient> trainer;
  if (!f.trainer_target.empty()) {
    ASSIGN_OR_RETURN(trainer, client::TrainerClient::Connect(flags.PeerChannel(f.trainer_target),
                                                             {"trainer", f.trainer_target},
                                                             peer_call, one_retry));
  }
  RunSpecOrigins origins(std::move(origin_registry), std::move(trainer));
  monitoring::RetrainTriggerOptions retrain_options;
  retrain_options.store = alert_storage.get();
  retrain_options.alerts = alerts.get();
  retrain_options.tower = &tower;
  retrain_options.origins = &origins;
  ASSIGN_OR_RETURN(auto retrain, monitoring::RetrainTrigger::Create(retrain_options));
  // The evaluation reads live windows (monitoring::WindowSource) and computes reports
  // (monitoring::ReportSource). Until both are served by this binary they stay null, and the
  // evaluation loop does not run: policies and alerts are still served.
  monitoring::WindowSource* windows = nullptr;
  monitoring::ReportSource* reports = nullptr;
  std::unique_ptr<monitoring::AlertEngine> engine;
  std::unique_ptr<EvaluationLoop> evaluation;
  if (windows != nullptr && reports != nullptr) {
    monitoring::AlertEngineOptions engine_options;
    engine_options.policies = policies.get();
    engine_options.alerts = alerts.get();
    engine_options.windows = windows;
    engine_options.reports = reports;
    engine_options.retrain = retrain.get();
    engine_options.lookback = f.evaluation_lookback;
    ASSIGN_OR_RETURN(engine, monitoring::AlertEngine::Create(engine_options));
    EvaluationLoopOptions loop_options;
    loop_options.engine = engine.get();
    loop_options.alerts = alerts.get();
    loop_options.metrics = &metrics;
    loop_options.tick = f.evaluation_tick;
    evaluation = std::make_unique<EvaluationLoop>(loop_options);
  }
  MonitorAlertParts alert_parts;
  alert_parts.policies = policies.get();
  alert_parts.alerts = alerts.get();
  alert_parts.owner_of = [owners = MonitoredModelOwners(&directory)](absl::string_view model) {
    return owners(auth::kModel, model);
  };
  // Identity: the guard the calls are checked by, and fabrique.v1.Access (whoami, can-i). It
  // refuses to start without --jwks and --policy unless --insecure, as every service does.
  ASSIGN_OR_RETURN(auto access, server::ServeAccess(flags, host.get()));
  // Services.
  MonitorService service(
      &intake,
      server::ServiceAccess(access->guard(), fabrique::v1::Monitor::service_full_name(),
                            WithAlertOwners(MonitoredModelOwners(&directory), alerts.get())),
      &metrics, std::move(alert_parts));
  host->AddCollectable(state->metrics());
  host->AddService(&service, fabrique::v1::Monitor::service_full_name(),
                   std::string(flags.info->area));
  // Server: serves until SIGTERM/SIGINT, then drains and stops; storage closes after it.
  RETURN_IF_ERROR(host->Start());
  if (evaluation != nullptr) evaluation->Start();
  absl::Status served = host->Run();
  // The evaluation stops before the stores it writes close.
  if (evaluation != nullptr) evaluation->Stop();
  return served;
}

void AddFlags(core::FlagSet& flags) {
  MonitorFlags& f = monitor_flags;
  flags.Add("retention", &f.retention,
            "How long prediction records and outcomes are kept, counted from the prediction's "
            "time; older ones are dropped as the store compacts. 2160h = 90 days; 0 = forever");
  flags.Add("max_label_delay", &f.max_label_delay,
            "How long an outcome waits for its prediction (from its event or observe time) "
            "before it is dropped; one arriving later with nothing to join is refused. "
            "720h = 30 days; 0 = as long as --retention keeps it");
  flags.Add("registry_target", &f.registry_target,
            "host:port of the model registry, asked which model versions exist, their task (the "
            "type of their labels) and owner squad (who may log their outcomes). While it is "
            "down, records are still taken: their versions count as known, labels are checked "
            "by shape only");
  flags.Add("registry_cache_ttl", &f.registry_cache_ttl,
            "How long what the registry said of a model is trusted before it is asked again");
  flags.Add("tower_target", &f.tower_target,
            "host:port of the control tower, sent the retraining jobs monitoring policies ask "
            "for. While it is down, a request is kept and tried again with backoff");
  flags.Add("trainer_target", &f.trainer_target,
            "host:port of the trainer, asked for the spec of the run that trained a version (a "
            "retrain repeats it, moved to end now); \"\" = only policies' spec_template");
  flags.Add("evaluation_tick", &f.evaluation_tick,
            "How often the evaluation looks for model versions due (each policy's "
            "evaluation_interval decides when one is)");
  flags.Add("evaluation_lookback", &f.evaluation_lookback,
            "How far back a version's last prediction keeps it evaluated (and able to raise a "
            "no-traffic alert)");
}

}  // namespace
}  // namespace fabrique::services

int main(int argc, char** argv) {
  return fabrique::server::ServiceMain(argc, argv, "monitor", fabrique::services::AddFlags,
                                       fabrique::services::Run);
}
