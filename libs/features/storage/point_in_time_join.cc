#include "libs/features/storage/point_in_time_join.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/features/storage/entity_keys.h"

namespace fabrique::features {
namespace {

constexpr int kDefaultChunkRows = 4096;
constexpr int64_t kMaxWindowRows = int64_t{1} << 20;
constexpr int64_t kDefaultWindowBytes = int64_t{256} << 20;

// A guess of the bytes a stored row of `group` takes, for sizing windows.
int64_t EstimatedRowBytes(const v1::FeatureGroup& group) {
  int64_t bytes = 16 + (group.spec().features_size() + 7) / 8;
  for (const v1::FeatureSpec& feature : group.spec().features()) {
    switch (feature.type()) {
      case v1::FEATURE_TYPE_FLOAT:
        bytes += 4;
        break;
      case v1::FEATURE_TYPE_BOOL:
        bytes += 1;
        break;
      case v1::FEATURE_TYPE_STRING:
        bytes += 32;
        break;
      case v1::FEATURE_TYPE_FLOAT_VECTOR:
        bytes += feature.vector_length() > 0 ? 4 * int64_t{feature.vector_length()} + 2 : 1024;
        break;
      default:
        bytes += 8;
    }
  }
  return bytes;
}

const v1::FeatureGroup* FindGroup(const std::vector<v1::FeatureGroup>& groups,
                                  absl::string_view name) {
  for (const v1::FeatureGroup& group : groups) {
    if (group.spec().name() == name) return &group;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PointInTimeJoin>> PointInTimeJoin::Create(Options options) {
  if (options.store == nullptr || !options.on_chunk) {
    return absl::InvalidArgumentError("PointInTimeJoinOptions.store and .on_chunk are required");
  }
  if (options.features.empty()) {
    return absl::InvalidArgumentError("a training set needs at least one feature");
  }
  if (options.chunk_rows < 0 || options.window_rows < 0) {
    return absl::InvalidArgumentError("chunk_rows and window_rows must be >= 0");
  }
  if (options.chunk_rows == 0) options.chunk_rows = kDefaultChunkRows;
  std::unique_ptr<PointInTimeJoin> join(new PointInTimeJoin(std::move(options)));
  RETURN_IF_ERROR(join->Init());
  join->SizeWindow();
  return join;
}

PointInTimeJoin::PointInTimeJoin(Options options) : options_(std::move(options)) {}

PointInTimeJoin::~PointInTimeJoin() {
  // The iterators must go before the snapshot they read.
  matchers_.clear();
}

absl::Status PointInTimeJoin::Init() {
  ASSIGN_OR_RETURN(kv::ColumnFamily history, options_.store->Family(options_.history_family));
  snapshot_ = options_.store->TakeSnapshot();
  kv::ReadOptions read;
  read.snapshot = &*snapshot_;
  read.fill_cache = options_.fill_cache;
  std::vector<std::string> group_names;
  for (const v1::FeatureRef& ref : options_.features) {
    auto found = std::find(group_names.begin(), group_names.end(), ref.group());
    const int group = static_cast<int>(found - group_names.begin());
    if (found == group_names.end()) {
      const v1::FeatureGroup* definition = FindGroup(options_.groups, ref.group());
      if (definition == nullptr) {
        return absl::NotFoundError(absl::StrCat("feature group '", ref.group(), "' not found"));
      }
      ASSIGN_OR_RETURN(RowSchema schema, RowSchema::FromFeatureGroup(*definition));
      ASSIGN_OR_RETURN(std::unique_ptr<AsOfMatcher> matcher,
                       AsOfMatcher::Create(*options_.store, history, std::move(schema), read,
                                           options_.max_next_before_seek));
      matchers_.push_back(std::move(matcher));
      group_names.push_back(ref.group());
      const std::string& entity = definition->spec().entity();
      auto slot = std::find(entities_.begin(), entities_.end(), entity);
      group_entity_.push_back(static_cast<int>(slot - entities_.begin()));
      if (slot == entities_.end()) {
        entities_.push_back(entity);
        entity_groups_.push_back(ref.group());
      }
    }
    const RowSchema& schema = matchers_[group]->schema();
    const int index = schema.IndexOf(ref.feature());
    if (index < 0) {
      return absl::NotFoundError(
          absl::StrCat("feature '", ref.group(), ":", ref.feature(), "' not found"));
    }
    outputs_.push_back(Output{group, index, schema.type(index)});
    v1::VersionedFeatureRef& versioned = versioned_.emplace_back();
    *versioned.mutable_ref() = ref;
    versioned.set_schema_version(schema.version());
    versioned.set_type(schema.type(index));
  }
  keys_.resize(entities_.size());
  views_.resize(matchers_.size());
  return absl::OkStatus();
}

// Picks window_rows when unset: as many events as fit in window_bytes (each event costs its
// keys, time, label and sort state, plus one copied row per group), at most 1Mi, and rounds it
// up to whole chunks.
void PointInTimeJoin::SizeWindow() {
  int64_t window = options_.window_rows;
  if (window == 0) {
    int64_t per_event = 96 + 40 * static_cast<int64_t>(entities_.size()) + 32;
    for (const std::unique_ptr<AsOfMatcher>& matcher : matchers_) {
      per_event += 40 + EstimatedRowBytes(*FindGroup(options_.groups, matcher->schema().group()));
    }
    const int64_t budget = options_.window_bytes > 0 ? options_.window_bytes : kDefaultWindowBytes;
    window = std::clamp<int64_t>(budget / per_event, 1, kMaxWindowRows);
  }
  const int64_t chunk = options_.chunk_rows;
  options_.window_rows = static_cast<int>((std::max(window, chunk) + chunk - 1) / chunk * chunk);
}

absl::Status PointInTimeJoin::Add(const v1::LabelEventBatch& events) {
  if (finished_) return absl::FailedPreconditionError("PointInTimeJoin::Add after Finish");
  RETURN_IF_ERROR(failed_);
  failed_ = AddChecked(events);
  return failed_;
}

absl::Status PointInTimeJoin::AddChecked(const v1::LabelEventBatch& events) {
  ASSIGN_OR_RETURN(const int rows, EntityRowCount(events.entity_keys()));
  if (events.event_time_unix_micros_size() != rows) {
    return absl::InvalidArgumentError(absl::StrCat("label events have ", rows, " entity keys but ",
                                                   events.event_time_unix_micros_size(),
                                                   " event times"));
  }
  if (rows == 0) return absl::OkStatus();
  std::vector<const KeyColumn*> columns;
  for (size_t slot = 0; slot < entities_.size(); ++slot) {
    ASSIGN_OR_RETURN(const KeyColumn* column,
                     FindEntityKeys(events.entity_keys(), entities_[slot], entity_groups_[slot]));
    columns.push_back(column);
  }
  RETURN_IF_ERROR(AddLabels(events.labels(), rows));
  for (int i = 0; i < rows; ++i) {
    for (size_t slot = 0; slot < columns.size(); ++slot) {
      keys_[slot].push_back(columns[slot]->Get(i));
    }
    times_.push_back(events.event_time_unix_micros(i));
    if (label_type_ != v1::FEATURE_TYPE_UNSPECIFIED) label_builder_->AppendFrom(events.labels(), i);
    if (times_.size() == static_cast<size_t>(options_.window_rows)) RETURN_IF_ERROR(JoinWindow());
  }
  return absl::OkStatus();
}

// Checks `labels` against the type of earlier batches (the first batch with rows sets it).
absl::Status PointInTimeJoin::AddLabels(const v1::ValueColumn& labels, int rows) {
  const v1::FeatureType type = ColumnType(labels);
  if (!label_type_known_) {
    label_type_known_ = true;
    label_type_ = type;
    label_builder_ = std::make_unique<ColumnBuilder>(label_type_, &labels_);
  } else if (type != label_type_) {
    return absl::InvalidArgumentError(absl::StrCat("labels are ", v1::FeatureType_Name(type),
                                                   " but earlier batches sent ",
                                                   v1::FeatureType_Name(label_type_)));
  }
  if (type != v1::FEATURE_TYPE_UNSPECIFIED &&
      (ColumnSize(labels) != rows ||
       (labels.is_null_size() != 0 && labels.is_null_size() != rows))) {
    return absl::InvalidArgumentError(absl::StrCat("label column has ", ColumnSize(labels),
                                                   " values and ", labels.is_null_size(),
                                                   " null flags for ", rows, " events"));
  }
  return absl::OkStatus();
}

absl::Status PointInTimeJoin::JoinWindow() {
  const size_t n = times_.size();
  if (n == 0) return absl::OkStatus();
  for (size_t g = 0; g < matchers_.size(); ++g) {
    const std::vector<std::string>& keys = keys_[group_entity_[g]];
    key_pointers_.resize(n);
    for (size_t i = 0; i < n; ++i) key_pointers_[i] = &keys[i];
    RETURN_IF_ERROR(matchers_[g]->Match(key_pointers_, times_));
  }
  const size_t chunk = static_cast<size_t>(options_.chunk_rows);
  for (size_t begin = 0; begin < n; begin += chunk) {
    RETURN_IF_ERROR(EmitChunk(begin, std::min(n, begin + chunk)));
  }
  window_base_ += static_cast<int64_t>(n);
  for (std::vector<std::string>& keys : keys_) keys.clear();
  times_.clear();
  labels_.Clear();
  if (label_builder_ != nullptr) {
    label_builder_ = std::make_unique<ColumnBuilder>(label_type_, &labels_);
  }
  return absl::OkStatus();
}

absl::Status PointInTimeJoin::EmitChunk(size_t begin, size_t end) {
  v1::TrainingSetRows chunk;
  const int rows = static_cast<int>(end - begin);
  chunk.mutable_label_event_index()->Reserve(rows);
  chunk.mutable_event_time_unix_micros()->Reserve(rows);
  std::vector<v1::EntityKeys*> key_columns;
  for (const std::string& entity : entities_) {
    v1::EntityKeys* column = chunk.add_entity_keys();
    column->set_entity(entity);
    column->mutable_keys()->Reserve(rows);
    key_columns.push_back(column);
  }
  std::vector<ColumnBuilder> features;
  features.reserve(outputs_.size());
  for (size_t o = 0; o < outputs_.size(); ++o) {
    v1::FeatureColumn* column = chunk.add_features();
    *column->mutable_feature() = versioned_[o].ref();
    features.emplace_back(outputs_[o].type, column->mutable_values());
    features.back().Reserve(rows);
  }
  ColumnBuilder labels(label_type_, chunk.mutable_labels());
  std::vector<bool> present(matchers_.size());
  for (size_t i = begin; i < end; ++i) {
    const int64_t index = window_base_ + static_cast<int64_t>(i);
    hasher_.AddInt64(index);
    chunk.add_label_event_index(index);
    for (size_t slot = 0; slot < key_columns.size(); ++slot) {
      hasher_.AddBytes(keys_[slot][i]);
      *key_columns[slot]->add_keys() = std::move(keys_[slot][i]);
    }
    hasher_.AddInt64(times_[i]);
    chunk.add_event_time_unix_micros(times_[i]);
    hasher_.AddValue(labels_, static_cast<int>(i), label_type_);
    if (label_type_ != v1::FEATURE_TYPE_UNSPECIFIED)
      labels.AppendFrom(labels_, static_cast<int>(i));
    for (size_t g = 0; g < matchers_.size(); ++g) {
      const absl::string_view row = matchers_[g]->Row(i);
      present[g] = !row.empty();
      if (present[g]) {
        RETURN_IF_ERROR(
            core::WithContext(views_[g].Parse(row, matchers_[g]->schema()), "joining history"));
      }
    }
    for (size_t o = 0; o < outputs_.size(); ++o) {
      const Output& output = outputs_[o];
      if (present[output.group]) {
        features[o].Append(views_[output.group], output.feature_index);
        hasher_.AddValue(views_[output.group], output.feature_index, output.type);
      } else {
        features[o].AppendNull();
        hasher_.AddNull();
      }
    }
  }
  for (ColumnBuilder& builder : features) builder.Finish();
  labels.Finish();
  return options_.on_chunk(&chunk);
}

absl::StatusOr<PointInTimeJoinSummary> PointInTimeJoin::Finish() {
  if (finished_) return absl::FailedPreconditionError("PointInTimeJoin::Finish called twice");
  RETURN_IF_ERROR(failed_);
  finished_ = true;
  failed_ = JoinWindow();
  RETURN_IF_ERROR(failed_);
  PointInTimeJoinSummary summary;
  summary.rows = window_base_;
  summary.content_sha256 = hasher_.HexDigest();
  return summary;
}

}  // namespace fabrique::features
