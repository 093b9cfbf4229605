#ifndef FABRIQUE_LIBS_CLIENT_RETRY_H_
#define FABRIQUE_LIBS_CLIENT_RETRY_H_

// The one retry policy of Fabrique's clients: a call a server could not take (UNAVAILABLE), or,
// for an idempotent call, one that did not answer in time (DEADLINE_EXCEEDED), is tried again
// after an exponential backoff, within a number of attempts and an overall deadline. The waits
// run on an injected clock, so tests drive them with FakeClock instead of sleeping.
//
//   Retrier retrier(RetryPolicy{}, clock);
//   absl::StatusOr<v1::Model> model = WithRetries(retrier, [&] { return GetModel(); });
//   if (!model.ok() && retrier.exhausted()) { ... gave up on a retryable error ... }

#include <functional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/core/clock.h"

namespace fabrique::client {

struct RetryPolicy {
  // Tries in all, the first included; 0 = no limit (the deadline bounds them). Default 3.
  int max_attempts = 3;
  // Wait before the second try. Default 500 ms.
  absl::Duration initial_backoff = absl::Milliseconds(500);
  // Each later wait is the previous one times this (at least 1). Default 2.
  double multiplier = 2;
  // Longest wait between two tries. Default 5 s.
  absl::Duration max_backoff = absl::Seconds(5);
  // Codes worth another try. UNAVAILABLE means the server did not take the call; DEADLINE_EXCEEDED
  // may mean it did, so it belongs here only for idempotent calls. Default both.
  std::vector<absl::StatusCode> retryable = {absl::StatusCode::kUnavailable,
                                             absl::StatusCode::kDeadlineExceeded};
  // How long, from the first try, retries may go on: no try starts whose wait would pass it.
  // Default: no limit.
  absl::Duration overall_timeout = absl::InfiniteDuration();
};

// One run of the policy over a sequence of tries. Not thread-safe; make one per call.
class Retrier {
 public:
  // `clock` (not owned; nullptr = the real clock) times the waits and the deadlines.
  // `deadline` (on `clock`) is one the retries must also end by, e.g. the work's own;
  // `interrupted` (optional), when it turns true, ends a wait at once (a cancel).
  Retrier(RetryPolicy policy, core::Clock* clock, absl::Time deadline = absl::InfiniteFuture(),
          std::function<bool()> interrupted = nullptr);

  // Called after each try with how it ended. Returns true, after waiting out the backoff, when
  // another try should be made; false when `status` is final: OK, not retryable, the attempts
  // or the time are spent, or the wait was interrupted.
  bool ShouldRetry(const absl::Status& status);

  // Tries made so far.
  int attempts() const { return attempts_; }
  // Whether the last ShouldRetry stopped on a retryable error because the attempts or the time
  // were spent.
  bool exhausted() const { return exhausted_; }
  // Whether the last ShouldRetry stopped because its wait was interrupted.
  bool interrupted() const { return interrupted_wait_; }
  const RetryPolicy& policy() const { return policy_; }

 private:
  bool Retryable(absl::StatusCode code) const;

  const RetryPolicy policy_;
  core::Clock* const clock_;
  const absl::Time give_up_;
  const std::function<bool()> interrupted_;
  absl::Duration backoff_;
  int attempts_ = 0;
  bool exhausted_ = false;
  bool interrupted_wait_ = false;
};

// The status of a try's result, for tries returning Status or StatusOr<T>.
inline const absl::Status& StatusOf(const absl::Status& result) { return result; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& result) {
  return result.status();
}

// Runs `attempt` (returning absl::Status or absl::StatusOr<T>) as `retrier` decides; returns the
// last try's result.
template <typename Attempt>
auto WithRetries(Retrier& retrier, Attempt attempt) -> decltype(attempt()) {
  while (true) {
    auto result = attempt();
    if (!retrier.ShouldRetry(StatusOf(result))) return result;
  }
}

}  // namespace fabrique::client

#endif  // FABRIQUE_LIBS_CLIENT_RETRY_H_
