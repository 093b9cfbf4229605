#include "libs/serving/batch_queue.h"

#include <vector>

#include "absl/time/time.h"
#include "catch2/catch.hpp"
#include "tests/serving/batch_test_util.h"

namespace fabrique::serving {
namespace {

using testing::CountingRows;

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);
constexpr absl::Duration kDelay = absl::Milliseconds(1);

BatchQueue::Limits Limits(int max_batch_size, std::vector<int> preferred = {}) {
  BatchQueue::Limits limits;
  limits.max_batch_size = max_batch_size;
  limits.max_queue_delay = kDelay;
  limits.preferred_batch_sizes = std::move(preferred);
  return limits;
}

QueuedRequest Request(int64_t rows, absl::Time enqueued = kStart,
                      absl::Time deadline = absl::InfiniteFuture()) {
  return QueuedRequest{CountingRows(rows), enqueued, deadline, nullptr};
}

TEST_CASE("An empty queue forms no batch and needs no wake-up") {
  BatchQueue queue(Limits(8));
  const BatchDecision decision = queue.Decide(kStart, /*draining=*/false);
  CHECK_FALSE(decision.dispatch);
  CHECK(decision.wake_at == absl::InfiniteFuture());
  CHECK_FALSE(queue.Decide(kStart, /*draining=*/true).dispatch);
}

TEST_CASE("A partial batch waits for the oldest request's delay, then leaves") {
  BatchQueue queue(Limits(8));
  queue.Push(Request(3, kStart));
  queue.Push(Request(2, kStart + absl::Microseconds(500)));

  const BatchDecision early = queue.Decide(kStart + absl::Microseconds(999), false);
  CHECK_FALSE(early.dispatch);
  CHECK(early.wake_at == kStart + kDelay);  // Timed from the oldest, not the newest.

  const BatchDecision due = queue.Decide(kStart + kDelay, false);
  CHECK(due.dispatch);
  CHECK(due.requests == 2);
  CHECK(due.rows == 5);
}

TEST_CASE("Rows reaching max_batch_size leave at once") {
  BatchQueue queue(Limits(8));
  queue.Push(Request(4));
  queue.Push(Request(4));
  queue.Push(Request(1));
  const BatchDecision decision = queue.Decide(kStart, false);
  CHECK(decision.dispatch);
  CHECK(decision.requests == 2);
  CHECK(decision.rows == 8);
}

TEST_CASE("A head the next request cannot join leaves at once, never over the maximum") {
  BatchQueue queue(Limits(8));
  queue.Push(Request(3));
  queue.Push(Request(3));
  queue.Push(Request(3));  // 9 rows would pass the maximum; requests are never split.
  const BatchDecision decision = queue.Decide(kStart, false);
  CHECK(decision.dispatch);
  CHECK(decision.requests == 2);
  CHECK(decision.rows == 6);
}

TEST_CASE("Preferred sizes leave at once when no larger one can be filled from the queue") {
  BatchQueue queue(Limits(16, {8, 4}));  // Any order.
  SECTION("the head adds up to the smaller preferred size") {
    queue.Push(Request(2));
    queue.Push(Request(2));
    const BatchDecision decision = queue.Decide(kStart, false);
    CHECK(decision.dispatch);
    CHECK(decision.rows == 4);
  }
  SECTION("the larger preferred size is reached exactly: it wins over the smaller") {
    queue.Push(Request(4));
    queue.Push(Request(4));
    queue.Push(Request(2));
    const BatchDecision decision = queue.Decide(kStart, false);
    CHECK(decision.dispatch);
    CHECK(decision.requests == 2);
    CHECK(decision.rows == 8);
  }
  SECTION("rows past a preferred size but short of the next leave at the preferred size") {
    queue.Push(Request(4));
    queue.Push(Request(3));
    const BatchDecision decision = queue.Decide(kStart, false);
    CHECK(decision.dispatch);
    CHECK(decision.requests == 1);
    CHECK(decision.rows == 4);
  }
  SECTION("no prefix adds up to a preferred size: the head waits for its delay") {
    queue.Push(Request(2));
    queue.Push(Request(3));
    const BatchDecision decision = queue.Decide(kStart, false);
    CHECK_FALSE(decision.dispatch);
    CHECK(decision.wake_at == kStart + kDelay);
  }
}

TEST_CASE("Draining sends the head without waiting for its delay") {
  BatchQueue queue(Limits(8));
  queue.Push(Request(3));
  CHECK_FALSE(queue.Decide(kStart, /*draining=*/false).dispatch);
  const BatchDecision decision = queue.Decide(kStart, /*draining=*/true);
  CHECK(decision.dispatch);
  CHECK(decision.rows == 3);
}

TEST_CASE("Expired requests add no rows but leave with the batch to be answered") {
  BatchQueue queue(Limits(8));
  const absl::Time now = kStart + absl::Microseconds(100);
  SECTION("an expired request between live ones does not use up the batch") {
    queue.Push(Request(4));
    queue.Push(Request(4, kStart, /*deadline=*/now));
    queue.Push(Request(4));
    const BatchDecision decision = queue.Decide(now, false);
    CHECK(decision.dispatch);
    CHECK(decision.requests == 3);
    CHECK(decision.rows == 8);
  }
  SECTION("an expired request at the head is taken once the head's delay runs out") {
    queue.Push(Request(5, kStart, /*deadline=*/now));
    queue.Push(Request(3));
    const BatchDecision waiting = queue.Decide(now, false);
    CHECK_FALSE(waiting.dispatch);
    CHECK(waiting.rows == 3);
    const BatchDecision due = queue.Decide(kStart + kDelay, false);
    CHECK(due.dispatch);
    CHECK(due.requests == 2);
    CHECK(due.rows == 3);
  }
}

TEST_CASE("Take moves the head out in submit order and keeps the row count") {
  BatchQueue queue(Limits(8));
  queue.Push(Request(1));
  queue.Push(Request(2));
  queue.Push(Request(3));
  CHECK(queue.rows() == 6);

  std::vector<QueuedRequest> taken;
  queue.Take(2, &taken);
  REQUIRE(taken.size() == 2);
  CHECK(taken[0].inputs.rows == 1);
  CHECK(taken[1].inputs.rows == 2);
  CHECK(queue.rows() == 3);
  CHECK_FALSE(queue.empty());

  queue.Take(5, &taken);  // Asking for more than is queued takes what there is.
  CHECK(taken.size() == 3);
  CHECK(queue.empty());
  CHECK(queue.rows() == 0);
}

}  // namespace
}  // namespace fabrique::serving
