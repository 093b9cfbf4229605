#include "libs/core/clock.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace fabrique::core {
namespace {

class RealClock : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace

bool Clock::SleepUntil(absl::Time deadline, const std::function<bool()>& interrupted) const {
  while (true) {
    if (interrupted && interrupted()) return false;
    const absl::Duration left = deadline - Now();
    if (left <= absl::ZeroDuration()) return true;
    absl::SleepFor(interrupted ? std::min(left, kInterruptPoll) : left);
  }
}

Clock* Clock::Real() {
  static RealClock* const clock = new RealClock();
  return clock;
}

absl::Time FakeClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

bool FakeClock::SleepUntil(absl::Time deadline, const std::function<bool()>& interrupted) const {
  {
    absl::MutexLock lock(&mu_);
    ++sleeps_;
  }
  while (true) {
    // Asked without the lock: `interrupted` may read this clock.
    if (interrupted && interrupted()) return false;
    absl::MutexLock lock(&mu_);
    const auto reached = [this, deadline]()
                             ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return now_ >= deadline; };
    if (interrupted) {
      if (mu_.AwaitWithTimeout(absl::Condition(&reached), kInterruptPoll)) return true;
    } else {
      mu_.Await(absl::Condition(&reached));
      return true;
    }
  }
}

void FakeClock::Advance(absl::Duration delta) {
  absl::MutexLock lock(&mu_);
  now_ += delta;
}

void FakeClock::Set(absl::Time now) {
  absl::MutexLock lock(&mu_);
  now_ = now;
}

bool FakeClock::AwaitSleeps(int64_t count, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  const auto begun = [this, count]()
                         ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return sleeps_ >= count; };
  return mu_.AwaitWithTimeout(absl::Condition(&begun), timeout);
}

}  // namespace fabrique::core
