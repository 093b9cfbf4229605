#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_BATCH_KEYS_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_BATCH_KEYS_H_

// BatchKeys: the history keys of the rows of a RowBatch that are to be stored, in key order
// (entity ascending, then newest first). Both write paths use it:
//   * ingest writes its WriteBatch in key order, which makes RocksDB's memtable inserts several
//     times faster than random order (each skiplist insert starts from the previous one's
//     position), and finds each entity's newest row of the batch as the first key of its run;
//   * bulk backfill needs key order for SstFileWriter.
// Rows with equal keys (the same entity and event time) keep their input order, so the last of
// them is the one written: last write wins, as a WriteBatch applied in input order would do.
// Once sorted, the keys themselves are laid out in key order, so the writers' passes over them
// read memory in order instead of one cache miss per key.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "fabrique/v1/features.pb.h"
#include "libs/features/storage/storage_keys.h"

namespace fabrique::features {

// Which rows of a batch to store: empty = every row; else one entry per row, and row i is stored
// when skip[i] == 0. The catalog's ValidationResult::row_reasons (0 = a good row) is such a mask
// as it stands, so validated batches are written without copying the mask.
using RowMask = absl::Span<const uint8_t>;

class BatchKeys {
 public:
  // INVALID_ARGUMENT for a mask of the wrong size, or a stored row with an empty entity key.
  static absl::StatusOr<BatchKeys> Build(absl::string_view group, const v1::RowBatch& rows,
                                         RowMask skip);

  // Number of stored rows.
  size_t size() const { return rows_.size(); }
  // The i-th key in key order, and the batch row it comes from.
  absl::string_view key(size_t i) const { return Key(i); }
  int row(size_t i) const { return rows_[i]; }
  // The i-th key without its event time: the entity's online key.
  absl::string_view entity_key(size_t i) const {
    const absl::string_view k = key(i);
    return k.substr(0, k.size() - kHistoryTimeBytes);
  }
  // True when the next key is equal (a later row of the batch overrides this one).
  bool overridden(size_t i) const { return i + 1 < rows_.size() && key(i + 1) == key(i); }
  // True when the i-th key is its entity's online candidate: the entity's newest row in the
  // batch, the first key of the entity that is written (equal keys before it are overridden).
  bool online_candidate(size_t i) const {
    if (overridden(i)) return false;
    size_t first = i;  // The first of the equal keys ending at i.
    while (first > 0 && key(first - 1) == key(i)) --first;
    return first == 0 || entity_key(first - 1) != entity_key(i);
  }

 private:
  BatchKeys() = default;
  absl::string_view Key(uint32_t k) const {
    return absl::string_view(bytes_.data() + offsets_[k], offsets_[k + 1] - offsets_[k]);
  }
  void Sort();
  // The key indexes in key order, when the keys are in (entity, strictly ascending time) order;
  // empty otherwise.
  std::vector<uint32_t> ReverseAscendingRuns() const;
  std::vector<uint32_t> SortedOrder() const;
  // Lays the keys out in `order` (key indexes).
  void Permute(const std::vector<uint32_t>& order);

  std::string bytes_;              // Keys, concatenated (in key order once sorted).
  std::vector<uint32_t> offsets_;  // Where each key starts, plus the end.
  std::vector<int> rows_;          // Batch row of each key.
  size_t prefix_bytes_ = 0;        // The group prefix every key starts with.
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_BATCH_KEYS_H_
