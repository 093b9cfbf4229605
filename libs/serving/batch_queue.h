#ifndef FABRIQUE_LIBS_SERVING_BATCH_QUEUE_H_
#define FABRIQUE_LIBS_SERVING_BATCH_QUEUE_H_

// The dynamic batcher's queue and the rule that decides when its head becomes a batch. Not
// thread-safe and free of threads and clocks: the batcher calls it under its lock with the time
// it read, so every batching decision is a plain function of the queue and a time, tested as
// such (batch_queue_test.cc).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "absl/time/time.h"
#include "libs/serving/batch_request.h"

namespace fabrique::serving {

// What the queue's head should do now.
struct BatchDecision {
  bool dispatch = false;  // Form a batch now from the first `requests` requests.
  size_t requests = 0;    // Requests to take from the head (some may have expired).
  int64_t rows = 0;       // Rows of the unexpired ones among them: the batch's size.
  // When dispatch is false: when the head's delay runs out, the latest time to look again
  // (sooner when more rows arrive). InfiniteFuture when the queue is empty.
  absl::Time wake_at = absl::InfiniteFuture();
};

class BatchQueue {
 public:
  struct Limits {
    int max_batch_size = 32;  // Rows per batch, at most (>= 1). Default 32.
    // How long the oldest request waits for more rows, at most. Default 200 µs.
    absl::Duration max_queue_delay = absl::Microseconds(200);
    // Sizes dispatched at once when the queue's head adds up to one; each in
    // [1, max_batch_size], any order. Default none.
    std::vector<int> preferred_batch_sizes;
  };

  explicit BatchQueue(const Limits& limits);

  // Appends a request; the caller has checked 0 < rows <= max_batch_size.
  void Push(QueuedRequest request);

  // Decides, at `now`, whether the head forms a batch (Triton's dynamic batcher rule; requests
  // are never split or reordered). The head is the longest run of requests from the front whose
  // unexpired rows fit in max_batch_size; it is "full" when the next request does not fit.
  //  1. When a prefix of the head adds up to a preferred size (max_batch_size counts as one),
  //     the longest such prefix is dispatched at once: no larger preferred size can be filled
  //     exactly from what is queued, and waiting could only overshoot it.
  //  2. Otherwise the whole head is dispatched when it is full, when the oldest request has
  //     waited max_queue_delay, or when `draining` (the batcher is stopping).
  //  3. Otherwise wait until the oldest request's delay runs out.
  // Expired requests (deadline <= now) add no rows; they ride along to be answered, not computed.
  BatchDecision Decide(absl::Time now, bool draining) const;

  // Moves the first `count` requests, in order, to the end of `out`.
  void Take(size_t count, std::vector<QueuedRequest>* out);

  bool empty() const { return queue_.empty(); }
  // Rows of every queued request, expired or not.
  int64_t rows() const { return rows_; }
  int max_batch_size() const { return max_batch_size_; }

 private:
  bool IsPreferred(int64_t rows) const { return preferred_[static_cast<size_t>(rows)]; }

  const int max_batch_size_;
  const absl::Duration max_queue_delay_;
  // preferred_[n]: whether a batch of n rows is dispatched at once. Indexed by rows so a decision
  // costs no search and no allocation.
  std::vector<bool> preferred_;
  std::deque<QueuedRequest> queue_;
  int64_t rows_ = 0;
};

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_BATCH_QUEUE_H_
