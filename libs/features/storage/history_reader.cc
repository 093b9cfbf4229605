#include "libs/features/storage/history_reader.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/features/storage/row_codec.h"
#include "libs/features/storage/storage_keys.h"
#include "libs/features/storage/value_columns.h"
#include "libs/kv/key_codec.h"

namespace fabrique::features {
namespace {

constexpr int kDefaultChunkRows = 4096;

// Accumulates rows into ReadHistoryResponse chunks and hands each full one to the callback.
class ChunkEmitter {
 public:
  ChunkEmitter(const RowSchema& schema, std::vector<int> features, int chunk_rows, int64_t limit,
               absl::FunctionRef<absl::Status(v1::ReadHistoryResponse*)> on_chunk)
      : schema_(schema),
        features_(std::move(features)),
        chunk_rows_(chunk_rows),
        limit_(limit),
        on_chunk_(on_chunk) {
    Start();
  }

  // Adds one row; returns its status and sets *done once the limit is reached.
  absl::Status Add(absl::string_view entity, const RowView& row, bool* done) {
    v1::RowBatch* rows = chunk_.mutable_rows();
    rows->add_entity_keys()->assign(entity.data(), entity.size());
    rows->add_event_time_unix_micros(row.event_time_micros());
    for (size_t i = 0; i < features_.size(); ++i) builders_[i].Append(row, features_[i]);
    ++total_;
    if (limit_ > 0 && total_ >= limit_) *done = true;
    if (rows->entity_keys_size() >= chunk_rows_) return Emit();
    return absl::OkStatus();
  }

  // Emits the last, partial chunk.
  absl::Status Flush() { return chunk_.rows().entity_keys_size() > 0 ? Emit() : absl::OkStatus(); }

 private:
  void Start() {
    chunk_.Clear();
    chunk_.set_schema_version(schema_.version());
    builders_.clear();
    builders_.reserve(features_.size());
    for (int index : features_) {
      v1::FeatureColumn* column = chunk_.mutable_rows()->add_columns();
      column->mutable_feature()->set_group(schema_.group());
      column->mutable_feature()->set_feature(schema_.name(index));
      builders_.emplace_back(schema_.type(index), column->mutable_values());
    }
  }

  absl::Status Emit() {
    for (ColumnBuilder& builder : builders_) builder.Finish();
    RETURN_IF_ERROR(on_chunk_(&chunk_));
    Start();
    return absl::OkStatus();
  }

  const RowSchema& schema_;
  const std::vector<int> features_;
  const int chunk_rows_;
  const int64_t limit_;
  absl::FunctionRef<absl::Status(v1::ReadHistoryResponse*)> on_chunk_;
  v1::ReadHistoryResponse chunk_;
  std::vector<ColumnBuilder> builders_;
  int64_t total_ = 0;
};

// Reads the rows of the entity whose keys start with `entity_prefix` in [start, end), oldest
// first.
absl::Status ReadEntity(kv::Iterator& it, const std::string& entity_prefix,
                        absl::string_view entity, const RowSchema& schema, int64_t start,
                        int64_t end, RowView& row, ChunkEmitter& emitter, bool* done) {
  std::string target = entity_prefix;
  AppendEventTime(&target, start);
  // The last key <= target is the entity's oldest row at or after `start`.
  for (it.SeekForPrev(target); it.Valid() && !*done; it.Prev()) {
    const absl::string_view key = it.key();
    if (key.size() != entity_prefix.size() + kHistoryTimeBytes ||
        key.substr(0, entity_prefix.size()) != entity_prefix) {
      break;
    }
    if (HistoryKeyEventTime(key) >= end) break;
    RETURN_IF_ERROR(core::WithContext(row.Parse(it.value(), schema),
                                      absl::StrCat("history of '", entity, "'")));
    RETURN_IF_ERROR(emitter.Add(entity, row, done));
  }
  return it.status();
}

absl::StatusOr<std::vector<int>> ResolveFeatures(const RowSchema& schema,
                                                 const std::vector<std::string>& names) {
  std::vector<int> indexes;
  if (names.empty()) {
    for (int i = 0; i < schema.size(); ++i) indexes.push_back(i);
    return indexes;
  }
  for (const std::string& name : names) {
    const int index = schema.IndexOf(name);
    if (index < 0) {
      return absl::NotFoundError(
          absl::StrCat("feature '", schema.group(), ":", name, "' not found"));
    }
    indexes.push_back(index);
  }
  return indexes;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HistoryReader>> HistoryReader::Create(Options options) {
  if (options.store == nullptr) {
    return absl::InvalidArgumentError("HistoryReaderOptions.store is required");
  }
  ASSIGN_OR_RETURN(kv::ColumnFamily history, options.store->Family(options.history_family));
  return std::unique_ptr<HistoryReader>(new HistoryReader(std::move(options), history));
}

absl::Status HistoryReader::Read(
    const v1::FeatureGroup& group, const HistoryQuery& query,
    absl::FunctionRef<absl::Status(v1::ReadHistoryResponse*)> on_chunk) const {
  if (query.chunk_rows < 0 || query.limit < 0 || query.start_micros > query.end_micros) {
    return absl::InvalidArgumentError(
        "history query needs chunk_rows >= 0, limit >= 0 and start <= end");
  }
  ASSIGN_OR_RETURN(RowSchema schema, RowSchema::FromFeatureGroup(group));
  ASSIGN_OR_RETURN(std::vector<int> features, ResolveFeatures(schema, query.features));
  ChunkEmitter emitter(schema, std::move(features),
                       query.chunk_rows > 0 ? query.chunk_rows : kDefaultChunkRows, query.limit,
                       on_chunk);
  const std::string group_prefix = GroupKeyPrefix(schema.group());
  const kv::Snapshot snapshot = options_.store->TakeSnapshot();
  kv::ReadOptions read;
  read.snapshot = &snapshot;
  read.fill_cache = options_.fill_cache;
  ASSIGN_OR_RETURN(std::unique_ptr<kv::Iterator> it,
                   options_.store->NewIterator(history_, kv::KeyRange::Prefix(group_prefix), read));
  RowView row;
  bool done = false;
  if (!query.entity_keys.empty()) {
    std::vector<std::string> entities = query.entity_keys;
    std::sort(entities.begin(), entities.end());
    entities.erase(std::unique(entities.begin(), entities.end()), entities.end());
    for (const std::string& entity : entities) {
      if (done) break;
      RETURN_IF_ERROR(ReadEntity(*it, EntityKeyPrefix(schema.group(), entity), entity, schema,
                                 query.start_micros, query.end_micros, row, emitter, &done));
    }
    return emitter.Flush();
  }
  // Every entity: the first key of each entity names it; after reading it, hop past its keys.
  it->SeekToFirst();
  while (it->Valid() && !done) {
    ASSIGN_OR_RETURN(std::string entity, ParseEntity(it->key(), group_prefix));
    std::string entity_prefix = group_prefix;
    AppendEntity(&entity_prefix, entity);
    RETURN_IF_ERROR(ReadEntity(*it, entity_prefix, entity, schema, query.start_micros,
                               query.end_micros, row, emitter, &done));
    it->Seek(kv::PrefixSuccessor(entity_prefix));
  }
  RETURN_IF_ERROR(it->status());
  return emitter.Flush();
}

}  // namespace fabrique::features
