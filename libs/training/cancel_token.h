#ifndef FABRIQUE_LIBS_TRAINING_CANCEL_TOKEN_H_
#define FABRIQUE_LIBS_TRAINING_CANCEL_TOKEN_H_

// A run's cancellation, with a point of no return: once the run starts registering its version
// it can no longer be cancelled (else a cancelled run could still leave a version behind). One
// token per run: the queue makes it when the run starts and drops it when the run ends, so
// cancelling one run never touches another, whatever the number of workers.

#include <atomic>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace fabrique::training {

class CancelToken {
 public:
  // Asks the run to stop; false (and nothing changes) once it is registering.
  bool Cancel() { return Stop(/*shutdown=*/false); }
  // The same, because the trainer is stopping: the run is then failed, saying so, not cancelled.
  bool Shutdown() { return Stop(/*shutdown=*/true); }
  // Enters the point of no return; false when the run was cancelled first.
  bool BeginCommit() {
    absl::MutexLock lock(&mu_);
    if (cancelled_) return false;
    committing_ = true;
    return true;
  }
  // While set, a successful Cancel or Shutdown also calls `interrupt` (at once when it came
  // first), so that a call the run is blocked in (a stream that has not answered yet) ends now
  // rather than when it next yields. Cleared by SetInterrupt(nullptr), which waits for an
  // interrupt under way: whatever it touches may be destroyed after that.
  void SetInterrupt(std::function<void()> interrupt) {
    absl::MutexLock lock(&mu_);
    interrupt_ = std::move(interrupt);
    if (interrupt_ && cancelled_) interrupt_();
  }
  bool cancelled() const { return cancelled_.load(); }
  bool shutting_down() const { return shutdown_.load(); }
  // What training polls between batches.
  const std::atomic<bool>* flag() const { return &cancelled_; }

 private:
  bool Stop(bool shutdown) {
    absl::MutexLock lock(&mu_);
    if (committing_) return false;
    // A run cancelled first (by its user, or its deadline) stays so.
    if (shutdown && !cancelled_) shutdown_ = true;
    cancelled_ = true;
    if (interrupt_) interrupt_();
    return true;
  }

  absl::Mutex mu_;
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> shutdown_{false};
  bool committing_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void()> interrupt_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_CANCEL_TOKEN_H_
