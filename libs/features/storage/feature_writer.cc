#include "libs/features/storage/feature_writer.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/features/storage/storage_keys.h"

namespace fabrique::features {
namespace {

// Holds a set of stripe mutexes, locked in ascending order, until destroyed.
class StripeLocks {
 public:
  StripeLocks(absl::Mutex* stripes, const std::vector<bool>& wanted) : stripes_(stripes) {
    for (size_t i = 0; i < wanted.size(); ++i) {
      if (!wanted[i]) continue;
      stripes_[i].Lock();
      held_.push_back(i);
    }
  }
  StripeLocks(const StripeLocks&) = delete;
  StripeLocks& operator=(const StripeLocks&) = delete;
  ~StripeLocks() { Release(); }

  void Release() {
    for (auto it = held_.rbegin(); it != held_.rend(); ++it) stripes_[*it].Unlock();
    held_.clear();
  }

 private:
  absl::Mutex* stripes_;
  std::vector<size_t> held_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<FeatureWriter>> FeatureWriter::Create(Options options) {
  if (options.store == nullptr) {
    return absl::InvalidArgumentError("FeatureWriterOptions.store is required");
  }
  if (options.lock_stripes < 1) {
    return absl::InvalidArgumentError("FeatureWriterOptions.lock_stripes must be >= 1");
  }
  ASSIGN_OR_RETURN(kv::ColumnFamily history, options.store->Family(options.history_family));
  ASSIGN_OR_RETURN(kv::ColumnFamily online, options.store->Family(options.online_family));
  return std::unique_ptr<FeatureWriter>(new FeatureWriter(std::move(options), history, online));
}

FeatureWriter::FeatureWriter(Options options, kv::ColumnFamily history, kv::ColumnFamily online)
    : options_(std::move(options)),
      history_(history),
      online_(online),
      committer_(options_.store),
      stripes_(new absl::Mutex[options_.lock_stripes]) {}

absl::StatusOr<WriteResult> FeatureWriter::Write(const v1::FeatureGroup& group,
                                                 const v1::RowBatch& rows,
                                                 const std::vector<bool>& keep) {
  return WriteImpl(group, rows, keep, /*with_history=*/true);
}

absl::StatusOr<WriteResult> FeatureWriter::WriteOnline(const v1::FeatureGroup& group,
                                                       const v1::RowBatch& rows,
                                                       const std::vector<bool>& keep) {
  return WriteImpl(group, rows, keep, /*with_history=*/false);
}

size_t FeatureWriter::StripeOf(absl::string_view group, absl::string_view entity) const {
  const size_t hash = absl::Hash<std::pair<absl::string_view, absl::string_view>>()(
      std::make_pair(group, entity));
  return hash % static_cast<size_t>(options_.lock_stripes);
}

absl::StatusOr<WriteResult> FeatureWriter::WriteImpl(const v1::FeatureGroup& group,
                                                     const v1::RowBatch& rows,
                                                     const std::vector<bool>& keep,
                                                     bool with_history) {
  ASSIGN_OR_RETURN(RowSchema schema, RowSchema::FromFeatureGroup(group));
  ASSIGN_OR_RETURN(RowBatchEncoder encoder, RowBatchEncoder::Create(schema, rows));
  const int n = encoder.rows();
  if (!keep.empty() && keep.size() != static_cast<size_t>(n)) {
    return absl::InvalidArgumentError(
        absl::StrCat("row mask has ", keep.size(), " flags for ", n, " rows"));
  }
  WriteResult result;
  kv::WriteBatch batch;
  std::string key = GroupKeyPrefix(schema.group());
  const size_t prefix_size = key.size();
  std::string value;
  // Newest row of the batch per entity: the online candidates. Views into `rows`.
  absl::flat_hash_map<absl::string_view, int> newest;
  newest.reserve(n);
  for (int i = 0; i < n; ++i) {
    if (!keep.empty() && !keep[i]) continue;
    const std::string& entity = rows.entity_keys(i);
    if (entity.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("row ", i, " has an empty entity key"));
    }
    const int64_t time = rows.event_time_unix_micros(i);
    if (with_history) {
      key.resize(prefix_size);
      AppendEntity(&key, entity);
      AppendEventTime(&key, time);
      encoder.EncodeRow(i, &value);
      batch.Put(history_, key, value);
      ++result.rows_written;
    }
    auto [it, inserted] = newest.try_emplace(entity, i);
    if (!inserted && time >= rows.event_time_unix_micros(it->second)) it->second = i;
  }
  if (newest.empty()) return result;
  std::vector<int> candidates;
  candidates.reserve(newest.size());
  for (const auto& [entity, row] : newest) candidates.push_back(row);
  RETURN_IF_ERROR(CommitWithOnline(schema, encoder, rows, candidates, &batch, &result));
  if (options_.durability == Durability::kGroupCommit) RETURN_IF_ERROR(committer_.Sync());
  return result;
}

absl::Status FeatureWriter::CommitWithOnline(const RowSchema& schema,
                                             const RowBatchEncoder& encoder,
                                             const v1::RowBatch& rows,
                                             const std::vector<int>& candidates,
                                             kv::WriteBatch* batch, WriteResult* result) {
  const std::string prefix = GroupKeyPrefix(schema.group());
  std::vector<std::string> keys;
  keys.reserve(candidates.size());
  std::vector<bool> wanted(options_.lock_stripes, false);
  for (int row : candidates) {
    const std::string& entity = rows.entity_keys(row);
    std::string& key = keys.emplace_back(prefix);
    AppendEntity(&key, entity);
    wanted[StripeOf(schema.group(), entity)] = true;
  }
  std::string value;
  StripeLocks locks(stripes_.get(), wanted);
  ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> stored,
                   options_.store->MultiGet(online_, keys));
  for (size_t i = 0; i < candidates.size(); ++i) {
    const int row = candidates[i];
    if (stored[i].has_value()) {
      absl::StatusOr<int64_t> stored_time = PeekEventTime(*stored[i]);
      if (!stored_time.ok()) {
        return core::WithContext(stored_time.status(),
                                 absl::StrCat("online row of entity '", rows.entity_keys(row),
                                              "' in group '", schema.group(), "'"));
      }
      // Equal times: last write wins, which keeps re-sends idempotent.
      if (rows.event_time_unix_micros(row) < *stored_time) {
        ++result->online_stale;
        continue;
      }
    }
    encoder.EncodeRow(row, &value);
    batch->Put(online_, keys[i], value);
    ++result->online_updated;
  }
  if (batch->empty()) return absl::OkStatus();
  const kv::SyncMode sync =
      options_.durability == Durability::kSync ? kv::SyncMode::kSync : kv::SyncMode::kNoSync;
  return options_.store->Write(*batch, sync);
}

}  // namespace fabrique::features
