#include "libs/features/storage/bulk_loader.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/features/storage/batch_keys.h"
#include "libs/features/storage/row_codec.h"
#include "libs/features/storage/storage_keys.h"
#include "libs/kv/rocksdb_status.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/options.h"
#include "rocksdb/sst_file_writer.h"

namespace fabrique::features {
absl::StatusOr<std::unique_ptr<BulkLoader>> BulkLoader::Create(Options options) {
  if (options.store == nullptr || options.writer == nullptr) {
    return absl::InvalidArgumentError("BulkLoaderOptions.store and .writer are required");
  }
  if (options.temp_dir.empty()) options.temp_dir = options.store->path() + "/bulk";
  ASSIGN_OR_RETURN(kv::ColumnFamily history, options.store->Family(options.history_family));
  return std::unique_ptr<BulkLoader>(new BulkLoader(std::move(options), history));
}

absl::StatusOr<BulkLoadResult> BulkLoader::Load(const v1::FeatureGroup& group,
                                                const v1::RowBatch& rows, RowMask skip,
                                                const ExtraWrites& extra) {
  ASSIGN_OR_RETURN(RowSchema schema, RowSchema::FromFeatureGroup(group));
  ASSIGN_OR_RETURN(RowBatchEncoder encoder, RowBatchEncoder::Create(schema, rows));
  ASSIGN_OR_RETURN(BatchKeys keys, BatchKeys::Build(schema.group(), rows, skip));
  BulkLoadResult result;
  if (keys.size() == 0) return result;

  rocksdb::DB* db = options_.store->raw_db();
  if (db == nullptr) return absl::FailedPreconditionError("bulk load into a closed store");
  rocksdb::Env* env = db->GetEnv();
  const std::string context = absl::StrCat("bulk load of group '", schema.group(), "'");
  RETURN_IF_ERROR(kv::FromRocksDbStatus(env->CreateDirIfMissing(options_.temp_dir), context));
  const std::string file =
      absl::StrCat(options_.temp_dir, "/", env->NowMicros(), "-", next_file_.fetch_add(1), ".sst");
  const rocksdb::Options family_options = db->GetOptions(history_.handle());
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), family_options, history_.handle());
  RETURN_IF_ERROR(kv::FromRocksDbStatus(writer.Open(file), context));
  std::string value;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys.overridden(i)) continue;  // Equal keys: only the last in input order is written.
    encoder.EncodeRow(keys.row(i), &value);
    const absl::string_view key = keys.key(i);
    RETURN_IF_ERROR(kv::FromRocksDbStatus(
        writer.Put(rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value)), context));
    ++result.rows_written;
  }
  RETURN_IF_ERROR(kv::FromRocksDbStatus(writer.Finish(), context));
  rocksdb::IngestExternalFileOptions ingest;
  ingest.move_files = true;  // Link the file in; RocksDB copies when linking is not possible.
  absl::Status ingested =
      kv::FromRocksDbStatus(db->IngestExternalFile(history_.handle(), {file}, ingest), context);
  env->DeleteFile(file).PermitUncheckedError();  // Gone already when moved.
  RETURN_IF_ERROR(ingested);
  ASSIGN_OR_RETURN(result.online, options_.writer->MergeOnline(schema, encoder, rows, keys, extra));
  return result;
}

}  // namespace fabrique::features
