#include "libs/features/storage/bulk_loader.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/features/storage/row_codec.h"
#include "libs/features/storage/storage_keys.h"
#include "libs/kv/rocksdb_status.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/options.h"
#include "rocksdb/sst_file_writer.h"

namespace fabrique::features {
namespace {

// The history keys of the kept rows, concatenated, with the row each came from.
struct SortedKeys {
  std::string bytes;
  std::vector<uint32_t> offsets;  // n + 1 entries.
  std::vector<int> rows;          // Row of the i-th key.
  std::vector<uint32_t> order;    // Key indexes in key order.

  absl::string_view Key(uint32_t i) const {
    return absl::string_view(bytes.data() + offsets[i], offsets[i + 1] - offsets[i]);
  }
};

// When the keys are in (entity, ascending time) order without duplicates, puts them in key order
// (descending time within each entity) by reversing each entity's run, and returns true.
bool ReverseAscendingRuns(SortedKeys* keys) {
  const size_t n = keys->order.size();
  auto entity = [keys](uint32_t i) {
    const absl::string_view key = keys->Key(i);
    return key.substr(0, key.size() - kHistoryTimeBytes);
  };
  for (size_t i = 1; i < n; ++i) {
    const absl::string_view previous = entity(i - 1), current = entity(i);
    if (previous > current) return false;
    if (previous == current &&
        HistoryKeyEventTime(keys->Key(i - 1)) >= HistoryKeyEventTime(keys->Key(i))) {
      return false;
    }
  }
  size_t begin = 0;
  for (size_t i = 1; i <= n; ++i) {
    if (i == n || entity(i) != entity(begin)) {
      std::reverse(keys->order.begin() + begin, keys->order.begin() + i);
      begin = i;
    }
  }
  return true;
}

absl::StatusOr<SortedKeys> BuildKeys(const RowSchema& schema, const v1::RowBatch& rows,
                                     const std::vector<bool>& keep) {
  SortedKeys keys;
  const std::string prefix = GroupKeyPrefix(schema.group());
  const int n = rows.entity_keys_size();
  keys.offsets.reserve(n + 1);
  keys.rows.reserve(n);
  for (int i = 0; i < n; ++i) {
    if (!keep.empty() && !keep[i]) continue;
    if (rows.entity_keys(i).empty()) {
      return absl::InvalidArgumentError(absl::StrCat("row ", i, " has an empty entity key"));
    }
    keys.offsets.push_back(static_cast<uint32_t>(keys.bytes.size()));
    keys.bytes.append(prefix);
    AppendEntity(&keys.bytes, rows.entity_keys(i));
    AppendEventTime(&keys.bytes, rows.event_time_unix_micros(i));
    keys.rows.push_back(i);
  }
  keys.offsets.push_back(static_cast<uint32_t>(keys.bytes.size()));
  keys.order.resize(keys.rows.size());
  std::iota(keys.order.begin(), keys.order.end(), 0u);
  // Rows often come sorted already (by the key, or by entity then ascending time, which is
  // the key order within each entity reversed); a stable sort keeps duplicates in input order
  // so the last one wins below.
  bool sorted = true;
  for (size_t i = 1; i < keys.order.size() && sorted; ++i) sorted = keys.Key(i - 1) <= keys.Key(i);
  if (!sorted && ReverseAscendingRuns(&keys)) sorted = true;
  if (!sorted) {
    std::stable_sort(keys.order.begin(), keys.order.end(),
                     [&keys](uint32_t a, uint32_t b) { return keys.Key(a) < keys.Key(b); });
  }
  return keys;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BulkLoader>> BulkLoader::Create(Options options) {
  if (options.store == nullptr || options.writer == nullptr) {
    return absl::InvalidArgumentError("BulkLoaderOptions.store and .writer are required");
  }
  if (options.temp_dir.empty()) options.temp_dir = options.store->path() + "/bulk";
  ASSIGN_OR_RETURN(kv::ColumnFamily history, options.store->Family(options.history_family));
  return std::unique_ptr<BulkLoader>(new BulkLoader(std::move(options), history));
}

absl::StatusOr<BulkLoadResult> BulkLoader::Load(const v1::FeatureGroup& group,
                                                const v1::RowBatch& rows,
                                                const std::vector<bool>& keep) {
  ASSIGN_OR_RETURN(RowSchema schema, RowSchema::FromFeatureGroup(group));
  ASSIGN_OR_RETURN(RowBatchEncoder encoder, RowBatchEncoder::Create(schema, rows));
  if (!keep.empty() && keep.size() != static_cast<size_t>(encoder.rows())) {
    return absl::InvalidArgumentError(
        absl::StrCat("row mask has ", keep.size(), " flags for ", encoder.rows(), " rows"));
  }
  ASSIGN_OR_RETURN(SortedKeys keys, BuildKeys(schema, rows, keep));
  BulkLoadResult result;
  if (keys.rows.empty()) return result;

  rocksdb::DB* db = options_.store->raw_db();
  if (db == nullptr) return absl::FailedPreconditionError("bulk load into a closed store");
  rocksdb::Env* env = db->GetEnv();
  const std::string context = absl::StrCat("bulk load of group '", schema.group(), "'");
  RETURN_IF_ERROR(kv::FromRocksDbStatus(env->CreateDirIfMissing(options_.temp_dir), context));
  const std::string file = absl::StrCat(options_.temp_dir, "/", env->NowMicros(), "-",
                                        next_file_.fetch_add(1), ".sst");
  rocksdb::Options family_options(db->GetDBOptions(), db->GetOptions(history_.handle()));
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), family_options, history_.handle());
  RETURN_IF_ERROR(kv::FromRocksDbStatus(writer.Open(file), context));
  std::string value;
  const size_t n = keys.order.size();
  for (size_t i = 0; i < n; ++i) {
    const uint32_t k = keys.order[i];
    // Equal keys: only the last (in input order) is written.
    if (i + 1 < n && keys.Key(keys.order[i + 1]) == keys.Key(k)) continue;
    encoder.EncodeRow(keys.rows[k], &value);
    const absl::string_view key = keys.Key(k);
    RETURN_IF_ERROR(kv::FromRocksDbStatus(
        writer.Put(rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value)), context));
    ++result.rows_written;
  }
  RETURN_IF_ERROR(kv::FromRocksDbStatus(writer.Finish(), context));
  rocksdb::IngestExternalFileOptions ingest;
  ingest.move_files = true;  // Link the file in; RocksDB copies when linking is not possible.
  absl::Status ingested = kv::FromRocksDbStatus(
      db->IngestExternalFile(history_.handle(), {file}, ingest), context);
  env->DeleteFile(file).PermitUncheckedError();  // Gone already when moved.
  RETURN_IF_ERROR(ingested);
  ASSIGN_OR_RETURN(result.online, options_.writer->WriteOnline(group, rows, keep));
  return result;
}

}  // namespace fabrique::features
