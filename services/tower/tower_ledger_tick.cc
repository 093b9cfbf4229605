#include "services/tower/tower_ledger_tick.h"

#include <string>

#include "libs/core/log.h"
#include "libs/tower/approvals/approvals.h"

namespace fabrique::services {

TowerLedgerTick::TowerLedgerTick(Options options) : options_(options) {
  if (options_.clock == nullptr) options_.clock = core::Clock::Real();
}

TowerLedgerTick::~TowerLedgerTick() { Stop(); }

void TowerLedgerTick::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    while (!stop_.load()) {
      Tick();
      options_.clock->SleepUntil(options_.clock->Now() + options_.interval,
                                 [this] { return stop_.load(); });
    }
  });
}

void TowerLedgerTick::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void TowerLedgerTick::Tick() {
  if (options_.approvals != nullptr) {
    absl::StatusOr<int> expired = options_.approvals->ExpireDue();
    if (!expired.ok()) {
      core::Log(core::LogLevel::kWarning, "approvals_expiry_failed",
                {{"error", std::string(expired.status().message())}});
    } else if (*expired > 0) {
      core::Log(core::LogLevel::kInfo, "approvals_expired", {{"count", *expired}});
    }
  }
  if (options_.metrics != nullptr) options_.metrics->Refresh(options_.approvals, options_.budget);
}

}  // namespace fabrique::services
