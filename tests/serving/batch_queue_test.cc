#include "libs/serving/batch_queue.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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

// "2 requests, 8 rows" (or "1 request, ...") for a batch to send now; "wait" otherwise. Compared as
// text so a failure shows the whole decision.
std::string Sent(const BatchDecision& decision) {
  if (!decision.dispatch) return "wait";
  return absl::StrCat(decision.requests, decision.requests == 1 ? " request, " : " requests, ",
                      decision.rows, " rows");
}

TEST_CASE("An empty queue forms no batch and needs no wake-up") {
  BatchQueue queue(Limits(8));
  const BatchDecision decision = queue.Decide(kStart, /*draining=*/false);
  CHECK(Sent(decision) == "wait");
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

  CHECK(Sent(queue.Decide(kStart + kDelay, false)) == "2 requests, 5 rows");
}

TEST_CASE("Rows reaching max_batch_size leave at once") {
  BatchQueue queue(Limits(8));
  queue.Push(Request(4));
  queue.Push(Request(4));
  queue.Push(Request(1));
  CHECK(Sent(queue.Decide(kStart, false)) == "2 requests, 8 rows");
}

TEST_CASE("A head the next request cannot join leaves at once, never over the maximum") {
  BatchQueue queue(Limits(8));
  queue.Push(Request(3));
  queue.Push(Request(3));
  queue.Push(Request(3));  // 9 rows would pass the maximum; requests are never split.
  CHECK(Sent(queue.Decide(kStart, false)) == "2 requests, 6 rows");
}

TEST_CASE("Preferred sizes leave at once when no larger one can be filled from the queue") {
  BatchQueue queue(Limits(16, {8, 4}));  // Any order.
  SECTION("the head adds up to the smaller preferred size") {
    queue.Push(Request(2));
    queue.Push(Request(2));
    CHECK(Sent(queue.Decide(kStart, false)) == "2 requests, 4 rows");
  }
  SECTION("the larger preferred size is reached exactly: it wins over the smaller") {
    queue.Push(Request(4));
    queue.Push(Request(4));
    queue.Push(Request(2));
    CHECK(Sent(queue.Decide(kStart, false)) == "2 requests, 8 rows");
  }
  SECTION("rows past a preferred size but short of the next leave at the preferred size") {
    queue.Push(Request(4));
    queue.Push(Request(3));
    CHECK(Sent(queue.Decide(kStart, false)) == "1 request, 4 rows");
  }
  SECTION("no prefix adds up to a preferred size: the head waits for its delay") {
    queue.Push(Request(2));
    queue.Push(Request(3));
    const BatchDecision decision = queue.Decide(kStart, false);
    CHECK(Sent(decision) == "wait");
    CHECK(decision.wake_at == kStart + kDelay);
  }
}

TEST_CASE("Draining sends the head without waiting for its delay") {
  BatchQueue queue(Limits(8));
  queue.Push(Request(3));
  CHECK_FALSE(queue.Decide(kStart, /*draining=*/false).dispatch);
  CHECK(Sent(queue.Decide(kStart, /*draining=*/true)) == "1 request, 3 rows");
}

TEST_CASE("Expired requests add no rows but leave with the batch to be answered") {
  BatchQueue queue(Limits(8));
  const absl::Time now = kStart + absl::Microseconds(100);
  SECTION("an expired request between live ones does not use up the batch") {
    queue.Push(Request(4));
    queue.Push(Request(4, kStart, /*deadline=*/now));
    queue.Push(Request(4));
    CHECK(Sent(queue.Decide(now, false)) == "3 requests, 8 rows");
  }
  SECTION("an expired request at the head is taken once the head's delay runs out") {
    queue.Push(Request(5, kStart, /*deadline=*/now));
    queue.Push(Request(3));
    const BatchDecision waiting = queue.Decide(now, false);
    CHECK_FALSE(waiting.dispatch);
    CHECK(waiting.rows == 3);
    CHECK(Sent(queue.Decide(kStart + kDelay, false)) == "2 requests, 3 rows");
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
