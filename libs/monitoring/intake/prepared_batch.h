#ifndef FABRIQUE_LIBS_MONITORING_INTAKE_PREPARED_BATCH_H_
#define FABRIQUE_LIBS_MONITORING_INTAKE_PREPARED_BATCH_H_

// What an append of prediction records prepares before it writes (IntakeStore::Prepare): the
// store's own types, in a header of their own so that the store can keep spare ones between
// appends (IntakeStore::TakePreparedBatch).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "fabrique/v1/monitor.pb.h"
#include "libs/kv/write_batch.h"
#include "libs/monitoring/intake/intake_store.h"
#include "libs/monitoring/intake/prepared_entries.h"

namespace fabrique::monitoring {

struct IntakeStore::ArrivedPrediction {
  size_t row = 0;  // Its index in the batch.
  const v1::PredictionRecord* record = nullptr;
  absl::string_view key;  // Its key in the predictions family, in its PreparedBatch.
  int64_t time_micros = 0;

  absl::string_view prediction_id() const { return record->prediction_id(); }
  absl::string_view model() const { return record->model_version().model(); }
};

// What each row of a batch would add, prepared before the write lock: keys and encoded values
// need nothing from the store, so concurrent streams prepare their batches on several cores and
// the lock covers only the reads and the write. Each family's entries are put in key order
// (prepared_entries.h: a batch's entity keys come in no order at all).
struct IntakeStore::PreparedBatch {
  // Per row: why it cannot be stored ("" when it can), and the key of its id.
  std::vector<std::string> problems;
  std::vector<std::string> id_keys;
  // Per row that can be stored: what it adds (its key points into `records`), and whether its
  // version is unknown.
  std::vector<std::optional<ArrivedPrediction>> arrived;
  std::vector<bool> unknown;
  PreparedEntries records;
  PreparedEntries ids;
  PreparedEntries entities;
  // What the append writes: the entries of the rows accepted, and what else it adds.
  kv::WriteBatch batch;

  // Empties it for the next batch, keeping the buffers' memory.
  void Clear() {
    problems.clear();
    id_keys.clear();
    arrived.clear();
    unknown.clear();
    records.Clear();
    ids.Clear();
    entities.Clear();
    batch.Clear();
  }
  // Bytes of its largest buffers, roughly.
  size_t bytes() const {
    return records.capacity_bytes() + ids.capacity_bytes() + entities.capacity_bytes() +
           batch.byte_size();
  }
};

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_INTAKE_PREPARED_BATCH_H_
