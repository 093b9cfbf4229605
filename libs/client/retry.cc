#include "libs/client/retry.h"

#include <algorithm>

namespace fabrique::client {

Retrier::Retrier(RetryPolicy policy, core::Clock* clock, absl::Time deadline,
                 std::function<bool()> interrupted)
    : policy_(std::move(policy)),
      clock_(clock != nullptr ? clock : core::Clock::Real()),
      give_up_(std::min(clock_->Now() + policy_.overall_timeout, deadline)),
      interrupted_(std::move(interrupted)),
      backoff_(policy_.initial_backoff) {}

bool Retrier::Retryable(absl::StatusCode code) const {
  return std::find(policy_.retryable.begin(), policy_.retryable.end(), code) !=
         policy_.retryable.end();
}

bool Retrier::ShouldRetry(const absl::Status& status) {
  ++attempts_;
  exhausted_ = false;
  if (status.ok() || !Retryable(status.code())) return false;
  exhausted_ = true;
  if (policy_.max_attempts > 0 && attempts_ >= policy_.max_attempts) return false;
  const absl::Time wake = clock_->Now() + backoff_;
  if (wake > give_up_) return false;
  if (!clock_->SleepUntil(wake, interrupted_)) {
    exhausted_ = false;
    interrupted_wait_ = true;
    return false;
  }
  backoff_ = std::min(backoff_ * std::max(policy_.multiplier, 1.0), policy_.max_backoff);
  exhausted_ = false;
  return true;
}

}  // namespace fabrique::client
