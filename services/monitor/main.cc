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
#include "libs/monitoring/canary/canary_comparer.h"
#include "libs/monitoring/intake/intake_store.h"
#include "libs/monitoring/reference/reference_profiles.h"
#include "libs/monitoring/reference/reference_store.h"
#include "libs/monitoring/reports/report_engine.h"
#include "libs/monitoring/reports/report_store.h"
#include "libs/monitoring/windows/window_store.h"
#include "libs/server/access_wiring.h"
#include "libs/server/memory_return.h"
#include "libs/server/service_flags.h"
#include "libs/server/service_host.h"
#include "libs/server/service_state.h"
#include "libs/server/store_metrics.h"
#include "services/monitor/alert_owners.h"
#include "services/monitor/evaluation_loop.h"
#include "services/monitor/model_directory.h"
#include "services/monitor/monitor_intake.h"
#include "services/monitor/monitor_metrics.h"
#include "services/monitor/monitor_reports.h"
#include "services/monitor/monitor_service.h"
#include "services/monitor/registry_class_labels.h"
#include "services/monitor/registry_model_lookup.h"
#include "services/monitor/registry_versions.h"
#include "services/monitor/report_page.h"
#include "services/monitor/tower_retrain_port.h"

namespace fabrique::services {
namespace {

// Set by the flags below.
struct MonitorFlags {
  absl::Duration retention = absl::Hours(24 * 90);
  absl::Duration max_label_delay = absl::Hours(24 * 30);
  std::string registry_target = "127.0.0.1:7102";
  absl::Duration registry_cache_ttl = absl::Seconds(30);
  absl::Duration window = absl::Hours(1);
  absl::Duration canary_window = absl::Hours(1);
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
  directory_options.lookup = RegistryModelLookup(registry);
  directory_options.ttl = f.registry_cache_ttl;
  directory_options.on_unavailable = [&metrics] { metrics.RegistryLookupFailed(); };
  ModelDirectory directory(std::move(directory_options));
  // Cores.
  monitoring::IntakeOptions intake_options;
  intake_options.dir = absl::StrCat(flags.data_dir, "/intake");
  intake_options.retention = f.retention;
  intake_options.max_label_delay = f.max_label_delay;
  intake_options.known = MonitorIntake::KnownFrom(&directory);
  intake_options.after_flush = &server::MemoryReturn::Soon;
  ASSIGN_OR_RETURN(auto store, monitoring::IntakeStore::Open(std::move(intake_options)));
  // The intake database's memory (memtables, block cache) and compaction backlog, as
  // fabrique_monitor_intake_*: most of the monitor's memory and disk is there.
  auto intake_metrics =
      std::make_shared<server::StoreMetrics>(&store->database(), "monitor_intake");
  // Live windows: column sketches per model version and window, filled as the intake stores
  // records, kept in the intake database. Reports read live data through `windows`.
  monitoring::WindowOptions window_options;
  window_options.window = f.window;
  ASSIGN_OR_RETURN(auto window_store, monitoring::WindowStore::Open(store.get(), window_options));
  monitoring::WindowSource* const windows = window_store.get();
  MonitorIntake intake(store.get(), &directory);
  // Reports: reference profiles in DATA_DIR/reference (put, or read once from the registry with a
  // longer deadline, since a profile is downloaded), reports by id in DATA_DIR/reports, kept as
  // long as --retention. The policy is the default one until policies are stored.
  client::CallContext versions_call;
  versions_call.timeout = absl::Seconds(10);
  ASSIGN_OR_RETURN(client::RegistryClient versions_client,
                   client::RegistryClient::Connect(flags.PeerChannel(f.registry_target),
                                                   {"registry", f.registry_target}, versions_call));
  RegistryVersions versions(std::move(versions_client));
  ASSIGN_OR_RETURN(auto reference_store,
                   monitoring::ReferenceStore::Open({absl::StrCat(flags.data_dir, "/reference")}));
  monitoring::ReferenceProfiles references(reference_store.get(), &versions);
  monitoring::ReportStoreOptions report_options;
  report_options.dir = absl::StrCat(flags.data_dir, "/reports");
  report_options.retention = f.retention;
  ASSIGN_OR_RETURN(auto report_store, monitoring::ReportStore::Open(std::move(report_options)));
  monitoring::ReportEngineOptions engine_options;
  engine_options.windows = windows;
  engine_options.intake = store.get();
  engine_options.references = &references;
  engine_options.reports = report_store.get();
  engine_options.task_of = [&directory](absl::string_view model) {
    directory.Refresh(std::string(model));
    return directory.TaskOf(model);
  };
  engine_options.known = [&directory](absl::string_view model, int64_t version) {
    directory.Refresh(std::string(model), version);
    return directory.Known(model, version);
  };
  monitoring::ReportEngine engine(std::move(engine_options));
  MonitorReports reports;
  reports.engine = &engine;
  reports.store = report_store.get();
  reports.references = &references;
  reports.alias_version = [&versions](const std::string& model, const std::string& alias) {
    return versions.AliasVersion(model, alias);
  };
  if (absl::StatusOr<int64_t> pending = intake.PendingOutcomes(); pending.ok()) {
    metrics.SetPendingOutcomes(*pending);
  }
  // Canary against primary: the aliases are read from the registry at each comparison (they
  // move), the class labels from the candidate's signature.
  monitoring::CanaryComparerOptions canary_options;
  canary_options.intake = store.get();
  canary_options.models = RegistryModelLookup(registry);
  canary_options.class_labels = RegistryClassLabels(registry);
  canary_options.defaults.window = f.canary_window;
  canary_options.windows = windows;
  ASSIGN_OR_RETURN(auto canary, monitoring::CanaryComparer::Create(std::move(canary_options)));
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
  // The evaluation: every tick, the versions with live windows whose policy's interval is due
  // get a drift and a performance report, which raise and resolve alerts and may retrain.
  monitoring::AlertEngineOptions alert_engine_options;
  alert_engine_options.policies = policies.get();
  alert_engine_options.alerts = alerts.get();
  alert_engine_options.windows = windows;
  alert_engine_options.reports = &engine;
  alert_engine_options.retrain = retrain.get();
  alert_engine_options.lookback = f.evaluation_lookback;
  ASSIGN_OR_RETURN(auto alert_engine, monitoring::AlertEngine::Create(alert_engine_options));
  EvaluationLoopOptions loop_options;
  loop_options.engine = alert_engine.get();
  loop_options.alerts = alerts.get();
  loop_options.metrics = &metrics;
  loop_options.tick = f.evaluation_tick;
  auto evaluation = std::make_unique<EvaluationLoop>(loop_options);
  // Reports are computed under the model's policy (the default one when it has none).
  reports.policy = [&policies](absl::string_view model) {
    absl::StatusOr<v1::MonitoringPolicy> policy = policies->Get(model);
    return policy.ok() ? *policy : v1::MonitoringPolicy();
  };
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
      &metrics, std::move(reports), canary.get(), std::move(alert_parts));
  // The report page, GET /reports/MODEL on the metrics port (report_page.h), for the holders of
  // monitoring.read in the model's squad: drift with its live and reference profiles (which the
  // page draws) and performance from the report core, for the production alias's version.
  if (flags.host.metrics_port >= 0) {
    ReportPageOptions page;
    page.reports = &engine;
    page.drift_with_profiles = [&engine](const std::string& model, int64_t version, absl::Time from,
                                         absl::Time to, const v1::MonitoringPolicy& policy) {
      monitoring::DriftQuery query;
      query.model = model;
      query.version = version;
      query.from = from;
      query.to = to;
      query.include_live_profiles = true;
      return engine.ComputeDrift(query, policy);
    };
    page.primary_version = [&versions](const std::string& model) {
      return versions.AliasVersion(model, "production");
    };
    page.firing_alerts =
        [&alerts](const std::string& model) -> absl::StatusOr<std::vector<v1::Alert>> {
      monitoring::AlertFilter filter;
      filter.model = model;
      filter.state = v1::ALERT_STATE_FIRING;
      ASSIGN_OR_RETURN(monitoring::AlertPage page, alerts->List(filter, 100, ""));
      return std::move(page.alerts);
    };
    page.policy_of = [&policies](const std::string& model) { return policies->Get(model); };
    page.directory = &directory;
    page.access = access->guard();
    page.owners = MonitoredModelOwners(&directory);
    host->AddHttpPage(kReportPagePrefix, ReportPage(std::move(page)));
  }
  host->AddCollectable(state->metrics());
  host->AddCollectable(intake_metrics);
  host->AddService(&service, fabrique::v1::Monitor::service_full_name(),
                   std::string(flags.info->area));
  // Server: serves until SIGTERM/SIGINT, then drains and stops; storage closes after it.
  RETURN_IF_ERROR(host->Start());
  evaluation->Start();
  absl::Status served = host->Run();
  // The evaluation stops before the stores it writes close; drained, the windows in memory are
  // persisted, so the next start replays nothing.
  evaluation->Stop();
  RETURN_IF_ERROR(served);
  return window_store->Persist();
}

void AddFlags(core::FlagSet& flags) {
  MonitorFlags& f = monitor_flags;
  flags.Add("retention", &f.retention,
            "How long prediction records and outcomes are kept, counted from the prediction's "
            "time; older ones are dropped as the store compacts. Drift and performance reports "
            "are kept as long, counted from when they were computed. 2160h = 90 days; "
            "0 = forever");
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
  flags.Add("window", &f.window,
            "Width of the tumbling windows live data is summarised in, default 1h");
  flags.Add("canary_window", &f.canary_window,
            "The period CompareCanary compares a candidate with its primary over when the "
            "request gives none, ending now");
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
