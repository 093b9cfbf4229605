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
// The candidate is written as a merge operand (online_merge.h): RocksDB keeps the newest row
// when it reads or compacts, so the write path never reads the online view and takes no lock.
// Concurrent batches on the same entity cannot lose the newest value, whatever their order.
// The store must be opened with InstallOnlineMerge on the online family (Create checks).

// Rows are written as given: validation (expectations, retention window) is the catalog's job;
// pass its good-rows mask as `keep`.
//
// Thread-safe.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "fabrique/v1/features.pb.h"
#include "libs/features/storage/batch_keys.h"
#include "libs/features/storage/group_commit.h"
#include "libs/features/storage/row_cache.h"
#include "libs/features/storage/row_codec.h"
#include "libs/kv/store.h"

namespace fabrique::features {

// When a write counts as done.
enum class Durability {
  // Each batch is committed with an fsync of the write-ahead log (kv::SyncMode::kSync).
  kSync,
  // Each batch is committed without fsync, then a GroupCommitter fsync shared with concurrent
  // writers is awaited. Same guarantee as kSync, fewer fsyncs.
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
  // The write-ahead-log fsync of one group-commit round. Default: empty = store->SyncWal(). A
  // seam for tests, which wrap it to hold a round open while other writers queue behind it.
  std::function<absl::Status()> sync_wal;
  // The lookups' cache of online rows, kept coherent by every write (RowCacheWrite). Not owned;
  // must outlive the writer. Default: none.
  RowCache* online_cache = nullptr;
};

// What one Write did.
// Writes that must commit atomically with a batch's rows (the tiles of aggregation groups fed by
// the group): called with the batch's WriteBatch before it is committed; an error writes nothing.
using ExtraWrites = std::function<absl::Status(kv::WriteBatch*)>;

struct WriteResult {
  int64_t rows_written = 0;  // Rows written to history.
  // Entities whose newest row of the batch was offered to the online view (it replaces the
  // stored row there only if it is not older).
  int64_t online_offered = 0;
};

class FeatureWriter {
 public:
  using Options = FeatureWriterOptions;

  // INVALID_ARGUMENT without a store; NOT_FOUND when a family is missing from the store;
  // FAILED_PRECONDITION when the online family has no merge operator (see InstallOnlineMerge).
  static absl::StatusOr<std::unique_ptr<FeatureWriter>> Create(Options options);

  // Writes the rows of `rows` selected by `skip` (see RowMask) under `group`'s schema (its
  // latest version). Errors: those of RowBatchEncoder::Create,
  // INVALID_ARGUMENT for a `skip` of the wrong size or a stored row with an empty entity key,
  // DATA_LOSS for a corrupt stored online row, and the store's errors; on any error nothing of
  // the batch is written.
  absl::StatusOr<WriteResult> Write(const v1::FeatureGroup& group, const v1::RowBatch& rows,
                                    RowMask skip = {}, const ExtraWrites& extra = nullptr);

  // Like Write, but returns once the batch is in the write-ahead log, before any fsync: the
  // caller must call Sync() (and see it succeed) before telling anyone the rows are durable. For
  // a stream of batches acknowledged together, which then pays one fsync instead of one a batch.
  absl::StatusOr<WriteResult> WriteDeferred(const v1::FeatureGroup& group, const v1::RowBatch& rows,
                                            RowMask skip = {}, const ExtraWrites& extra = nullptr);

  // Like Write, but only merges the rows into the online view (newest wins), leaving history
  // alone: for bulk backfills whose history arrives by SST ingestion.
  absl::StatusOr<WriteResult> WriteOnline(const v1::FeatureGroup& group, const v1::RowBatch& rows,
                                          RowMask skip = {});

  // Commits `batch` (writes of other families, such as a bulk load's extra writes that could not
  // join its files) with the writer's durability. The store's errors.
  absl::Status Commit(kv::WriteBatch& batch);

  // Makes every write returned so far durable (one shared fsync).
  absl::Status Sync() { return committer_.Sync(); }

  const GroupCommitter& committer() const { return committer_; }

 private:
  FeatureWriter(Options options, kv::ColumnFamily history, kv::ColumnFamily online);

  absl::StatusOr<WriteResult> WriteImpl(const v1::FeatureGroup& group, const v1::RowBatch& rows,
                                        RowMask skip, bool with_history, bool defer_sync,
                                        const ExtraWrites& extra);
  absl::StatusOr<WriteResult> WriteKeys(const EncodedRows& encoded, const BatchKeys& keys,
                                        bool with_history, bool defer_sync,
                                        const ExtraWrites& extra);

  const Options options_;
  const kv::ColumnFamily history_;
  const kv::ColumnFamily online_;
  GroupCommitter committer_;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_FEATURE_WRITER_H_
