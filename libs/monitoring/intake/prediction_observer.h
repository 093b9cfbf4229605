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

  // Called with every record a write will store, before the write: adds to `batch` what must be
  // durable with them, and returns a token for the Committed or Abandoned call that follows (0
  // when it added nothing). Writes of several batches run at once, so calls of different writes
  // may interleave, and commits may come in another order than stagings.
  virtual uint64_t Staged(absl::Span<const AcceptedPrediction> accepted, kv::WriteBatch& batch) = 0;

  // Called once the write that Staged returned `token` for is applied (readable). Its fsync may
  // come after: a crash before it loses the records and what Staged added together.
  virtual void Committed(uint64_t token, absl::Span<const AcceptedPrediction> accepted) = 0;

  // Called instead of Committed when that write failed: nothing Staged added was stored.
  virtual void Abandoned(uint64_t token) = 0;
};

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_INTAKE_PREDICTION_OBSERVER_H_
