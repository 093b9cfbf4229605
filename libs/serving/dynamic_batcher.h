#ifndef FABRIQUE_LIBS_SERVING_DYNAMIC_BATCHER_H_
#define FABRIQUE_LIBS_SERVING_DYNAMIC_BATCHER_H_

// Joins concurrent requests for one model version into batches, so the model computes many rows
// per call (Triton's dynamic batcher). The model set makes one per served version; adapters
// submit decoded rows to it and are answered through a callback with their own output rows.
//
//   ASSIGN_OR_RETURN(auto batcher, DynamicBatcher::Create(options, [&](const TensorBatch& in) {
//     return module->Forward(in);
//   }));
//   batcher->Submit(std::move(rows), deadline, [](absl::StatusOr<TensorBatch> out,
//                                                 const BatchStats& stats) { ... });
//
// When a batch leaves the queue is decided by BatchQueue::Decide (batch_queue.h): at once when
// its rows reach max_batch_size or a preferred size, otherwise after the oldest request has
// waited max_queue_delay. Batches are formed only when a compute thread is free, so under load
// the queue grows into larger batches instead of longer waits.

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/core/clock.h"
#include "libs/serving/batch_request.h"
#include "libs/serving/tensor_batch.h"

namespace fabrique::serving {

struct BatcherOptions {
  int max_batch_size = 32;  // Rows per compute call, at most (>= 1). Default 32.
  // How long the oldest queued request waits for more rows, at most (>= 0). Default 200 µs.
  absl::Duration max_queue_delay = absl::Microseconds(200);
  // Batch sizes dispatched at once when the queue reaches one; each in [1, max_batch_size],
  // sorted (any order is accepted). Default none (only max_batch_size).
  std::vector<int> preferred_batch_sizes;
  int instances = 1;  // Compute threads calling the function at once (>= 1). Default 1.
  // Rows waiting, at most (>= max_batch_size); beyond: RESOURCE_EXHAUSTED. Default 4096.
  int max_queue_rows = 4096;
  core::Clock* clock = core::Clock::Real();  // Not owned; never null. Default the real clock.
};

class DynamicBatcher {
 public:
  // INVALID_ARGUMENT naming the option when `options` are out of range or `compute` is empty.
  static absl::StatusOr<std::unique_ptr<DynamicBatcher>> Create(BatcherOptions options,
                                                                BatchCompute compute);
  // Stop(), then joins its threads.
  ~DynamicBatcher();

  DynamicBatcher(const DynamicBatcher&) = delete;
  DynamicBatcher& operator=(const DynamicBatcher&) = delete;

  // Queues `inputs` (rows > 0) to be computed by `deadline`; `done` is called exactly once, on a
  // batcher thread (or inline for an immediate refusal): with this request's output rows
  // (SliceRows of the batch's outputs), or RESOURCE_EXHAUSTED (queue full, refused at once),
  // DEADLINE_EXCEEDED (deadline passed before its batch started: never computed; at once when
  // already passed), INVALID_ARGUMENT (no rows, or inputs.rows > max_batch_size), UNAVAILABLE
  // (stopped), or the compute error (INTERNAL when the outputs lack one row per input row).
  // An empty `done` is dropped: no one would read the answer. Takes one lock; never waits.
  void Submit(TensorBatch inputs, absl::Time deadline, BatchDone done);

  // Stops taking requests (later Submits: UNAVAILABLE), computes everything queued, returns when
  // all `done`s have been called and the threads have ended. Idempotent. Called from a `done`
  // (on a batcher thread) it only stops taking requests: a thread cannot wait for itself.
  void Stop();

  // Rows waiting now (a gauge), not counting batches being computed.
  int64_t queued_rows() const;

 private:
  class Core;

  explicit DynamicBatcher(std::shared_ptr<Core> core);
  // Joins every thread but the calling one, which is detached: it ends by itself once its
  // `done` returns, holding the Core it still reads.
  void JoinThreads();

  // Shared with the threads, so a batcher destroyed from one of its own `done` callbacks (the
  // last holder of its version letting go) leaves that thread a live queue to finish on.
  const std::shared_ptr<Core> core_;
  absl::Mutex join_mu_;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(join_mu_);
};

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_DYNAMIC_BATCHER_H_
