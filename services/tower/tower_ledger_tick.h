#ifndef FABRIQUE_SERVICES_TOWER_TOWER_LEDGER_TICK_H_
#define FABRIQUE_SERVICES_TOWER_TOWER_LEDGER_TICK_H_

// The tower's periodic bookkeeping of approvals and budget, on one background thread: expires
// pending approvals past their time (their handlers then fail the jobs waiting on them) and
// refreshes the budget and approvals gauges.

#include <atomic>
#include <thread>

#include "absl/time/time.h"
#include "libs/core/clock.h"
#include "services/tower/tower_ledger_metrics.h"

namespace fabrique::services {

class TowerLedgerTick {
 public:
  struct Options {
    tower::Approvals* approvals = nullptr;  // Not owned; may be null.
    tower::Budget* budget = nullptr;        // Not owned; may be null.
    TowerLedgerMetrics* metrics = nullptr;  // Not owned; may be null.
    core::Clock* clock = nullptr;           // Not owned; null = the real clock.
    // Time between ticks. Expiry is due within this of an approval's expire_time. Default 15 s.
    absl::Duration interval = absl::Seconds(15);
  };

  explicit TowerLedgerTick(Options options);
  // Stops the thread.
  ~TowerLedgerTick();

  // Runs one tick now (also the first thing the thread does), then every interval.
  void Start();
  // Ends the thread after its tick in progress; idempotent.
  void Stop();
  // One tick: expiry, then the gauges.
  void Tick();

 private:
  Options options_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_TOWER_TOWER_LEDGER_TICK_H_
