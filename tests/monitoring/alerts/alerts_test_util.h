#ifndef FABRIQUE_TESTS_MONITORING_ALERTS_ALERTS_TEST_UTIL_H_
#define FABRIQUE_TESTS_MONITORING_ALERTS_ALERTS_TEST_UTIL_H_

// What the tests of policies, alerts and the retrain trigger share: the storage in a temp dir on
// a fake clock (reopenable, for restarts), fake windows and reports whose answers tests set, a
// fake tower that can be down, and report builders.

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "catch2/catch.hpp"
#include "libs/core/clock.h"
#include "libs/monitoring/alerts/alert_engine.h"
#include "libs/monitoring/alerts/alert_storage.h"
#include "libs/monitoring/alerts/alert_store.h"
#include "libs/monitoring/alerts/policy_store.h"
#include "libs/monitoring/alerts/proto_time.h"
#include "libs/monitoring/alerts/retrain_trigger.h"
#include "tests/util/test_util.h"

namespace fabrique::monitoring::alerts_test {

inline const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

// Active versions and their last prediction, as the windows would say.
class FakeWindows : public WindowSource {
 public:
  absl::Duration window() const override { return absl::Minutes(5); }
  absl::StatusOr<LiveSummaries> Summaries(absl::string_view, int64_t, absl::Time from,
                                          absl::Time) const override {
    LiveSummaries summaries;
    summaries.from = summaries.to = from;
    return summaries;
  }
  absl::StatusOr<std::vector<ActiveVersion>> ActiveVersions(absl::Time, absl::Time) const override {
    absl::MutexLock lock(&mu_);
    return active_;
  }
  void Set(std::vector<ActiveVersion> active) {
    absl::MutexLock lock(&mu_);
    active_ = std::move(active);
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<ActiveVersion> active_;
};

// Reports as tests set them; each computation gets a new report id.
class FakeReports : public ReportSource {
 public:
  absl::StatusOr<v1::DriftReport> ComputeDriftReport(absl::string_view model, int64_t version,
                                                     absl::Time, absl::Time,
                                                     const v1::MonitoringPolicy&,
                                                     const v1::TimeRange*) override {
    absl::MutexLock lock(&mu_);
    v1::DriftReport report = drift_;
    report.set_report_id(absl::StrCat("d", ++computed_));
    report.mutable_model_version()->set_model(std::string(model));
    report.mutable_model_version()->set_version(version);
    return report;
  }
  absl::StatusOr<v1::PerformanceReport> ComputePerformanceReport(absl::string_view model,
                                                                 int64_t version, absl::Time,
                                                                 absl::Time,
                                                                 const v1::MonitoringPolicy&,
                                                                 absl::Duration) override {
    absl::MutexLock lock(&mu_);
    v1::PerformanceReport report = performance_;
    report.set_report_id(absl::StrCat("p", ++computed_));
    report.mutable_model_version()->set_model(std::string(model));
    report.mutable_model_version()->set_version(version);
    return report;
  }
  void SetDrift(v1::DriftReport report) {
    absl::MutexLock lock(&mu_);
    drift_ = std::move(report);
  }
  void SetPerformance(v1::PerformanceReport report) {
    absl::MutexLock lock(&mu_);
    performance_ = std::move(report);
  }

