#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_BULK_LOADER_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_BULK_LOADER_H_

// BulkLoader: backfills history by RocksDB's external SST ingestion instead of write batches:
// rows are encoded, put in key order (sorted here if they are not already), written to one SST
// file with rocksdb::SstFileWriter and handed to IngestExternalFile, which links the file into
// the tree without a write-ahead log or memtable. The online view still follows newest-wins: the
// batch's newest row per entity is then merged through FeatureWriter::WriteOnline, which never
// overwrites a newer stored row.
//
// Each Load is atomic for history (the file is ingested whole or not at all) and then for the
// online view; a crash between the two leaves history loaded and online not yet merged, which a
// re-run of the same Load repairs (every step is idempotent). Re-loaded (entity, event time) rows
// replace the stored ones, as with ingest (last write wins). Memory: the batch given, plus one
// key per row; the caller bounds it by the batch size (e.g. 1M rows per Load).
//
// Thread-safe (each Load writes its own file).

#include <atomic>
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
  // Merges the online view. Not owned; must outlive the loader. Required.
  FeatureWriter* writer = nullptr;
  // Default: "history".
  std::string history_family = "history";
  // Directory for the SST files before ingestion, on the store's Env. Default (""): the store's
  // path + "/bulk".
  std::string temp_dir;
};

struct BulkLoadResult {
  int64_t rows_written = 0;  // History rows in the ingested file (duplicates counted once).
  WriteResult online;        // The online merge.
};

class BulkLoader {
 public:
  using Options = BulkLoaderOptions;

  static absl::StatusOr<std::unique_ptr<BulkLoader>> Create(Options options);

  // Loads the rows of `rows` not masked by `skip` (see RowMask). Errors as FeatureWriter::Write,
  // plus the store's ingestion errors. `extra` joins the online merge's commit, which follows the
  // file's ingestion (so a crash in between loses both, as it loses the online merge).
  absl::StatusOr<BulkLoadResult> Load(const v1::FeatureGroup& group, const v1::RowBatch& rows,
                                      RowMask skip = {}, const ExtraWrites& extra = nullptr);

 private:
  BulkLoader(Options options, kv::ColumnFamily history)
      : options_(std::move(options)), history_(history) {}

  const Options options_;
  const kv::ColumnFamily history_;
  std::atomic<int64_t> next_file_{0};
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_BULK_LOADER_H_
