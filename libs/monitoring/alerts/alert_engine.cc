#include "libs/monitoring/alerts/alert_engine.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/log.h"
#include "libs/monitoring/alerts/alert_rules.h"
#include "libs/monitoring/alerts/policy_validation.h"

namespace fabrique::monitoring {
namespace {

bool Contains(const std::vector<AlertCondition>& conditions, const AlertCondition& condition) {
  return std::find(conditions.begin(), conditions.end(), condition) != conditions.end();
}

// Keeps the first error of a version's evaluation.
void Note(absl::Status status, absl::Status* error) {
  if (!status.ok() && error->ok()) *error = std::move(status);
}

}  // namespace

absl::StatusOr<std::unique_ptr<AlertEngine>> AlertEngine::Create(AlertEngineOptions options) {
  if (options.policies == nullptr || options.alerts == nullptr || options.windows == nullptr ||
      options.reports == nullptr) {
    return absl::InvalidArgumentError(
        "AlertEngine needs the policies, the alerts, the windows and the reports");
  }
  if (options.clock == nullptr) options.clock = core::Clock::Real();
  return std::unique_ptr<AlertEngine>(new AlertEngine(std::move(options)));
}

absl::Status AlertEngine::Apply(const Evaluation& evaluation, VersionEvaluation* out) {
  std::vector<AlertCondition> raised;
  for (const AlertFinding& finding : evaluation.raised) {
    absl::StatusOr<v1::Alert> alert = options_.alerts->Raise(finding);
    if (!alert.ok()) return alert.status();
    raised.push_back(finding.condition);
    out->raised.push_back(*std::move(alert));
  }
  absl::StatusOr<std::vector<std::pair<AlertCondition, v1::Alert>>> open =
      options_.alerts->OpenAlerts(out->model, out->version);
  if (!open.ok()) return open.status();
  for (const auto& [condition, alert] : *open) {
    if (Contains(raised, condition) || Contains(evaluation.unknown, condition)) continue;
    if (std::find(evaluation.judged.begin(), evaluation.judged.end(), condition.kind) ==
        evaluation.judged.end()) {
      continue;
    }
    absl::StatusOr<std::optional<v1::Alert>> resolved = options_.alerts->Resolve(condition);
    if (!resolved.ok()) return resolved.status();
    if (resolved->has_value()) out->resolved.push_back(**std::move(resolved));
  }
  return absl::OkStatus();
}

VersionEvaluation AlertEngine::EvaluateVersion(const ActiveVersion& version,
                                               const v1::MonitoringPolicy& policy) {
  VersionEvaluation out;
  out.model = version.model;
  out.version = version.version;
  const absl::Time now = options_.clock->Now();
  const absl::Time from = now - PolicyWindow(policy);
  absl::StatusOr<v1::DriftReport> drift =
      options_.reports->ComputeDriftReport(version.model, version.version, from, now, policy);
  if (drift.ok()) {
    out.drift = *std::move(drift);
  } else {
    Note(drift.status(), &out.error);
  }
  absl::StatusOr<v1::PerformanceReport> performance =
      options_.reports->ComputePerformanceReport(version.model, version.version, from, now, policy);
  if (performance.ok()) {
    out.performance = *std::move(performance);
  } else {
    Note(performance.status(), &out.error);
  }
  EvaluationInput input;
  input.model = version.model;
  input.version = version.version;
  input.policy = policy;
  input.drift = out.drift ? &*out.drift : nullptr;
  input.performance = out.performance ? &*out.performance : nullptr;
  input.last_prediction_time = version.last_prediction_time;
  input.now = now;
  const Evaluation evaluation = EvaluatePolicy(input);
  Note(Apply(evaluation, &out), &out.error);
  if (options_.retrain == nullptr) return out;
  RetrainSignal signal;
  signal.model = version.model;
  signal.version = version.version;
  signal.drift_judged = evaluation.drift_judged;
  signal.drifted = evaluation.drifted;
  signal.performance_breached = evaluation.performance_breached;
  // The alert a retrain answers: the worst of those raised, performance before drift on ties.
  const v1::Alert* cause = nullptr;
  for (const v1::Alert& alert : out.raised) {
    const bool counts = alert.kind() == v1::ALERT_KIND_PERFORMANCE ||
                        alert.kind() == v1::ALERT_KIND_FEATURE_DRIFT ||
                        alert.kind() == v1::ALERT_KIND_PREDICTION_DRIFT;
    if (counts && (cause == nullptr || alert.severity() > cause->severity())) cause = &alert;
  }
  if (cause != nullptr) signal.alert_id = cause->id();
  absl::StatusOr<RetrainOutcome> retrain = options_.retrain->Observe(policy, signal);
  if (retrain.ok()) {
    out.retrain = *std::move(retrain);
    // The job id went on the alert as the tower accepted it: show the alert as stored.
    if (out.retrain.job && cause != nullptr) {
      absl::StatusOr<v1::Alert> linked = options_.alerts->Get(cause->id());
      for (v1::Alert& alert : out.raised) {
        if (linked.ok() && alert.id() == linked->id()) alert = *linked;
      }
    }
  } else {
    Note(retrain.status(), &out.error);
  }
  return out;
}

absl::StatusOr<EvaluationRound> AlertEngine::RunRound(bool force) {
  EvaluationRound round;
  if (options_.retrain != nullptr) {
    absl::StatusOr<std::vector<v1::Job>> retried = options_.retrain->RetryPending();
    if (retried.ok()) round.retried_jobs = *std::move(retried);
  }
  const absl::Time now = options_.clock->Now();
  absl::StatusOr<std::vector<ActiveVersion>> active =
      options_.windows->ActiveVersions(now - options_.lookback, now);
  if (!active.ok()) return active.status();
  {
    // Versions gone quiet are forgotten: a restart of their traffic evaluates them at once.
    std::set<std::string> keys;
    for (const ActiveVersion& version : *active) {
      round.active.emplace_back(version.model, version.version);
      keys.insert(absl::StrCat(version.model, std::string(1, '\0'), version.version));
    }
    absl::MutexLock lock(&mu_);
    for (auto it = last_evaluated_.begin(); it != last_evaluated_.end();) {
      if (keys.count(it->first) == 0) {
        last_evaluated_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  for (const ActiveVersion& version : *active) {
    absl::StatusOr<v1::MonitoringPolicy> policy = options_.policies->Get(version.model);
    if (!policy.ok()) {
      VersionEvaluation failed;
      failed.model = version.model;
      failed.version = version.version;
      failed.error = policy.status();
      round.versions.push_back(std::move(failed));
      continue;
    }
    const std::string key = absl::StrCat(version.model, std::string(1, '\0'), version.version);
    {
      absl::MutexLock lock(&mu_);
      auto it = last_evaluated_.find(key);
      if (!force && it != last_evaluated_.end() &&
          now - it->second < PolicyEvaluationInterval(*policy)) {
        continue;
      }
      last_evaluated_[key] = now;
    }
    VersionEvaluation evaluated = EvaluateVersion(version, *policy);
    if (!evaluated.error.ok()) {
      core::Log(core::LogLevel::kWarning, "evaluation_failed",
                {{"model", version.model},
                 {"version", version.version},
                 {"error", std::string(evaluated.error.message())}});
    }
    if (std::find(round.models.begin(), round.models.end(), version.model) == round.models.end()) {
      round.models.push_back(version.model);
    }
    round.versions.push_back(std::move(evaluated));
  }
  return round;
}

}  // namespace fabrique::monitoring
