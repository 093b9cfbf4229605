#include "libs/features/storage/bulk_loader.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/features/storage/atomic_ingest.h"
#include "libs/features/storage/batch_keys.h"
#include "libs/features/storage/row_codec.h"
#include "libs/features/storage/write_batch_files.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"

namespace fabrique::features {
namespace {

// How many keys ahead of the one written Load fetches rows into the cache.
constexpr size_t kPrefetchAhead = 8;

}  // namespace

absl::StatusOr<std::unique_ptr<BulkLoader>> BulkLoader::Create(Options options) {
  if (options.store == nullptr || options.writer == nullptr) {
    return absl::InvalidArgumentError("BulkLoaderOptions.store and .writer are required");
  }
  if (options.temp_dir.empty()) options.temp_dir = options.store->path() + "/bulk";
  ASSIGN_OR_RETURN(kv::ColumnFamily history, options.store->Family(options.history_family));
  ASSIGN_OR_RETURN(kv::ColumnFamily online, options.store->Family(options.online_family));
  if (options.store->raw_db()->GetOptions(online.handle()).merge_operator == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("the online family '", options.online_family,
                     "' has no merge operator: open the store with InstallOnlineMerge"));
  }
  return std::unique_ptr<BulkLoader>(new BulkLoader(std::move(options), history, online));
}

absl::StatusOr<BulkLoadResult> BulkLoader::Load(const v1::FeatureGroup& group,
                                                const v1::RowBatch& rows, RowMask skip,
                                                const ExtraWrites& extra) {
  ASSIGN_OR_RETURN(RowSchema schema, RowSchema::FromFeatureGroup(group));
  ASSIGN_OR_RETURN(RowBatchEncoder encoder, RowBatchEncoder::Create(schema, rows));
  ASSIGN_OR_RETURN(BatchKeys keys, BatchKeys::Build(schema.group(), rows, skip));
  BulkLoadResult result;
  if (keys.size() == 0) return result;

  ASSIGN_OR_RETURN(std::unique_ptr<AtomicIngest> ingest,
                   AtomicIngest::Create(options_.store, options_.temp_dir,
                                        absl::StrCat("bulk load of group '", schema.group(), "'")));
  ASSIGN_OR_RETURN(AtomicIngest::File * history, ingest->FileOf(history_));
  ASSIGN_OR_RETURN(AtomicIngest::File * online, ingest->FileOf(online_));
  // Encoded once, in row order, for both files.
  EncodedRows encoded;
  encoder.EncodeAll(skip, &encoded);
  RowCacheWrite cached(options_.online_cache);
  // In key order, so online keys come in order too.
  for (size_t i = 0; i < keys.size(); ++i) {
    // Rows are read in key order from where they sit in row order (the keys are laid out in
    // key order): scattered input makes each a cache miss, paid by the copy into the file
    // unless it is fetched a few keys ahead.
    if (i + kPrefetchAhead < keys.size()) {
      __builtin_prefetch(encoded.row(keys.row(i + kPrefetchAhead)).data());
    }
    if (keys.overridden(i)) continue;  // Equal keys: only the last in input order is written.
    const absl::string_view value = encoded.row(keys.row(i));
    RETURN_IF_ERROR(history->Put(keys.key(i), value));
    ++result.rows_written;
    if (keys.online_candidate(i)) {
      RETURN_IF_ERROR(online->Merge(keys.entity_key(i), value));
      cached.Add(keys.entity_key(i));
      ++result.online.online_offered;
    }
  }
  kv::WriteBatch extra_batch;
  bool extra_in_files = true;
  if (extra) {
    RETURN_IF_ERROR(extra(&extra_batch));
    ASSIGN_OR_RETURN(extra_in_files,
                     AddWriteBatchToIngest(*options_.store, extra_batch, ingest.get()));
  }
  cached.Begin();
  RETURN_IF_ERROR(ingest->Ingest());
  if (!extra_in_files) RETURN_IF_ERROR(options_.writer->Commit(extra_batch));
  return result;
}

}  // namespace fabrique::features
