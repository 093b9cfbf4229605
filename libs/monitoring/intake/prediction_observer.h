#ifndef FABRIQUE_LIBS_MONITORING_INTAKE_PREDICTION_OBSERVER_H_
#define FABRIQUE_LIBS_MONITORING_INTAKE_PREDICTION_OBSERVER_H_

// What the intake tells another part of the monitor about the prediction records it accepts, so
// that a summary of them (the live windows, libs/monitoring/windows) commits in the same RocksDB
// write batch as the records and sees exactly the records stored: never a refused row, a
// duplicate or a replayed batch, and never a record whose write failed.

#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "fabrique/v1/monitor.pb.h"
#include "libs/kv/write_batch.h"

namespace fabrique::monitoring {

// A record the intake stores: the record, and its key in the predictions family.
struct AcceptedPrediction {
  const v1::PredictionRecord* record = nullptr;
  absl::string_view key;
};

class PredictionObserver {
 public:
  virtual ~PredictionObserver() = default;

  // Called under the intake's write lock with every record a write will store, before the write:
  // adds to `batch` what must be durable with them. Calls are in write order.
  virtual void Staged(absl::Span<const AcceptedPrediction> accepted, kv::WriteBatch& batch) = 0;

  // Called under the intake's write lock once that write is durable; not called when it failed.
  virtual void Committed(absl::Span<const AcceptedPrediction> accepted) = 0;
};

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_INTAKE_PREDICTION_OBSERVER_H_
