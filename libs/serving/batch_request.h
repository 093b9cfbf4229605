#ifndef FABRIQUE_LIBS_SERVING_BATCH_REQUEST_H_
#define FABRIQUE_LIBS_SERVING_BATCH_REQUEST_H_

// What the dynamic batcher is given and what it answers: the compute function it calls, the
// callback each request is answered through, and a request while it waits in the queue. Kept
// apart from the batcher so its queue and its batch execution are built and tested on their own.

#include <cstdint>
#include <functional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/serving/tensor_batch.h"

namespace fabrique::serving {

// What one request's answer reports about how it was computed.
struct BatchStats {
  absl::Duration queue_time;    // From Submit to the start of its batch's compute.
  absl::Duration compute_time;  // Of its batch's compute call.
  int64_t batch_rows = 0;       // Rows of the batch it was computed in.
};

// Computes a batch: rows concatenated from one or more requests, in submit order.
using BatchCompute = std::function<absl::StatusOr<TensorBatch>(const TensorBatch& inputs)>;
// Answers one request: its own output rows, or why it has none.
using BatchDone = std::function<void(absl::StatusOr<TensorBatch> outputs, const BatchStats& stats)>;

// One request waiting in the batcher's queue.
struct QueuedRequest {
  TensorBatch inputs;   // inputs.rows > 0 and at most the maximum batch size.
  absl::Time enqueued;  // When Submit queued it (the batcher's clock).
  absl::Time deadline;  // Not computed once reached; answered DEADLINE_EXCEEDED instead.
  BatchDone done;       // Called exactly once.
};

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_BATCH_REQUEST_H_
