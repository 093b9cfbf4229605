#ifndef FABRIQUE_LIBS_CORE_CLOCK_H_
#define FABRIQUE_LIBS_CORE_CLOCK_H_

// An injectable clock. Code that reads the time, or waits for a time to come, takes a Clock* so
// tests can drive time by hand (TTL expiry, retention, deadlines, backoff) instead of sleeping.

#include <cstdint>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace fabrique::core {

class Clock {
 public:
  virtual ~Clock() = default;
  // Returns the current wall-clock time.
  virtual absl::Time Now() const = 0;

  // Blocks until Now() reaches `deadline`, or until `interrupted` (optional) returns true; it is
  // asked before the first wait and then at least every kInterruptPoll of real time, so a stop
  // ends the wait within that. Returns true when the deadline came, false when interrupted.
  virtual bool SleepUntil(absl::Time deadline,
                          const std::function<bool()>& interrupted = nullptr) const;

  // How often SleepUntil asks `interrupted`: short enough that a cancel feels immediate, long
  // enough that a wait of seconds costs nothing.
  static constexpr absl::Duration kInterruptPoll = absl::Milliseconds(10);

  // Returns the process-wide real clock. Never null, never destroyed.
  static Clock* Real();
};

// A clock that stands still until told to move. Thread-safe. SleepUntil waits until Advance or
// Set reaches the deadline; AwaitSleeps lets a test act once the code under test is waiting.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000)) : now_(start) {}
  absl::Time Now() const override;
  bool SleepUntil(absl::Time deadline,
                  const std::function<bool()>& interrupted = nullptr) const override;
  // Moves the clock forward by `delta` (may be negative for tests of clock skew).
  void Advance(absl::Duration delta);
  void Set(absl::Time now);

  // Waits, at most `timeout` of real time, until `count` calls of SleepUntil have begun since the
  // clock was made; returns whether they have.
  bool AwaitSleeps(int64_t count, absl::Duration timeout) const;

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  mutable int64_t sleeps_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace fabrique::core

#endif  // FABRIQUE_LIBS_CORE_CLOCK_H_
