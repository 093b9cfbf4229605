// IntakeStore's reads for the monitor's windows: predictions and joined outcomes of one version
// over a time range, and the count of outcomes still waiting.

#include "libs/core/status_macros.h"
#include "libs/core/stored_proto.h"
#include "libs/kv/iterator.h"
#include "libs/monitoring/intake/intake_store.h"

namespace fabrique::monitoring {
namespace {

// A report or an evaluation reads a window's records once: kept in the block cache they would
// only evict what the intake and the windows read again, and grow the monitor's memory to the
// cache's size at its first evaluation.
kv::ReadOptions OneOffRead() {
  kv::ReadOptions read;
  read.fill_cache = false;
  return read;
}

}  // namespace

absl::Status IntakeStore::ScanPredictions(
    absl::string_view model, int64_t version, absl::Time from, absl::Time to,
    absl::FunctionRef<bool(const StoredPrediction&)> visit) const {
  const kv::KeyRange range = PredictionRange(model, version, TimeMicros(from), TimeMicros(to));
  absl::Status decode_status;
  RETURN_IF_ERROR(store_->Scan(
      predictions_, range,
      [&](absl::string_view, absl::string_view value) {
        absl::StatusOr<StoredPrediction> prediction = DecodePrediction(value);
        if (!prediction.ok()) {
          decode_status = prediction.status();
          return false;
        }
        return visit(*prediction);
      },
      OneOffRead()));
  return decode_status;
}

absl::Status IntakeStore::ScanPredictionTimes(absl::string_view model, int64_t version,
                                              absl::Time from, absl::Time to,
                                              absl::FunctionRef<void(absl::Time)> visit) const {
  const kv::KeyRange range = PredictionRange(model, version, TimeMicros(from), TimeMicros(to));
  const size_t prefix_size = PredictionVersionPrefix(model, version).size();
  absl::Status decode_status;
  RETURN_IF_ERROR(store_->Scan(
      predictions_, range,
      [&](absl::string_view key, absl::string_view) {
        absl::StatusOr<int64_t> time = PredictionTimeAfter(key, prefix_size);
        if (!time.ok()) {
          decode_status = time.status();
          return false;
        }
        visit(absl::FromUnixMicros(*time));
        return true;
      },
      OneOffRead()));
  return decode_status;
}

absl::Status IntakeStore::ScanJoined(absl::string_view model, int64_t version, absl::Time from,
                                     absl::Time to,
                                     absl::FunctionRef<bool(const JoinedPrediction&)> visit) const {
  const kv::KeyRange range = PredictionRange(model, version, TimeMicros(from), TimeMicros(to));
  // One snapshot for both families, so an outcome is never read without its prediction because
  // of a write in between.
  kv::Snapshot snapshot = store_->TakeSnapshot();
  kv::ReadOptions read = OneOffRead();
  read.snapshot = &snapshot;
  absl::Status inner;
  RETURN_IF_ERROR(store_->Scan(
      joined_, range,
      [&](absl::string_view key, absl::string_view value) {
        absl::StatusOr<std::string> prediction_value = store_->Get(predictions_, key, read);
        // Retention compacts the two families apart: an outcome may briefly outlive its
        // prediction. It is past the retention period either way, so it is skipped.
        if (absl::IsNotFound(prediction_value.status())) return true;
        JoinedPrediction joined;
        inner = [&]() -> absl::Status {
          RETURN_IF_ERROR(prediction_value.status());
          ASSIGN_OR_RETURN(joined.prediction, DecodePrediction(*prediction_value));
          ASSIGN_OR_RETURN(TimedValue timed, SplitTime(value));
          ASSIGN_OR_RETURN(joined.outcome,
                           core::ParseStored<v1::Outcome>(timed.body, "joined outcome"));
          return absl::OkStatus();
        }();
        return inner.ok() && visit(joined);
      },
      read));
  return inner;
}

absl::StatusOr<int64_t> IntakeStore::PendingOutcomeCount() const {
  const absl::Time now = clock_->Now();
  int64_t count = 0;
  absl::Status inner;
  RETURN_IF_ERROR(
      store_->Scan(pending_, kv::KeyRange::All(), [&](absl::string_view, absl::string_view value) {
        absl::StatusOr<TimedValue> timed = SplitTime(value);
        if (!timed.ok()) {
          inner = timed.status();
          return false;
        }
        if (StillPending(timed->time_micros, now)) ++count;
        return true;
      }));
  RETURN_IF_ERROR(inner);
  return count;
}

}  // namespace fabrique::monitoring
