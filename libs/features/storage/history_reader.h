#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_HISTORY_READER_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_HISTORY_READER_H_

// HistoryReader: streams the stored rows of one group, for some entities or all, in a time
// range, in chunks of ReadHistoryResponse ordered by entity key then ascending event time.
//
// History keys run newest first within an entity, so each entity is read backwards from its
// oldest row in range (one SeekForPrev, then Prev); a full scan hops from entity to entity with
// one Seek each. The whole read uses one snapshot, so chunks never mix two states, and memory
// holds one chunk at a time whatever the history size.
//
// Thread-safe.

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fabrique/v1/features.pb.h"
#include "libs/kv/store.h"

namespace fabrique::features {

struct HistoryQuery {
  // Features to return, in this order; empty = every feature of the group, in storage order.
  std::vector<std::string> features;
  // Entities to read; empty = all. Read in sorted order, duplicates once.
  std::vector<std::string> entity_keys;
  // Event times in [start_micros, end_micros); the defaults leave the range open (a row at
  // exactly INT64_MAX microseconds is then excluded).
  int64_t start_micros = std::numeric_limits<int64_t>::min();
  int64_t end_micros = std::numeric_limits<int64_t>::max();
  // Rows per chunk; 0 = 4096.
  int chunk_rows = 0;
  // Stop after this many rows; 0 = no limit.
  int64_t limit = 0;
};

struct HistoryReaderOptions {
  // The store. Not owned; must outlive the reader. Required.
  kv::Store* store = nullptr;
  // Default: "history".
  std::string history_family = "history";
  // Whether blocks read are kept in the block cache; off so that large scans do not evict the
  // online hot set. Default: false.
  bool fill_cache = false;
};

class HistoryReader {
 public:
  using Options = HistoryReaderOptions;

  // INVALID_ARGUMENT without a store; NOT_FOUND when the family is missing.
  static absl::StatusOr<std::unique_ptr<HistoryReader>> Create(Options options);

  // Calls `on_chunk` with each chunk (the callee may move from it); a non-OK status from it
  // stops the read and is returned. No call when no row matches. Errors: NOT_FOUND for an
  // unknown feature, INVALID_ARGUMENT for a negative chunk_rows or limit or start > end,
  // DATA_LOSS for a corrupt row.
  absl::Status Read(const v1::FeatureGroup& group, const HistoryQuery& query,
                    absl::FunctionRef<absl::Status(v1::ReadHistoryResponse*)> on_chunk) const;

 private:
  HistoryReader(Options options, kv::ColumnFamily history)
      : options_(std::move(options)), history_(history) {}

  const Options options_;
  const kv::ColumnFamily history_;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_HISTORY_READER_H_
