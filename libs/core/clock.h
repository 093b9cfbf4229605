#ifndef FABRIQUE_LIBS_CORE_CLOCK_H_
#define FABRIQUE_LIBS_CORE_CLOCK_H_

// An injectable clock. Code that reads the time takes a Clock* so tests can drive time by hand
// (TTL expiry, retention, deadlines) instead of sleeping.

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace fabrique::core {

class Clock {
 public:
  virtual ~Clock() = default;
  // Returns the current wall-clock time.
  virtual absl::Time Now() const = 0;

  // Returns the process-wide real clock. Never null, never destroyed.
  static Clock* Real();
};

// A clock that stands still until told to move. Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000)) : now_(start) {}
  absl::Time Now() const override;
  // Moves the clock forward by `delta` (may be negative for tests of clock skew).
  void Advance(absl::Duration delta);
  void Set(absl::Time now);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fabrique::core

#endif  // FABRIQUE_LIBS_CORE_CLOCK_H_
