#ifndef FABRIQUE_TESTS_SERVICES_MONITOR_TEST_SERVER_H_
#define FABRIQUE_TESTS_SERVICES_MONITOR_TEST_SERVER_H_

// The monitor's adapter served in-process on a loopback port, as `fabrique-monitor` wires it:
// an intake store in a temp dir on a fake clock, a model directory over a fake registry that can
// be taken down, and a real access guard (tests/util/test_identity.h). Callers present tokens
// minted for the users they play: "root" is platform-admin, dana logs outcomes for risk, erin
// for fraud.

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/monitor.grpc.pb.h"
#include "libs/client/channel.h"
#include "libs/core/clock.h"
#include "libs/monitoring/canary/canary_comparer.h"
#include "libs/monitoring/intake/intake_store.h"
#include "libs/monitoring/reference/reference_profiles.h"
#include "libs/monitoring/reference/reference_store.h"
#include "libs/monitoring/reports/report_engine.h"
#include "libs/monitoring/reports/report_store.h"
#include "libs/monitoring/windows/window_store.h"
#include "libs/server/service_host.h"
#include "services/monitor/model_directory.h"
#include "services/monitor/monitor_intake.h"
#include "services/monitor/monitor_metrics.h"
#include "services/monitor/monitor_service.h"
#include "tests/monitoring/intake/intake_test_util.h"
#include "tests/monitoring/reports/reports_test_util.h"
#include "tests/util/test_identity.h"
#include "tests/util/test_util.h"

namespace fabrique::services::monitor_test {

inline const std::vector<std::string> kRoot = {};  // Platform-admin by the default policy.
inline const std::vector<std::string> kDana = {"risk:data-scientist"};
inline const std::vector<std::string> kErin = {"fraud:data-scientist"};

// The registry as the directory sees it: models by name, and a switch that makes it unreachable.
class FakeRegistry {
 public:
  void Add(const std::string& name, const std::string& squad, v1::Task task, int64_t latest) {
    absl::MutexLock lock(&mu_);
    v1::Model& model = models_[name];
    model.set_name(name);
    model.set_owner_squad(squad);
    model.set_task(task);
    model.set_latest_version(latest);
  }
  // Points `alias` of model `name` (added before) at `version`.
  void SetAlias(const std::string& name, const std::string& alias, int64_t version) {
    absl::MutexLock lock(&mu_);
    (*models_[name].mutable_aliases())[alias] = version;
  }
  void SetDown(bool down) { down_ = down; }
  int lookups() const { return lookups_; }

  absl::StatusOr<v1::Model> Lookup(const std::string& name) {
    ++lookups_;
    if (down_) return absl::UnavailableError("GetModel: the registry is down");
    absl::MutexLock lock(&mu_);
    auto it = models_.find(name);
    if (it == models_.end()) return absl::NotFoundError(absl::StrCat("model ", name));
    return it->second;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, v1::Model> models_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> down_{false};
  std::atomic<int> lookups_{0};
};

struct MonitorAdapter {
  fabrique::testing::TestIdentity identity;
  fabrique::testing::TempDir dir;
  core::FakeClock clock{monitoring::testing::kStart};
  FakeRegistry registry;
  std::unique_ptr<server::ServiceHost> host;
  std::unique_ptr<MonitorMetrics> metrics;
  std::unique_ptr<ModelDirectory> directory;
  std::unique_ptr<monitoring::IntakeStore> store;
  // The live windows the intake fills, as fabrique-monitor opens them (--window 1h).
  std::unique_ptr<monitoring::WindowStore> windows;
  std::unique_ptr<MonitorIntake> intake;
  // Reports: versions and profile artifacts in `versions`, aliases in `aliases` (both unreachable
  // while `registry` is down), stores in the temp dir, `policy` for every model.
  monitoring::testing::FakeVersionRegistry versions;
  std::map<std::string, int64_t> aliases;  // "model@alias" -> version.
  v1::MonitoringPolicy policy;
  std::unique_ptr<monitoring::ReferenceStore> reference_store;
  std::unique_ptr<monitoring::ReferenceProfiles> references;
  std::unique_ptr<monitoring::ReportStore> report_store;
  std::unique_ptr<monitoring::ReportEngine> engine;
  std::unique_ptr<monitoring::CanaryComparer> canary;
  std::unique_ptr<MonitorService> service;
  std::unique_ptr<v1::Monitor::Stub> stub;

