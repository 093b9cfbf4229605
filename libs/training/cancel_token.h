#ifndef FABRIQUE_LIBS_TRAINING_CANCEL_TOKEN_H_
#define FABRIQUE_LIBS_TRAINING_CANCEL_TOKEN_H_

// A run's cancellation, with a point of no return: once the run starts registering its version
// it can no longer be cancelled (else a cancelled run could still leave a version behind). One
// token per run: the queue makes it when the run starts and drops it when the run ends, so
// cancelling one run never touches another, whatever the number of workers.

#include <atomic>
#include <functional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace fabrique::training {

class CancelToken {
 public:
  // Asks the run to stop; false (and nothing changes) once it is registering. True again for a
  // run already stopped, which stays stopped for its first reason. `who` asked (a subject,
  // "" = unsaid) and `why` (free text), for the run's record.
  bool Cancel(std::string who = "", std::string why = "") {
    return Stop(Reason::kCancel, std::move(who), std::move(why));
  }
  // The same, because the trainer is stopping: the run is then failed, saying so, not cancelled.
  bool Shutdown() { return Stop(Reason::kShutdown); }
  // The same, because the run's deadline passed: the run is then failed, saying so. Only when
  // this is the first reason: a run its user cancelled before stays cancelled, even when the
  // worker notices the cancel after the deadline.
  bool TimeOut() { return Stop(Reason::kDeadline); }
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
  // Why it was stopped: the trainer stopping, or the run's deadline (neither: its user).
  bool shutting_down() const { return shutdown_.load(); }
  bool timed_out() const { return timed_out_.load(); }
  // What the first Cancel said: who asked, and why ("" when unsaid).
  std::string cancelled_by() const {
    absl::MutexLock lock(&mu_);
    return who_;
  }
  std::string cancel_reason() const {
    absl::MutexLock lock(&mu_);
    return why_;
  }
  // What training polls between batches.
  const std::atomic<bool>* flag() const { return &cancelled_; }

 private:
  enum class Reason { kCancel, kShutdown, kDeadline };

  bool Stop(Reason reason, std::string who = "", std::string why = "") {
    absl::MutexLock lock(&mu_);
    if (committing_) return false;
    // The first reason stays: a later one finds the run stopping already.
    if (!cancelled_) {
      shutdown_ = reason == Reason::kShutdown;
      timed_out_ = reason == Reason::kDeadline;
      who_ = std::move(who);
      why_ = std::move(why);
    }
    cancelled_ = true;
    if (interrupt_) interrupt_();
    return true;
  }

  mutable absl::Mutex mu_;
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> shutdown_{false};
  std::atomic<bool> timed_out_{false};
  bool committing_ ABSL_GUARDED_BY(mu_) = false;
  std::string who_ ABSL_GUARDED_BY(mu_);
  std::string why_ ABSL_GUARDED_BY(mu_);
  std::function<void()> interrupt_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_CANCEL_TOKEN_H_
