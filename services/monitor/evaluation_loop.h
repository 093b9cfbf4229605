#ifndef FABRIQUE_SERVICES_MONITOR_EVALUATION_LOOP_H_
#define FABRIQUE_SERVICES_MONITOR_EVALUATION_LOOP_H_

// The monitor's background evaluation: a thread that every `tick` runs one round of the alert
// engine (libs/monitoring/alerts/alert_engine.h: each version whose policy's interval has passed
// is evaluated, kept retrain requests are tried again) and publishes what it computed: the
// reports' gauges and the alerts firing per model and severity. Stop() (or the destructor) ends
// it within one clock poll; a round in progress finishes first. EvaluateNow runs a round at once
// on the caller's thread, for tests and for an operator's "evaluate now".

#include <atomic>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/core/clock.h"
#include "libs/monitoring/alerts/alert_engine.h"
#include "libs/monitoring/alerts/alert_store.h"
#include "services/monitor/monitor_metrics.h"

namespace fabrique::services {

struct EvaluationLoopOptions {
  // Not owned; required.
  monitoring::AlertEngine* engine = nullptr;
  monitoring::AlertStore* alerts = nullptr;
  // Not owned; nullptr = nothing published.
  MonitorMetrics* metrics = nullptr;
  // Not owned; nullptr = the real clock.
  core::Clock* clock = nullptr;
  // How often the loop looks for versions due an evaluation (each policy's
  // evaluation_interval decides when one is). Default 10 s.
  absl::Duration tick = absl::Seconds(10);
};

class EvaluationLoop {
 public:
  explicit EvaluationLoop(EvaluationLoopOptions options);
  ~EvaluationLoop();
  EvaluationLoop(const EvaluationLoop&) = delete;
  EvaluationLoop& operator=(const EvaluationLoop&) = delete;

  // Starts the thread; a second call does nothing.
  void Start();
  // Stops the thread and waits for it; safe to call twice.
  void Stop();
  // Runs one round now (every active version when `force`) and publishes it.
  absl::StatusOr<monitoring::EvaluationRound> EvaluateNow(bool force = true);

 private:
  void Run();
  void Publish(const monitoring::EvaluationRound& round);

  const EvaluationLoopOptions options_;
  core::Clock* const clock_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  absl::Mutex round_mu_;  // One round at a time.
};

// Sets the alerts-firing gauges of `model` from `alerts`; a read failure leaves them as they were.
void PublishFiring(MonitorMetrics* metrics, const monitoring::AlertStore& alerts,
                   absl::string_view model, absl::Time now);

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_MONITOR_EVALUATION_LOOP_H_
