#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_BULK_LOADER_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_BULK_LOADER_H_

// BulkLoader: backfills history by RocksDB's external SST ingestion instead of write batches:
// rows are encoded, put in key order (sorted here if they are not already) and written to SST
// files that RocksDB links into the tree without a write-ahead log or memtable (AtomicIngest):
//
//   history  every row;
//   online   the batch's newest row per entity, as a merge operand of the online family's
//            newest-row-wins operator (online_merge.h), so it never replaces a newer stored row
//            and the load never reads the online view;
//   others   the `extra` writes of the load (the tiles of the aggregation groups it feeds), when
//            they are Puts, Merges and Deletes of other families, one per key.
//
// Each Load is atomic: the files of every family are ingested in one step, so after a crash, an
// error or a refusal either all of the load is in the store (history, online view and extra
// writes) or none of it; a reader under a snapshot sees all or none of it (one without a snapshot
// may see one family's file before another's for the duration of the call). It is durable when
// Load returns. Extra writes that cannot be written as files (range deletions, two writes of one
// key, a write to history or online) are committed after the ingestion with the writer's
// durability instead; a crash in between loses them, and a re-run of the same Load repairs that
// (history and online are idempotent). Re-loaded (entity, event time) rows replace the stored
// ones, as with ingest (last write wins). Memory: the batch given, plus one key per row; the
// caller bounds it by the batch size (e.g. 1M rows per Load).
//
// The online family may use the hash-indexed memtable (family_tuning.h): ingestion flushes an
// overlapping memtable first, which reads it in key order (a sort of its entries), so loads
// between streaming writes pay that sort as the next flush would have.
//
// Thread-safe (each Load writes its own files).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fabrique/v1/features.pb.h"
#include "libs/features/storage/feature_writer.h"
#include "libs/kv/store.h"

namespace fabrique::features {

struct BulkLoaderOptions {
  // The store. Not owned; must outlive the loader. Required.
  kv::Store* store = nullptr;
  // Commits the extra writes that cannot join the files (see above), with its durability. Not
  // owned; must outlive the loader. Required.
  FeatureWriter* writer = nullptr;
  // Default: "history" and "online".
  std::string history_family = "history";
  std::string online_family = "online";
  // Directory for the SST files before ingestion, on the store's Env. Default (""): the store's
  // path + "/bulk".
  std::string temp_dir;
  // The lookups' cache of online rows, kept coherent by every load (RowCacheWrite). Not owned;
  // must outlive the loader. Default: none.
  RowCache* online_cache = nullptr;
};

struct BulkLoadResult {
  int64_t rows_written = 0;  // History rows in the ingested file (duplicates counted once).
  WriteResult online;        // The online merge: online_offered, one per entity of the batch.
};

class BulkLoader {
 public:
  using Options = BulkLoaderOptions;

  // INVALID_ARGUMENT without a store or writer; NOT_FOUND when a family is missing from the
  // store; FAILED_PRECONDITION when the online family has no merge operator (InstallOnlineMerge).
  static absl::StatusOr<std::unique_ptr<BulkLoader>> Create(Options options);

  // Loads the rows of `rows` not masked by `skip` (see RowMask). Errors as FeatureWriter::Write,
  // plus the store's ingestion errors; on any error nothing of the load is written. `extra` is
  // called once with a batch whose writes join the load (see above); its error writes nothing.
  absl::StatusOr<BulkLoadResult> Load(const v1::FeatureGroup& group, const v1::RowBatch& rows,
                                      RowMask skip = {}, const ExtraWrites& extra = nullptr);

 private:
  BulkLoader(Options options, kv::ColumnFamily history, kv::ColumnFamily online)
      : options_(std::move(options)), history_(history), online_(online) {}

  const Options options_;
  const kv::ColumnFamily history_;
  const kv::ColumnFamily online_;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_BULK_LOADER_H_