 private:
  absl::Mutex mu_;
  v1::DriftReport drift_;
  v1::PerformanceReport performance_;
  int computed_ = 0;
};

// A tower that records what it is sent, and can be down.
class FakeTower : public TowerPort {
 public:
  absl::StatusOr<v1::Job> SubmitJob(const v1::SubmitJobRequest& request) override {
    absl::MutexLock lock(&mu_);
    requests.push_back(request);
    if (down) return absl::UnavailableError("the tower is down");
    v1::Job job;
    job.set_id(absl::StrCat("job-", requests.size()));
    *job.mutable_spec() = request.spec();
    return job;
  }
  absl::Mutex mu_;
  bool down = false;
  std::vector<v1::SubmitJobRequest> requests;
};

// Every version was trained by a run whose spec covers [kStart - 30d, kStart - 1d).
class FakeOrigins : public TrainingOriginSource {
 public:
  absl::StatusOr<TrainingOrigin> Origin(absl::string_view model, int64_t) override {
    if (down) return absl::UnavailableError("the registry is down");
    TrainingOrigin origin;
    origin.squad = "risk";
    origin.use_case_id = "uc-1";
    origin.has_spec = true;
    origin.spec.set_model_name(std::string(model));
    origin.spec.set_epochs(7);
    *origin.spec.mutable_time_range()->mutable_start_time() =
        ToProtoTime(kStart - absl::Hours(24 * 30));
    *origin.spec.mutable_time_range()->mutable_end_time() = ToProtoTime(kStart - absl::Hours(24));
    return origin;
  }
  bool down = false;
};

// The stores, trigger and engine over one storage folder; Reopen simulates a restart.
struct AlertsHarness {
  fabrique::testing::TempDir dir;
  core::FakeClock clock{kStart};
  FakeWindows windows;
  FakeReports reports;
  FakeTower tower;
  FakeOrigins origins;
  std::unique_ptr<kv::Store> store;
  std::unique_ptr<PolicyStore> policies;
  std::unique_ptr<AlertStore> alerts;
  std::unique_ptr<RetrainTrigger> retrain;
  std::unique_ptr<AlertEngine> engine;

  AlertsHarness() { Reopen(); }

  void Reopen() {
    engine.reset();
    retrain.reset();
    alerts.reset();
    policies.reset();
    store.reset();
    store = *OpenAlertStorage(dir.Sub("alerts"));
    policies = *PolicyStore::Create({store.get(), &clock});
    alerts = *AlertStore::Create({store.get(), &clock});
    RetrainTriggerOptions trigger;
    trigger.store = store.get();
    trigger.alerts = alerts.get();
    trigger.tower = &tower;
    trigger.origins = &origins;
    trigger.clock = &clock;
    retrain = *RetrainTrigger::Create(trigger);
    AlertEngineOptions options;
    options.policies = policies.get();
    options.alerts = alerts.get();
    options.windows = &windows;
    options.reports = &reports;
    options.retrain = retrain.get();
    options.clock = &clock;
    engine = *AlertEngine::Create(options);
  }
};

// A drift report with enough data whose inputs have the given severities (PSI scores).
inline v1::DriftReport DriftWith(const std::vector<std::pair<std::string, v1::Severity>>& inputs,
                                 bool sufficient = true) {
  v1::DriftReport report;
  report.set_sufficient_data(sufficient);
  report.set_prediction_count(sufficient ? 5000 : 10);
  for (const auto& [name, severity] : inputs) {
    v1::FeatureDrift* feature = report.add_features();
    feature->set_name(name);
    feature->set_severity(severity);
    feature->set_status(severity >= v1::SEVERITY_WARNING ? v1::DRIFT_STATUS_DRIFTED
                                                         : v1::DRIFT_STATUS_NO_DRIFT);
    v1::DriftScore* score = feature->add_scores();
    score->set_metric(v1::DRIFT_METRIC_PSI);
    score->set_value(severity == v1::SEVERITY_CRITICAL  ? 0.4
                     : severity == v1::SEVERITY_WARNING ? 0.15
                                                        : 0.01);
    score->set_warning_threshold(0.1);
    score->set_critical_threshold(0.25);
    score->set_severity(severity);
    score->set_drift_when(v1::DRIFT_WHEN_STATISTIC_AT_LEAST);
  }
  return report;
}

inline v1::PerformanceReport PerformanceWith(double auc, int64_t labelled, bool sufficient) {
  v1::PerformanceReport report;
  report.set_labelled_count(labelled);
  report.set_prediction_count(labelled * 2);
  report.set_label_coverage(0.5);
  report.set_sufficient_labels(sufficient);
  v1::Metric* metric = report.add_metrics();
  metric->set_name("auc");
  metric->set_value(auc);
  return report;
}

inline ActiveVersion Active(const std::string& model, int64_t version, absl::Time last) {
  ActiveVersion active;
  active.model = model;
  active.version = version;
  active.last_prediction_time = last;
  return active;
}

}  // namespace fabrique::monitoring::alerts_test

#endif  // FABRIQUE_TESTS_MONITORING_ALERTS_ALERTS_TEST_UTIL_H_
