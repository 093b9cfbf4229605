#include "services/registry/monitor_gate_recheck.h"

#include "libs/core/log.h"

namespace fabrique::services {

MonitorGateRecheck::MonitorGateRecheck(registry::RegistryStore* store, absl::Duration interval,
                                       const core::Clock* clock)
    : store_(store),
      interval_(interval),
      clock_(clock != nullptr ? clock : core::Clock::Real()),
      thread_([this] { Loop(); }) {}

MonitorGateRecheck::~MonitorGateRecheck() {
  stop_.Notify();
  thread_.join();
}

void MonitorGateRecheck::Loop() {
  // The registry acts on its own when a re-evaluation completes a request.
  v1::Principal actor;
  actor.set_subject("service:registry");
  while (
      clock_->SleepUntil(clock_->Now() + interval_, [this] { return stop_.HasBeenNotified(); })) {
    absl::StatusOr<int> changed = store_->ReevaluateMonitorGates(actor);
    if (!changed.ok()) {
      core::Log(core::LogLevel::kWarning, "monitor_gates_not_evaluated",
                {{"error", changed.status().ToString()}});
    } else if (*changed > 0) {
      core::Log(core::LogLevel::kInfo, "monitor_gates_evaluated", {{"changed", *changed}});
    }
  }
}

}  // namespace fabrique::services