  MonitorAdapter() {
    server::ServiceHostOptions host_options;
    host_options.plaintext = true;
    host_options.service_name = "monitor";
    host_options.listen_host = "127.0.0.1";
    host_options.metrics_port = -1;
    host = *server::ServiceHost::Create(host_options);
    metrics = std::make_unique<MonitorMetrics>(host->metrics());
    ModelDirectoryOptions directory_options;
    directory_options.lookup = [this](const std::string& name) { return registry.Lookup(name); };
    directory_options.on_unavailable = [this] { metrics->RegistryLookupFailed(); };
    directory_options.clock = &clock;
    directory = std::make_unique<ModelDirectory>(std::move(directory_options));
    monitoring::IntakeOptions intake_options;
    intake_options.dir = dir.Sub("intake");
    intake_options.clock = &clock;
    intake_options.known = MonitorIntake::KnownFrom(directory.get());
    absl::StatusOr<std::unique_ptr<monitoring::IntakeStore>> opened =
        monitoring::IntakeStore::Open(std::move(intake_options));
    REQUIRE(opened.ok());
    store = *std::move(opened);
    monitoring::WindowOptions window_options;
    window_options.clock = &clock;
    absl::StatusOr<std::unique_ptr<monitoring::WindowStore>> windows_opened =
        monitoring::WindowStore::Open(store.get(), window_options);
    REQUIRE(windows_opened.ok());
    windows = *std::move(windows_opened);
    intake = std::make_unique<MonitorIntake>(store.get(), directory.get());
    monitoring::CanaryComparerOptions canary_options;
    canary_options.intake = store.get();
    canary_options.models = [this](const std::string& name) { return registry.Lookup(name); };
    canary_options.clock = &clock;
    canary = *monitoring::CanaryComparer::Create(std::move(canary_options));
    service = std::make_unique<MonitorService>(
        intake.get(),
        server::ServiceAccess(identity.guard(), v1::Monitor::service_full_name(),
                              MonitoredModelOwners(directory.get())),
        metrics.get(), Reports(), canary.get());
    host->AddService(service.get(), v1::Monitor::service_full_name(), "the monitor");
    REQUIRE(host->Start().ok());
    stub = v1::Monitor::NewStub(
        client::MakePlaintextChannel(absl::StrCat("127.0.0.1:", host->port())));
  }
  ~MonitorAdapter() { host->Shutdown(); }

  // The report calls' dependencies, as fabrique-monitor wires them.
  MonitorReports Reports() {
    reference_store = *monitoring::ReferenceStore::Open({dir.Sub("reference")});
    references = std::make_unique<monitoring::ReferenceProfiles>(reference_store.get(), &versions);
    monitoring::ReportStoreOptions report_options;
    report_options.dir = dir.Sub("reports");
    report_options.clock = &clock;
    report_store = *monitoring::ReportStore::Open(report_options);
    monitoring::ReportEngineOptions engine_options;
    engine_options.windows = windows.get();
    engine_options.intake = store.get();
    engine_options.references = references.get();
    engine_options.reports = report_store.get();
    engine_options.task_of = [this](absl::string_view model) {
      directory->Refresh(std::string(model));
      return directory->TaskOf(model);
    };
    engine_options.known = [this](absl::string_view model, int64_t version) {
      directory->Refresh(std::string(model), version);
      return directory->Known(model, version);
    };
    engine_options.clock = &clock;
    engine = std::make_unique<monitoring::ReportEngine>(std::move(engine_options));
    MonitorReports reports;
    reports.engine = engine.get();
    reports.store = report_store.get();
    reports.references = references.get();
    reports.alias_version = [this](const std::string& model,
                                   const std::string& alias) -> absl::StatusOr<int64_t> {
      if (registry_down) return absl::UnavailableError("GetAlias: the registry is down");
      auto it = aliases.find(absl::StrCat(model, "@", alias));
      if (it == aliases.end()) return absl::NotFoundError("no such alias");
      return it->second;
    };
    reports.policy = [this](absl::string_view) { return policy; };
    reports.clock = &clock;
    return reports;
  }

  // Takes the whole registry down (or up): the directory's lookups, versions and aliases.
  void SetRegistryDown(bool down) {
    registry_down = down;
    registry.SetDown(down);
    versions.SetDown(down);
  }
  bool registry_down = false;

  // Streams `batches` to LogPredictions as `user`.
  grpc::Status LogPredictions(const std::vector<v1::LogPredictionsRequest>& batches,
                              v1::LogPredictionsResponse* response,
                              const std::string& user = "root",
                              const std::vector<std::string>& groups = kRoot) {
    auto context = identity.Context(user, groups);
    auto writer = stub->LogPredictions(context.get(), response);
    for (const v1::LogPredictionsRequest& batch : batches) {
      if (!writer->Write(batch)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  }
  // Streams `batches` to LogOutcomes as `user`.
  grpc::Status LogOutcomes(const std::vector<v1::LogOutcomesRequest>& batches,
                           v1::LogOutcomesResponse* response, const std::string& user,
                           const std::vector<std::string>& groups) {
    auto context = identity.Context(user, groups);
    auto writer = stub->LogOutcomes(context.get(), response);
    for (const v1::LogOutcomesRequest& batch : batches) {
      if (!writer->Write(batch)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  }

  // The value of `family`{outcome=`outcome`} (or of the unlabelled `family` when "").
  double Metric(const std::string& family, const std::string& outcome = "") {
    for (const prometheus::MetricFamily& f : host->metrics().Collect()) {
      if (f.name != family) continue;
      for (const prometheus::ClientMetric& metric : f.metric) {
        const bool match =
            outcome.empty() || (!metric.label.empty() && metric.label[0].value == outcome);
        if (!match) continue;
        return f.type == prometheus::MetricType::Gauge ? metric.gauge.value : metric.counter.value;
      }
    }
    return -1;
  }
};

inline v1::LogPredictionsRequest PredictionBatch(const std::string& batch_id,
                                                 std::vector<v1::PredictionRecord> records) {
  v1::LogPredictionsRequest request;
  request.set_batch_id(batch_id);
  for (v1::PredictionRecord& record : records) *request.add_predictions() = std::move(record);
  return request;
}

inline v1::LogOutcomesRequest OutcomeBatch(const std::string& batch_id,
                                           std::vector<v1::Outcome> outcomes) {
  v1::LogOutcomesRequest request;
  request.set_batch_id(batch_id);
  for (v1::Outcome& outcome : outcomes) *request.add_outcomes() = std::move(outcome);
  return request;
}

}  // namespace fabrique::services::monitor_test

#endif  // FABRIQUE_TESTS_SERVICES_MONITOR_TEST_SERVER_H_
