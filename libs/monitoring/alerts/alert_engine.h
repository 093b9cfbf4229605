#ifndef FABRIQUE_LIBS_MONITORING_ALERTS_ALERT_ENGINE_H_
#define FABRIQUE_LIBS_MONITORING_ALERTS_ALERT_ENGINE_H_

// One evaluation round of the monitor: every model version with recent traffic whose policy's
// evaluation interval has passed gets its drift and performance reports computed over the
// policy's window (ReportSource), the policy's rules applied to them (alert_rules.h), its alerts
// raised or resolved (AlertStore), and the retrain trigger told (RetrainTrigger). Requests the
// tower could not take are tried again first. A failure on one version is recorded on it and
// never stops the others.
//
//   ASSIGN_OR_RETURN(auto engine, AlertEngine::Create(options));
//   ASSIGN_OR_RETURN(EvaluationRound round, engine->RunRound());

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "fabrique/v1/monitor.pb.h"
#include "libs/core/clock.h"
#include "libs/monitoring/alerts/alert_store.h"
#include "libs/monitoring/alerts/policy_store.h"
#include "libs/monitoring/alerts/retrain_trigger.h"
#include "libs/monitoring/reports/report_source.h"
#include "libs/monitoring/windows/window_source.h"

namespace fabrique::monitoring {

struct Evaluation;

struct AlertEngineOptions {
  // Not owned; required.
  PolicyStore* policies = nullptr;
  AlertStore* alerts = nullptr;
  WindowSource* windows = nullptr;
  ReportSource* reports = nullptr;
  // Not owned; nullptr = no retrains.
  RetrainTrigger* retrain = nullptr;
  // Not owned; nullptr = the real clock.
  core::Clock* clock = nullptr;
  // How far back a version's traffic makes it evaluated (and able to raise NO_TRAFFIC).
  // Default 24 h.
  absl::Duration lookback = absl::Hours(24);
};

// What one version's evaluation did.
struct VersionEvaluation {
  std::string model;
  int64_t version = 0;
  std::optional<v1::DriftReport> drift;
  std::optional<v1::PerformanceReport> performance;
  std::vector<v1::Alert> raised;  // Raised or updated.
  std::vector<v1::Alert> resolved;
  RetrainOutcome retrain;
  // Reports that could not be computed, or a retrain that failed; OK otherwise.
  absl::Status error;
};

struct EvaluationRound {
  std::vector<VersionEvaluation> versions;
  std::vector<v1::Job> retried_jobs;  // Kept retrain requests the tower accepted now.
  std::vector<std::string> models;    // Models evaluated, each once.
  // Every version with predictions in the lookback, evaluated this round or not.
  std::vector<std::pair<std::string, int64_t>> active;
};

class AlertEngine {
 public:
  // INVALID_ARGUMENT when a required part is missing.
  static absl::StatusOr<std::unique_ptr<AlertEngine>> Create(AlertEngineOptions options);

  // Evaluates every version whose policy's interval has passed since its last evaluation; every
  // active version when `force`. Fails only when the active versions cannot be read.
  absl::StatusOr<EvaluationRound> RunRound(bool force = false);

  // Evaluates `version` under `policy` now.
  VersionEvaluation EvaluateVersion(const ActiveVersion& version,
                                    const v1::MonitoringPolicy& policy);

 private:
  explicit AlertEngine(AlertEngineOptions options) : options_(std::move(options)) {}

  // Raises and resolves the alerts `evaluation` decides.
  absl::Status Apply(const Evaluation& evaluation, VersionEvaluation* out);

  const AlertEngineOptions options_;
  absl::Mutex mu_;
  // When each "model\0version" was last evaluated (memory only: a restart evaluates at once).
  absl::flat_hash_map<std::string, absl::Time> last_evaluated_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_ALERTS_ALERT_ENGINE_H_
