#include "libs/features/storage/point_in_time_join.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/cpus.h"
#include "libs/core/status_macros.h"
#include "libs/features/storage/entity_keys.h"

namespace fabrique::features {
namespace {

constexpr int kDefaultChunkRows = 4096;
constexpr int kDefaultMaxThreads = 4;
// Events ahead whose matched rows EmitChunk prefetches: enough to cover a memory latency on a
// busy machine (8 and 24 measured alike within noise; 24 a little better).
constexpr size_t kPrefetchAhead = 24;
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
  if (options.threads < 0) return absl::InvalidArgumentError("threads must be >= 0");
  if (options.threads == 0) {
    options.threads = std::clamp(core::UsableCpus(), 1, kDefaultMaxThreads);
  }
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
                                           options_.max_next_before_seek, options_.threads));
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
  present_.resize(matchers_.size());
  columns_.resize(outputs_.size());
  return absl::OkStatus();
}

// Picks window_rows when unset: as many events as fit in window_bytes (each event costs its
// keys, time, label, and per group its sort state and one copied row), at most 1Mi, and rounds
// it up to whole chunks. One window should hold a typical training set's events: each window is
// one more pass over the history.
void PointInTimeJoin::SizeWindow() {
  int64_t window = options_.window_rows;
  if (window == 0) {
    // Time 8 and label ~16; per entity a key of ~16 bytes plus its 8-byte end; per group two
    // 16-byte sort entries, ~40 bytes of entity ranking and 12 of match offsets, and the row.
    int64_t per_event = 24 + 24 * static_cast<int64_t>(entities_.size());
    for (const std::unique_ptr<AsOfMatcher>& matcher : matchers_) {
      per_event += 84 + EstimatedRowBytes(*FindGroup(options_.groups, matcher->schema().group()));
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
      keys_[slot].Append(columns[slot]->Get(i));
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
    RETURN_IF_ERROR(matchers_[g]->Match(keys_[group_entity_[g]], times_));
  }
  const size_t chunk = static_cast<size_t>(options_.chunk_rows);
  for (size_t begin = 0; begin < n; begin += chunk) {
    RETURN_IF_ERROR(EmitChunk(begin, std::min(n, begin + chunk)));
  }
  window_base_ += static_cast<int64_t>(n);
  for (KeyBuffer& keys : keys_) keys.Clear();
  times_.clear();
  labels_.Clear();
  if (label_builder_ != nullptr) {
    label_builder_ = std::make_unique<ColumnBuilder>(label_type_, &labels_);
  }
  return absl::OkStatus();
}

namespace {

// Sizes a value list to `rows` zeros (the value nulls hold) and returns its array.
template <typename List>
void* SizedArray(List* list, int rows) {
  list->Resize(rows, typename List::value_type{});
  return list->mutable_data();
}

}  // namespace

void PointInTimeJoin::OutputColumn::Start(v1::FeatureType column_type, v1::ValueColumn* column,
                                          int row_count) {
  type = column_type;
  rows = row_count;
  is_null = column->mutable_is_null();
  builder.reset();
  values = nullptr;
  switch (type) {
    case v1::FEATURE_TYPE_FLOAT:
      values = SizedArray(column->mutable_float_values()->mutable_values(), rows);
      break;
    case v1::FEATURE_TYPE_DOUBLE:
      values = SizedArray(column->mutable_double_values()->mutable_values(), rows);
      break;
    case v1::FEATURE_TYPE_INT64:
      values = SizedArray(column->mutable_int64_values()->mutable_values(), rows);
      break;
    case v1::FEATURE_TYPE_BOOL:
      values = SizedArray(column->mutable_bool_values()->mutable_values(), rows);
      break;
    default:
      builder.emplace(type, column);
      builder->Reserve(rows);
  }
}

// Lays out an empty chunk of `rows` rows: index and time arrays sized, key and feature columns
// named, every output column started.
void PointInTimeJoin::StartChunk(int rows) {
  chunk_.Clear();
  chunk_.mutable_label_event_index()->Resize(rows, 0);
  chunk_.mutable_event_time_unix_micros()->Resize(rows, 0);
  for (const std::string& entity : entities_) {
    v1::EntityKeys* column = chunk_.add_entity_keys();
    column->set_entity(entity);
    column->mutable_keys()->Reserve(rows);
  }
  for (size_t o = 0; o < outputs_.size(); ++o) {
    v1::FeatureColumn* column = chunk_.add_features();
    *column->mutable_feature() = versioned_[o].ref();
    columns_[o].Start(outputs_[o].type, column->mutable_values(), rows);
  }
}

// Builds the chunk of window events [begin, end) and hashes its rows in the same pass. Each event's
// rows are decoded once per group; numeric values go straight into the chunk's arrays.
absl::Status PointInTimeJoin::EmitChunk(size_t begin, size_t end) {
  const int rows = static_cast<int>(end - begin);
  StartChunk(rows);
  int64_t* indexes = chunk_.mutable_label_event_index()->mutable_data();
  int64_t* times = chunk_.mutable_event_time_unix_micros()->mutable_data();
  ColumnBuilder labels(label_type_, chunk_.mutable_labels());
  for (int r = 0; r < rows; ++r) {
    const size_t i = begin + static_cast<size_t>(r);
    const int64_t index = window_base_ + static_cast<int64_t>(i);
    hasher_.AddInt64(index);
    indexes[r] = index;
    for (size_t slot = 0; slot < keys_.size(); ++slot) {
      const absl::string_view key = keys_[slot].Get(i);
      hasher_.AddBytes(key);
      chunk_.mutable_entity_keys(static_cast<int>(slot))
          ->add_keys()
          ->assign(key.data(), key.size());
    }
    hasher_.AddInt64(times_[i]);
    times[r] = times_[i];
    hasher_.AddValue(labels_, static_cast<int>(i), label_type_);
    if (label_type_ != v1::FEATURE_TYPE_UNSPECIFIED)
      labels.AppendFrom(labels_, static_cast<int>(i));
    for (size_t g = 0; g < matchers_.size(); ++g) {
      // Rows were copied in key order and are read in event order, i.e. at random: fetch the
      // row some events ahead into the cache so that Parse does not wait on memory.
      if (i + kPrefetchAhead < end) {
        const absl::string_view ahead = matchers_[g]->Row(i + kPrefetchAhead);
        for (size_t at = 0; at < ahead.size(); at += 64) __builtin_prefetch(ahead.data() + at);
      }
      const absl::string_view row = matchers_[g]->Row(i);
      present_[g] = !row.empty();
      if (present_[g]) {
        RETURN_IF_ERROR(
            core::WithContext(views_[g].Parse(row, matchers_[g]->schema()), "joining history"));
      }
    }
    for (size_t o = 0; o < outputs_.size(); ++o) {
      const Output& output = outputs_[o];
      OutputColumn& column = columns_[o];
      const RowView& view = views_[output.group];
      const int f = output.feature_index;
      if (!present_[output.group] || view.IsNull(f)) {
        hasher_.AddNull();
        if (column.builder.has_value()) {
          column.builder->AppendNull();
        } else {
          column.SetNull(r);
        }
        continue;
      }
      switch (column.type) {
        case v1::FEATURE_TYPE_FLOAT:
          static_cast<float*>(column.values)[r] = view.Float(f);
          hasher_.AddPresent(view.Float(f));
          break;
        case v1::FEATURE_TYPE_DOUBLE:
          static_cast<double*>(column.values)[r] = view.Double(f);
          hasher_.AddPresent(view.Double(f));
          break;
        case v1::FEATURE_TYPE_INT64:
          static_cast<int64_t*>(column.values)[r] = view.Int64(f);
          hasher_.AddPresent(view.Int64(f));
          break;
        case v1::FEATURE_TYPE_BOOL:
          static_cast<bool*>(column.values)[r] = view.Bool(f);
          hasher_.AddPresent(static_cast<uint8_t>(view.Bool(f) ? 1 : 0));
          break;
        default:
          column.builder->Append(view, f);
          hasher_.AddValue(view, f, column.type);
      }
    }
  }
  for (OutputColumn& column : columns_) {
    if (column.builder.has_value()) column.builder->Finish();
  }
  labels.Finish();
  return options_.on_chunk(&chunk_);
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
  for (const std::unique_ptr<AsOfMatcher>& matcher : matchers_) {
    summary.seeks += matcher->seeks();
    summary.steps += matcher->steps();
  }
  return summary;
}

}  // namespace fabrique::features
