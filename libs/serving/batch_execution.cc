#include "libs/serving/batch_execution.h"

#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace fabrique::serving {
namespace {

// Whether `request` is answered DEADLINE_EXCEEDED instead of computed in a batch formed then.
bool Expired(const QueuedRequest& request, absl::Time formed_at) {
  return formed_at >= request.deadline;
}

// Answers every expired request and collects the others' inputs into `live`.
void AnswerExpired(std::vector<QueuedRequest>* requests, absl::Time formed_at,
                   std::vector<const TensorBatch*>* live) {
  for (QueuedRequest& request : *requests) {
    if (!Expired(request, formed_at)) {
      live->push_back(&request.inputs);
      continue;
    }
    if (!request.done) continue;
    const absl::Duration waited = formed_at - request.enqueued;
    BatchStats stats;
    stats.queue_time = waited;
    request.done(
        absl::DeadlineExceededError(absl::StrCat(
            "the request's deadline passed after ", absl::FormatDuration(waited),
            " in the batch queue, before its batch started; it was not computed (allow a longer "
            "deadline, or send less while the model is saturated)")),
        stats);
  }
}

// Calls `compute`, keeping LibTorch's (or any) exception from crossing into the batcher thread.
absl::StatusOr<TensorBatch> CallCompute(const BatchCompute& compute, const TensorBatch& inputs) {
  try {
    return compute(inputs);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("the model's compute threw: ", e.what()));
  } catch (...) {
    return absl::InternalError("the model's compute threw a non-standard exception");
  }
}

// The joined inputs of `live` (more than one request), or why they cannot be joined.
absl::StatusOr<TensorBatch> JoinRows(const std::vector<const TensorBatch*>& live) {
  absl::StatusOr<TensorBatch> joined = ConcatRows(live);
  if (joined.ok()) return joined;
  return absl::Status(joined.status().code(),
                      absl::StrCat("joining the rows of ", live.size(),
                                   " requests into one batch: ", joined.status().message()));
}

// Answers the unexpired requests, in order, from the batch's `outputs` (or its error).
void AnswerComputed(std::vector<QueuedRequest>* requests, absl::Time formed_at,
                    absl::StatusOr<TensorBatch> outputs, BatchStats stats, absl::Time start,
                    bool alone) {
  int64_t offset = 0;
  for (QueuedRequest& request : *requests) {
    if (Expired(request, formed_at)) continue;
    stats.queue_time = start - request.enqueued;
    const int64_t own = request.inputs.rows;
    if (!request.done) {
      // Computed with the others, answered to no one.
    } else if (!outputs.ok()) {
      request.done(outputs.status(), stats);
    } else if (alone) {
      request.done(std::move(outputs), stats);
    } else {
      request.done(SliceRows(*outputs, offset, own), stats);
    }
    offset += own;
  }
}

// Computes the unexpired requests, whose inputs are `live`, as one batch and answers them.
void ComputeAndAnswer(std::vector<QueuedRequest>* requests, absl::Time formed_at,
                      const std::vector<const TensorBatch*>& live, const BatchCompute& compute,
                      const core::Clock& clock) {
  // One request is computed from its own inputs: nothing to join, nothing to slice.
  const bool alone = live.size() == 1;
  absl::StatusOr<TensorBatch> joined = TensorBatch();
  if (!alone) joined = JoinRows(live);
  if (!joined.ok()) {
    AnswerComputed(requests, formed_at, joined.status(), BatchStats(), clock.Now(), alone);
    return;
  }
  const TensorBatch& inputs = alone ? *live.front() : *joined;

  BatchStats stats;
  stats.batch_rows = inputs.rows;
  const absl::Time start = clock.Now();
  absl::StatusOr<TensorBatch> outputs = CallCompute(compute, inputs);
  stats.compute_time = clock.Now() - start;
  if (outputs.ok()) {
    if (absl::Status checked = CheckOutputRows(*outputs, inputs.rows); !checked.ok()) {
      outputs = checked;
    }
  }
  AnswerComputed(requests, formed_at, std::move(outputs), stats, start, alone);
}

}  // namespace

absl::Status CheckOutputRows(const TensorBatch& outputs, int64_t rows) {
  if (outputs.rows != rows) {
    return absl::InternalError(absl::StrCat("the model answered ", outputs.rows,
                                            " rows for a batch of ", rows,
                                            "; it must answer one row per input row"));
  }
  for (const Tensor& tensor : outputs.tensors) {
    if (tensor.rows() != rows || tensor.ElementCount() != rows * tensor.ElementsPerRow()) {
      return absl::InternalError(absl::StrCat("the model's output '", tensor.name, "' has shape [",
                                              absl::StrJoin(tensor.shape, ","), "] and ",
                                              tensor.ElementCount(), " elements for a batch of ",
                                              rows, " rows; it must have one row per input row"));
    }
  }
  return absl::OkStatus();
}

void ExecuteBatch(std::vector<QueuedRequest>* requests, absl::Time formed_at,
                  const BatchCompute& compute, const core::Clock& clock,
                  std::vector<const TensorBatch*>* scratch) {
  scratch->clear();
  AnswerExpired(requests, formed_at, scratch);
  if (!scratch->empty()) ComputeAndAnswer(requests, formed_at, *scratch, compute, clock);
  requests->clear();
  scratch->clear();
}

}  // namespace fabrique::serving
