#ifndef FABRIQUE_SERVICES_REGISTRY_MONITOR_GATE_RECHECK_H_
#define FABRIQUE_SERVICES_REGISTRY_MONITOR_GATE_RECHECK_H_

// Evaluates again, every interval, the promotion requests that wait on the monitor (too few
// labelled predictions yet, or the monitor unreachable), so that a candidate whose canary has
// gathered enough outcomes is promoted without anyone asking again: the loop that promotes a
// retrained model once live traffic shows it is not worse. One background thread; a failed pass
// is logged and the next one tries again.

#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "libs/core/clock.h"
#include "libs/registry/registry_store.h"

namespace fabrique::services {

class MonitorGateRecheck {
 public:
  // Starts the thread. `store` (not owned) must outlive this; `clock` nullptr = the real clock.
  MonitorGateRecheck(registry::RegistryStore* store, absl::Duration interval,
                     const core::Clock* clock = nullptr);
  // Stops the thread, waiting for a pass in progress.
  ~MonitorGateRecheck();

  MonitorGateRecheck(const MonitorGateRecheck&) = delete;
  MonitorGateRecheck& operator=(const MonitorGateRecheck&) = delete;

 private:
  void Loop();

  registry::RegistryStore* const store_;
  const absl::Duration interval_;
  const core::Clock* const clock_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_REGISTRY_MONITOR_GATE_RECHECK_H_
