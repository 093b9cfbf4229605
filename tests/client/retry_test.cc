// The one retry policy, driven by a FakeClock and a fake call that fails as scripted: how many
// tries, how long each wait, and when it stops (a code not worth retrying, the attempts, the
// overall deadline, an outer deadline, an interrupt).

#include "libs/client/retry.h"

#include <future>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "catch2/catch.hpp"
#include "libs/core/clock.h"

namespace fabrique::client {
namespace {

constexpr absl::Duration kPatience = absl::Seconds(10);

// A call that answers its script's statuses in turn (the last one from then on), noting the
// clock's time at each try.
class FakeCall {
 public:
  FakeCall(core::Clock* clock, std::vector<absl::Status> script)
      : clock_(clock), script_(std::move(script)) {}
  absl::StatusOr<int> operator()() {
    absl::MutexLock lock(&mu_);
    times_.push_back(clock_->Now());
    const size_t at = std::min(times_.size() - 1, script_.size() - 1);
    if (!script_[at].ok()) return script_[at];
    return static_cast<int>(times_.size());
  }
  std::vector<absl::Time> times() {
    absl::MutexLock lock(&mu_);
    return times_;
  }

 private:
  core::Clock* clock_;
  const std::vector<absl::Status> script_;
  absl::Mutex mu_;
  std::vector<absl::Time> times_;
};

const absl::Status kUnavailable = absl::UnavailableError("warming up");

// Runs `call` under `retrier` on another thread, and, for each of `waits` in turn, waits until
// the retrier sleeps and then moves `clock` on by that much; returns the result.
absl::StatusOr<int> Drive(core::FakeClock& clock, Retrier& retrier, FakeCall& call,
                          const std::vector<absl::Duration>& waits) {
  auto result =
      std::async(std::launch::async, [&] { return WithRetries(retrier, std::ref(call)); });
  for (size_t i = 0; i < waits.size(); ++i) {
    REQUIRE(clock.AwaitSleeps(static_cast<int64_t>(i + 1), kPatience));
    clock.Advance(waits[i]);
  }
  return result.get();
}

TEST_CASE("retryable failures are tried again after doubling waits, then succeed") {
  core::FakeClock clock;
  const absl::Time start = clock.Now();
  FakeCall call(&clock, {kUnavailable, absl::DeadlineExceededError("slow"), absl::OkStatus()});
  Retrier retrier(RetryPolicy{}, &clock);
  const absl::StatusOr<int> got =
      Drive(clock, retrier, call, {absl::Milliseconds(500), absl::Milliseconds(1000)});
  REQUIRE(got.ok());
  CHECK(*got == 3);
  CHECK(retrier.attempts() == 3);
  CHECK_FALSE(retrier.exhausted());
  CHECK(call.times() == std::vector<absl::Time>{start, start + absl::Milliseconds(500),
                                                start + absl::Milliseconds(1500)});
}

TEST_CASE("the attempts are bounded, and the last error is returned") {
  core::FakeClock clock;
  FakeCall call(&clock, {kUnavailable});
  Retrier retrier(RetryPolicy{}, &clock);  // 3 tries.
  const absl::StatusOr<int> got =
      Drive(clock, retrier, call, {absl::Milliseconds(500), absl::Milliseconds(1000)});
  CHECK(got.status() == kUnavailable);
  CHECK(call.times().size() == 3);
  CHECK(retrier.attempts() == 3);
  CHECK(retrier.exhausted());
  CHECK_FALSE(clock.AwaitSleeps(3, absl::ZeroDuration()));  // No wait after the last try.
}

TEST_CASE("a code not worth retrying stops at once") {
  core::FakeClock clock;
  for (const absl::Status& final :
       {absl::NotFoundError("no such model"), absl::InvalidArgumentError("bad"),
        absl::PermissionDeniedError("no"), absl::AbortedError("conflict")}) {
    FakeCall call(&clock, {final});
    Retrier retrier(RetryPolicy{}, &clock);
    CHECK(WithRetries(retrier, std::ref(call)).status() == final);
    CHECK(retrier.attempts() == 1);
    CHECK_FALSE(retrier.exhausted());
  }
  CHECK_FALSE(clock.AwaitSleeps(1, absl::ZeroDuration()));
}

TEST_CASE("DEADLINE_EXCEEDED is retried only when the policy lists it") {
  core::FakeClock clock;
  RetryPolicy not_idempotent;
  not_idempotent.retryable = {absl::StatusCode::kUnavailable};
  FakeCall call(&clock, {absl::DeadlineExceededError("slow")});
  Retrier retrier(not_idempotent, &clock);
  CHECK(absl::IsDeadlineExceeded(WithRetries(retrier, std::ref(call)).status()));
  CHECK(retrier.attempts() == 1);
}

TEST_CASE("waits grow by the multiplier up to the longest backoff") {
  core::FakeClock clock;
  const absl::Time start = clock.Now();
  RetryPolicy policy;
  policy.max_attempts = 5;
  policy.initial_backoff = absl::Seconds(1);
  policy.multiplier = 3;
  policy.max_backoff = absl::Seconds(4);
  FakeCall call(&clock, {kUnavailable});
  Retrier retrier(policy, &clock);
  CHECK(absl::IsUnavailable(
      Drive(clock, retrier, call,
            {absl::Seconds(1), absl::Seconds(3), absl::Seconds(4), absl::Seconds(4)})
          .status()));
  CHECK(call.times() == std::vector<absl::Time>{start, start + absl::Seconds(1),
                                                start + absl::Seconds(4), start + absl::Seconds(8),
                                                start + absl::Seconds(12)});
}

TEST_CASE("no try starts whose wait would pass the overall deadline") {
  core::FakeClock clock;
  RetryPolicy policy;
  policy.max_attempts = 0;  // Only time bounds the tries.
  policy.overall_timeout = absl::Seconds(2);
  FakeCall call(&clock, {kUnavailable});
  Retrier retrier(policy, &clock);
  // Tries at 0, 0.5 s, 1.5 s; the next would wait until 3.5 s, past 2 s.
  CHECK(absl::IsUnavailable(
      Drive(clock, retrier, call, {absl::Milliseconds(500), absl::Milliseconds(1000)}).status()));
  CHECK(retrier.attempts() == 3);
  CHECK(retrier.exhausted());
}

TEST_CASE("an outer deadline bounds the retries too") {
  core::FakeClock clock;
  RetryPolicy policy;
  policy.max_attempts = 0;
  FakeCall call(&clock, {kUnavailable});
  Retrier retrier(policy, &clock, clock.Now() + absl::Milliseconds(400));
  CHECK(absl::IsUnavailable(WithRetries(retrier, std::ref(call)).status()));
  CHECK(retrier.attempts() == 1);  // The first wait, 500 ms, would already pass it.
  CHECK(retrier.exhausted());
}

TEST_CASE("an interrupt ends the wait at once") {
  core::FakeClock clock;
  std::atomic<bool> cancelled{false};
  FakeCall call(&clock, {kUnavailable});
  Retrier retrier(RetryPolicy{}, &clock, absl::InfiniteFuture(),
                  [&cancelled] { return cancelled.load(); });
  auto result =
      std::async(std::launch::async, [&] { return WithRetries(retrier, std::ref(call)); });
  REQUIRE(clock.AwaitSleeps(1, kPatience));
  cancelled = true;
  CHECK(absl::IsUnavailable(result.get().status()));
  CHECK(retrier.attempts() == 1);
  CHECK(retrier.interrupted());
  CHECK_FALSE(retrier.exhausted());
}

TEST_CASE("tries returning a plain Status work the same") {
  core::FakeClock clock;
  int tries = 0;
  Retrier retrier(RetryPolicy{}, &clock);
  auto result = std::async(std::launch::async, [&] {
    return WithRetries(
        retrier, [&]() -> absl::Status { return ++tries == 1 ? kUnavailable : absl::OkStatus(); });
  });
  REQUIRE(clock.AwaitSleeps(1, kPatience));
  clock.Advance(absl::Milliseconds(500));
  CHECK(result.get().ok());
  CHECK(tries == 2);
}

}  // namespace
}  // namespace fabrique::client
