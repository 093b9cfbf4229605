#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_FEATURE_WRITER_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_FEATURE_WRITER_H_

// FeatureWriter: the ingest write path. Each call commits one batch of rows of one group to the
// history and the online view in ONE kv::WriteBatch, so a reader (or a crash) sees all of the
// batch or none of it, and returns only once the batch is durable.
//
// Online view: newest event time wins. A row older than the stored online row never replaces
// it (rows may arrive out of order); a row with the same event time replaces it (last write
// wins), so re-sending the same (entity, event time) row is idempotent: history rewrites the
// same key with the same bytes and the online row ends up identical. Within one batch, the row
// with the newest time per entity is the candidate (the later row on ties), and rows with equal
// (entity, event time) are written once, the later one (see BatchKeys, which also puts the
// WriteBatch in key order for fast memtable inserts).
//
// Concurrency: the read-compare-write of online rows (MultiGet, compare event times, write) is
// serialized per (group, entity) by a fixed array of lock stripes, hashed on group and entity and
// always taken in ascending order (no deadlock). Two batches touching the same entity therefore
// cannot both read the old row and lose the newest value, while batches on disjoint entities
// proceed in parallel. Readers never take these locks. Under Durability::kGroupCommit the locks
// are released before the fsync: a later batch may see an unsynced online row, which is safe
// because its own fsync covers the earlier write (the log is ordered).
//
// Rows are written as given: validation (expectations, retention window) is the catalog's job;
// pass its good-rows mask as `keep`.
//
// Thread-safe.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "fabrique/v1/features.pb.h"
#include "libs/features/storage/batch_keys.h"
#include "libs/features/storage/group_commit.h"
#include "libs/features/storage/row_codec.h"
#include "libs/kv/store.h"

namespace fabrique::features {

// When a write counts as done.
enum class Durability {
  // Each batch is committed with an fsync of the write-ahead log (kv::SyncMode::kSync), under
  // the online locks.
  kSync,
  // Each batch is committed without fsync, the locks released, then a GroupCommitter fsync shared
  // with concurrent writers is awaited. Same guarantee as kSync, fewer fsyncs.
  kGroupCommit,
  // No fsync: survives a crash of the process (the log is in the OS page cache), not of the
  // machine. For tests and for bulk loads that sync once at the end.
  kProcessCrashOnly,
};

struct FeatureWriterOptions {
  // The store, opened with both families. Not owned; must outlive the writer. Required.
  kv::Store* store = nullptr;
  // Column family names. Default: "history" and "online".
  std::string history_family = "history";
  std::string online_family = "online";
  // Default: kGroupCommit.
  Durability durability = Durability::kGroupCommit;
  // Number of lock stripes serializing online read-compare-writes; more stripes, fewer false
  // conflicts between batches of different entities. Default: 256.
  int lock_stripes = 256;
};

// What one Write did.
struct WriteResult {
  int64_t rows_written = 0;    // Rows written to history.
  int64_t online_updated = 0;  // Online rows replaced or created.
  int64_t online_stale = 0;    // Entities whose stored online row was newer (left as is).
};

class FeatureWriter {
 public:
  using Options = FeatureWriterOptions;

  // INVALID_ARGUMENT without a store or with lock_stripes < 1; NOT_FOUND when a family is
  // missing from the store.
  static absl::StatusOr<std::unique_ptr<FeatureWriter>> Create(Options options);

  // Writes the rows of `rows` selected by `skip` (see RowMask) under `group`'s schema (its
  // latest version). Errors: those of RowBatchEncoder::Create,
  // INVALID_ARGUMENT for a `skip` of the wrong size or a stored row with an empty entity key,
  // DATA_LOSS for a corrupt stored online row, and the store's errors; on any error nothing of
  // the batch is written.
  absl::StatusOr<WriteResult> Write(const v1::FeatureGroup& group, const v1::RowBatch& rows,
                                    RowMask skip = {});

  // Like Write, but only merges the rows into the online view (newest wins), leaving history
  // alone: for bulk backfills whose history arrives by SST ingestion.
  absl::StatusOr<WriteResult> WriteOnline(const v1::FeatureGroup& group, const v1::RowBatch& rows,
                                          RowMask skip = {});

  // WriteOnline for callers that already hold the batch's encoder and keys (BulkLoader).
  absl::StatusOr<WriteResult> MergeOnline(const RowSchema& schema, const RowBatchEncoder& encoder,
                                          const v1::RowBatch& rows, const BatchKeys& keys);

  // Makes every write returned so far durable (one shared fsync).
  absl::Status Sync() { return committer_.Sync(); }

  const GroupCommitter& committer() const { return committer_; }

 private:
  FeatureWriter(Options options, kv::ColumnFamily history, kv::ColumnFamily online);

  absl::StatusOr<WriteResult> WriteImpl(const v1::FeatureGroup& group, const v1::RowBatch& rows,
                                        RowMask skip, bool with_history);
  absl::StatusOr<WriteResult> WriteKeys(const RowSchema& schema, const RowBatchEncoder& encoder,
                                        const v1::RowBatch& rows, const BatchKeys& keys,
                                        bool with_history);
  // Adds the online puts of `candidates` (positions in `keys` of each entity's newest row) to
  // `batch` where they are not older than the stored row, and commits the batch, all under the
  // entities' stripe locks.
  absl::Status CommitWithOnline(const RowSchema& schema, const RowBatchEncoder& encoder,
                                const v1::RowBatch& rows, const BatchKeys& keys,
                                const std::vector<size_t>& candidates, kv::WriteBatch* batch,
                                WriteResult* result);
  size_t StripeOf(absl::string_view group, absl::string_view entity) const;

  const Options options_;
  const kv::ColumnFamily history_;
  const kv::ColumnFamily online_;
  GroupCommitter committer_;
  std::unique_ptr<absl::Mutex[]> stripes_;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_FEATURE_WRITER_H_
