#include "services/monitor/evaluation_loop.h"

#include <string>
#include <vector>

#include "libs/core/log.h"

namespace fabrique::services {

void PublishFiring(MonitorMetrics* metrics, const monitoring::AlertStore& alerts,
                   absl::string_view model, absl::Time now) {
  if (metrics == nullptr) return;
  absl::StatusOr<std::vector<int64_t>> counts = alerts.FiringBySeverity(model, now);
  if (!counts.ok()) return;
  for (v1::Severity severity : {v1::SEVERITY_INFO, v1::SEVERITY_WARNING, v1::SEVERITY_CRITICAL}) {
    metrics->SetAlertsFiring(model, severity, (*counts)[severity]);
  }
}

EvaluationLoop::EvaluationLoop(EvaluationLoopOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : core::Clock::Real()) {}

EvaluationLoop::~EvaluationLoop() { Stop(); }

void EvaluationLoop::Start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void EvaluationLoop::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void EvaluationLoop::Run() {
  while (!stopping_) {
    absl::StatusOr<monitoring::EvaluationRound> round = EvaluateNow(/*force=*/false);
    if (!round.ok()) {
      core::Log(core::LogLevel::kWarning, "evaluation_round_failed",
                {{"error", std::string(round.status().message())}});
    }
    clock_->SleepUntil(clock_->Now() + options_.tick, [this] { return stopping_.load(); });
  }
}

absl::StatusOr<monitoring::EvaluationRound> EvaluationLoop::EvaluateNow(bool force) {
  absl::MutexLock lock(&round_mu_);
  absl::StatusOr<monitoring::EvaluationRound> round = options_.engine->RunRound(force);
  if (round.ok()) Publish(*round);
  return round;
}

void EvaluationLoop::Publish(const monitoring::EvaluationRound& round) {
  if (options_.metrics == nullptr) return;
  for (const monitoring::VersionEvaluation& version : round.versions) {
    if (version.drift) options_.metrics->PublishDrift(*version.drift);
    if (version.performance) options_.metrics->PublishPerformance(*version.performance);
  }
  options_.metrics->RetainVersions(round.active);
  const absl::Time now = clock_->Now();
  for (const std::string& model : round.models) {
    PublishFiring(options_.metrics, *options_.alerts, model, now);
  }
}

}  // namespace fabrique::services
