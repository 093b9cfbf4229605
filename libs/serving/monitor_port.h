#ifndef FABRIQUE_LIBS_SERVING_MONITOR_PORT_H_
#define FABRIQUE_LIBS_SERVING_MONITOR_PORT_H_

// How serving reaches the monitor to hand it the prediction log, keeping gRPC out of this
// library: the inference binary implements it with libs/client, tests with an in-memory fake.

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "fabrique/v1/monitor.pb.h"

namespace fabrique::serving {

class MonitorPort {
 public:
  virtual ~MonitorPort() = default;

  // Sends one batch of prediction records (Monitor.LogPredictions), one attempt, answering by
  // `deadline`. The PredictionLogger owns the retries: it sends a failed batch again with the
  // same batch_id (the idempotency key; the monitor counts records it already stored as
  // duplicates), so an implementation must not retry on its own. It must honour `deadline`:
  // PredictionLogger::Stop waits for a send in flight.
  // Errors: UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED or ABORTED (tried again later);
  // anything else (e.g. PERMISSION_DENIED, INVALID_ARGUMENT) ends the batch's tries.
  virtual absl::StatusOr<v1::LogPredictionsResponse> Send(const v1::LogPredictionsRequest& request,
                                                          absl::Time deadline) = 0;
};

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_MONITOR_PORT_H_
