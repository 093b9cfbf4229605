#ifndef FABRIQUE_LIBS_SERVING_BATCH_EXECUTION_H_
#define FABRIQUE_LIBS_SERVING_BATCH_EXECUTION_H_

// Runs one batch the dynamic batcher has formed: answers its expired requests without computing
// them, joins the others' rows, calls the model once, and gives each request its own rows back.

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "libs/core/clock.h"
#include "libs/serving/batch_request.h"
#include "libs/serving/tensor_batch.h"

namespace fabrique::serving {

// INTERNAL, naming the culprit, unless `outputs` holds exactly `rows` rows in every tensor (so
// that slicing it per request is safe).
absl::Status CheckOutputRows(const TensorBatch& outputs, int64_t rows);

// Computes `requests` (in submit order, as formed at `formed_at`) as one batch and calls every
// `done` exactly once, then clears `requests`:
// - a request whose deadline <= formed_at: DEADLINE_EXCEEDED, never computed;
// - the others: their rows of `compute`'s outputs (SliceRows), or its error, or INTERNAL when the
//   outputs do not have one row per input row. A compute that throws is answered INTERNAL.
// `scratch` is reused between batches so joining rows costs no allocation per request.
void ExecuteBatch(std::vector<QueuedRequest>* requests, absl::Time formed_at,
                  const BatchCompute& compute, const core::Clock& clock,
                  std::vector<const TensorBatch*>* scratch);

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_BATCH_EXECUTION_H_
