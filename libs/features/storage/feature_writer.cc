#include "libs/features/storage/feature_writer.h"

#include <optional>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/features/storage/batch_keys.h"
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
                                                 const v1::RowBatch& rows, RowMask skip) {
  return WriteImpl(group, rows, skip, /*with_history=*/true);
}

absl::StatusOr<WriteResult> FeatureWriter::WriteOnline(const v1::FeatureGroup& group,
                                                       const v1::RowBatch& rows, RowMask skip) {
  return WriteImpl(group, rows, skip, /*with_history=*/false);
}

size_t FeatureWriter::StripeOf(absl::string_view group, absl::string_view entity) const {
  const size_t hash =
      absl::Hash<std::pair<absl::string_view, absl::string_view>>()(std::make_pair(group, entity));
  return hash % static_cast<size_t>(options_.lock_stripes);
}

absl::StatusOr<WriteResult> FeatureWriter::WriteImpl(const v1::FeatureGroup& group,
                                                     const v1::RowBatch& rows, RowMask skip,
                                                     bool with_history) {
  ASSIGN_OR_RETURN(RowSchema schema, RowSchema::FromFeatureGroup(group));
  ASSIGN_OR_RETURN(RowBatchEncoder encoder, RowBatchEncoder::Create(schema, rows));
  ASSIGN_OR_RETURN(BatchKeys keys, BatchKeys::Build(schema.group(), rows, skip));
  return WriteKeys(schema, encoder, rows, keys, with_history);
}

absl::StatusOr<WriteResult> FeatureWriter::MergeOnline(const RowSchema& schema,
                                                       const RowBatchEncoder& encoder,
                                                       const v1::RowBatch& rows,
                                                       const BatchKeys& keys) {
  return WriteKeys(schema, encoder, rows, keys, /*with_history=*/false);
}

absl::StatusOr<WriteResult> FeatureWriter::WriteKeys(const RowSchema& schema,
                                                     const RowBatchEncoder& encoder,
                                                     const v1::RowBatch& rows,
                                                     const BatchKeys& keys, bool with_history) {
  WriteResult result;
  if (keys.size() == 0) return result;
  kv::WriteBatch batch;
  std::string value;
  // In key order; the first key of each entity is its newest row: the online candidate.
  std::vector<size_t> candidates;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys.overridden(i)) continue;
    if (keys.starts_entity(i)) candidates.push_back(i);
    if (!with_history) continue;
    encoder.EncodeRow(keys.row(i), &value);
    batch.Put(history_, keys.key(i), value);
    ++result.rows_written;
  }
  RETURN_IF_ERROR(CommitWithOnline(schema, encoder, rows, keys, candidates, &batch, &result));
  if (options_.durability == Durability::kGroupCommit) RETURN_IF_ERROR(committer_.Sync());
  return result;
}

absl::Status FeatureWriter::CommitWithOnline(const RowSchema& schema,
                                             const RowBatchEncoder& encoder,
                                             const v1::RowBatch& rows, const BatchKeys& keys,
                                             const std::vector<size_t>& candidates,
                                             kv::WriteBatch* batch, WriteResult* result) {
  std::vector<std::string> online_keys;
  online_keys.reserve(candidates.size());
  std::vector<bool> wanted(options_.lock_stripes, false);
  for (size_t i : candidates) {
    online_keys.emplace_back(keys.entity_key(i));
    wanted[StripeOf(schema.group(), rows.entity_keys(keys.row(i)))] = true;
  }
  std::string value;
  StripeLocks locks(stripes_.get(), wanted);
  ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> stored,
                   options_.store->MultiGet(online_, online_keys));
  for (size_t c = 0; c < candidates.size(); ++c) {
    const int row = keys.row(candidates[c]);
    if (stored[c].has_value()) {
      absl::StatusOr<int64_t> stored_time = PeekEventTime(*stored[c]);
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
    batch->Put(online_, online_keys[c], value);
    ++result->online_updated;
  }
  if (batch->empty()) return absl::OkStatus();
  const kv::SyncMode sync =
      options_.durability == Durability::kSync ? kv::SyncMode::kSync : kv::SyncMode::kNoSync;
  return options_.store->Write(*batch, sync);
}

}  // namespace fabrique::features
