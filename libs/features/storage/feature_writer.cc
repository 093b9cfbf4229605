#include "libs/features/storage/feature_writer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/features/storage/batch_keys.h"
#include "libs/features/storage/storage_keys.h"
#include "rocksdb/db.h"

namespace fabrique::features {

absl::StatusOr<std::unique_ptr<FeatureWriter>> FeatureWriter::Create(Options options) {
  if (options.store == nullptr) {
    return absl::InvalidArgumentError("FeatureWriterOptions.store is required");
  }
  ASSIGN_OR_RETURN(kv::ColumnFamily history, options.store->Family(options.history_family));
  ASSIGN_OR_RETURN(kv::ColumnFamily online, options.store->Family(options.online_family));
  if (options.store->raw_db()->GetOptions(online.handle()).merge_operator == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("the online family '", options.online_family,
                     "' has no merge operator: open the store with InstallOnlineMerge "
                     "(FeatureStore::ConfigureStore does)"));
  }
  return std::unique_ptr<FeatureWriter>(new FeatureWriter(std::move(options), history, online));
}

FeatureWriter::FeatureWriter(Options options, kv::ColumnFamily history, kv::ColumnFamily online)
    : options_(std::move(options)),
      history_(history),
      online_(online),
      committer_(options_.sync_wal ? options_.sync_wal
                                   : [store = options_.store] { return store->SyncWal(); }) {}

absl::StatusOr<WriteResult> FeatureWriter::Write(const v1::FeatureGroup& group,
                                                 const v1::RowBatch& rows, RowMask skip,
                                                 const ExtraWrites& extra) {
  return WriteImpl(group, rows, skip, /*with_history=*/true, /*defer_sync=*/false, extra);
}

absl::StatusOr<WriteResult> FeatureWriter::WriteDeferred(const v1::FeatureGroup& group,
                                                         const v1::RowBatch& rows, RowMask skip,
                                                         const ExtraWrites& extra) {
  return WriteImpl(group, rows, skip, /*with_history=*/true, /*defer_sync=*/true, extra);
}

absl::StatusOr<WriteResult> FeatureWriter::WriteOnline(const v1::FeatureGroup& group,
                                                       const v1::RowBatch& rows, RowMask skip) {
  return WriteImpl(group, rows, skip, /*with_history=*/false, /*defer_sync=*/false, nullptr);
}

absl::StatusOr<WriteResult> FeatureWriter::WriteImpl(const v1::FeatureGroup& group,
                                                     const v1::RowBatch& rows, RowMask skip,
                                                     bool with_history, bool defer_sync,
                                                     const ExtraWrites& extra) {
  ASSIGN_OR_RETURN(RowSchema schema, RowSchema::FromFeatureGroup(group));
  ASSIGN_OR_RETURN(RowBatchEncoder encoder, RowBatchEncoder::Create(schema, rows));
  ASSIGN_OR_RETURN(BatchKeys keys, BatchKeys::Build(schema.group(), rows, skip));
  EncodedRows encoded;
  encoder.EncodeAll(skip, &encoded);
  return WriteKeys(encoded, keys, with_history, defer_sync, extra);
}

absl::Status FeatureWriter::Commit(kv::WriteBatch& batch) {
  if (batch.empty()) return absl::OkStatus();
  const bool sync = options_.durability == Durability::kSync;
  RETURN_IF_ERROR(options_.store->Write(batch, sync ? kv::SyncMode::kSync : kv::SyncMode::kNoSync));
  if (options_.durability == Durability::kGroupCommit) RETURN_IF_ERROR(committer_.Sync());
  return absl::OkStatus();
}

absl::StatusOr<WriteResult> FeatureWriter::WriteKeys(const EncodedRows& encoded,
                                                     const BatchKeys& keys, bool with_history,
                                                     bool defer_sync, const ExtraWrites& extra) {
  WriteResult result;
  if (keys.size() == 0) return result;
  kv::WriteBatch batch;
  RowCacheWrite cached(options_.online_cache);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys.overridden(i)) continue;
    const bool candidate = keys.online_candidate(i);
    if (!with_history && !candidate) continue;
    const absl::string_view value = encoded.row(keys.row(i));
    if (with_history) {
      batch.Put(history_, keys.key(i), value);
      ++result.rows_written;
    }
    if (candidate) {
      batch.Merge(online_, keys.entity_key(i), value);
      cached.Add(keys.entity_key(i));
      ++result.online_offered;
    }
  }
  if (extra) RETURN_IF_ERROR(extra(&batch));
  cached.Begin();
  const kv::SyncMode sync = options_.durability == Durability::kSync && !defer_sync
                                ? kv::SyncMode::kSync
                                : kv::SyncMode::kNoSync;
  RETURN_IF_ERROR(options_.store->Write(batch, sync));
  if (options_.durability == Durability::kGroupCommit && !defer_sync) {
    RETURN_IF_ERROR(committer_.Sync());
  }
  return result;
}

}  // namespace fabrique::features
