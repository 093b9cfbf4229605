#include "libs/features/store/aggregation_training.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/features/aggregation/tile_pyramid.h"
#include "libs/features/aggregation/window_evaluator.h"
#include "libs/features/columns/value_column.h"
#include "libs/features/storage/entity_keys.h"
#include "libs/features/storage/row_codec.h"
#include "libs/features/storage/row_schema.h"
#include "libs/features/storage/storage_keys.h"
#include "libs/features/storage/value_columns.h"
#include "libs/kv/iterator.h"
#include "libs/kv/snapshot.h"
#include "libs/kv/store.h"

namespace fabrique::features {

absl::StatusOr<std::unique_ptr<AggregationColumns>> AggregationColumns::Create(
    FeatureStore& store, const CatalogState& catalog,
    const google::protobuf::RepeatedPtrField<v1::FeatureRef>& features) {
  auto columns = std::unique_ptr<AggregationColumns>(new AggregationColumns(store));
  std::map<std::string, size_t> index;
  for (int i = 0; i < features.size(); ++i) {
    const v1::FeatureRef& ref = features[i];
    auto it = catalog.groups.find(ref.group());
    if (it == catalog.groups.end() || !AggregationGroups::IsAggregation(it->second->latest())) {
      continue;
    }
    const v1::FeatureGroup& group = it->second->latest();
    auto [at, inserted] = index.try_emplace(ref.group(), columns->groups_.size());
    if (inserted) {
      Group& g = columns->groups_.emplace_back();
      g.name = ref.group();
      g.entity = group.spec().entity();
      g.plan = store.aggregations().PlanOf(ref.group());
      auto source = catalog.groups.find(group.spec().aggregation().source_group());
      if (g.plan == nullptr || source == catalog.groups.end()) {
        return absl::InternalError(
            absl::StrCat("aggregation group '", ref.group(), "' has no plan or no source"));
      }
      g.source = source->second->latest();
    }
    Group& g = columns->groups_[at->second];
    std::optional<std::pair<int, int>> output = g.plan->FindOutput(ref.feature());
    if (!output.has_value()) {
      return absl::NotFoundError(
          absl::StrCat("feature '", ref.group(), ":", ref.feature(), "' not found"));
    }
    g.outputs.push_back(*output);
    g.columns.push_back(i);
  }
  if (columns->groups_.empty()) return nullptr;
  return columns;
}

absl::Status AggregationColumns::Fill(v1::TrainingSetRows* rows) {
  for (Group& group : groups_) RETURN_IF_ERROR(FillGroup(group, rows));
  for (int r = 0; r < rows->event_time_unix_micros_size(); ++r) {
    for (const Group& group : groups_) {
      for (size_t o = 0; o < group.columns.size(); ++o) {
        const v1::ValueColumn& column = rows->features(group.columns[o]).values();
        hasher_.AddValue(column, r, ColumnType(column));
      }
    }
  }
  return absl::OkStatus();
}

std::string AggregationColumns::CombinedHash(const std::string& join_sha256) {
  ContentHasher combined;
  combined.AddBytes(join_sha256);
  combined.AddBytes(hasher_.HexDigest());
  return combined.HexDigest();
}

struct AggregationColumns::SourceHistory {
  explicit SourceHistory(RowSchema row_schema) : schema(std::move(row_schema)) {}

  RowSchema schema;
  std::vector<int> features;  // plan.input_features() in the schema.
  std::string group_prefix;
  std::unique_ptr<kv::Snapshot> snapshot;
  std::unique_ptr<kv::Iterator> it;
  // One entity's rows, newest first, reused from entity to entity.
  v1::RowBatch batch;
  std::vector<ColumnBuilder> builders;
  std::vector<SlotInputs> inputs;
  RowView row;
  std::string key;

  static absl::StatusOr<std::shared_ptr<SourceHistory>> Open(kv::Store& store,
                                                             const v1::FeatureGroup& source,
                                                             const AggregationPlan& plan) {
    ASSIGN_OR_RETURN(RowSchema schema, RowSchema::FromFeatureGroup(source));
    auto history = std::make_shared<SourceHistory>(std::move(schema));
    for (const std::string& f : plan.input_features()) {
      const int index = history->schema.IndexOf(f);
      if (index < 0) {
        return absl::NotFoundError(
            absl::StrCat("feature '", source.spec().name(), ":", f, "' not found"));
      }
      history->features.push_back(index);
    }
    history->group_prefix = GroupKeyPrefix(source.spec().name());
    ASSIGN_OR_RETURN(kv::ColumnFamily family, store.Family("history"));
    history->snapshot = std::make_unique<kv::Snapshot>(store.TakeSnapshot());
    kv::ReadOptions read;
    read.snapshot = history->snapshot.get();
    read.fill_cache = false;  // A one-off scan: leave the online hot set in the cache.
    ASSIGN_OR_RETURN(history->it,
                     store.NewIterator(family, kv::KeyRange::Prefix(history->group_prefix), read));
    return history;
  }

  // Replaces `events` with `entity`'s events in [start, end], ascending. Reads forward from the
  // newest (history keys run newest first), so one Seek and Next steps, never Prev.
  absl::Status Read(absl::string_view entity, int64_t start, int64_t end,
                    const AggregationPlan& plan, EntityEvents* events) {
    events->Clear();
    batch.Clear();
    builders.clear();
    for (int index : features) {
      v1::FeatureColumn* column = batch.add_columns();
      column->mutable_feature()->set_group(schema.group());
      column->mutable_feature()->set_feature(schema.name(index));
      builders.emplace_back(schema.type(index), column->mutable_values());
    }
    key = group_prefix;
    AppendEntity(&key, entity);
    const size_t prefix_size = key.size();
    AppendEventTime(&key, end);
    const absl::string_view prefix(key.data(), prefix_size);
    for (it->Seek(key); it->Valid(); it->Next()) {
      const absl::string_view k = it->key();
      if (k.size() != prefix_size + kHistoryTimeBytes || !absl::StartsWith(k, prefix)) break;
      if (HistoryKeyEventTime(k) < start) break;
      RETURN_IF_ERROR(core::WithContext(row.Parse(it->value(), schema),
                                        absl::StrCat("history of '", entity, "'")));
      batch.add_entity_keys();
      batch.add_event_time_unix_micros(row.event_time_micros());
      for (size_t i = 0; i < features.size(); ++i) builders[i].Append(row, features[i]);
    }
    RETURN_IF_ERROR(it->status());
    const int n = batch.event_time_unix_micros_size();
    if (n == 0) return absl::OkStatus();
    for (ColumnBuilder& builder : builders) builder.Finish();
    RETURN_IF_ERROR(plan.Inputs(batch, {}, &inputs));
    // Oldest first, as EntityEvents holds them.
    std::reverse(batch.mutable_event_time_unix_micros()->begin(),
                 batch.mutable_event_time_unix_micros()->end());
    for (SlotInputs& in : inputs) {
      std::reverse(in.values.begin(), in.values.end());
      std::reverse(in.present.begin(), in.present.end());
    }
    events->AppendRange(batch, inputs, 0, n);
    return absl::OkStatus();
  }
};

absl::Status AggregationColumns::FillGroup(Group& group, v1::TrainingSetRows* rows) {
  ASSIGN_OR_RETURN(const KeyColumn* keys,
                   FindEntityKeys(rows->entity_keys(), group.entity, group.name));
  const int n = rows->event_time_unix_micros_size();
  const AggregationPlan& plan = *group.plan;
  int64_t longest = 0;
  for (const auto& [a, w] : group.outputs) {
    longest = std::max(longest, plan.aggregations()[a].window_tiles[w]);
  }
  // Label rows by entity, so each entity's history is read once; entities in key order, so the
  // iterator's seeks move forward.
  std::map<absl::string_view, std::vector<int>> by_entity;
  for (int r = 0; r < n && r < keys->size(); ++r) by_entity[(*keys)[r]].push_back(r);
  // values[o][r]
  std::vector<std::vector<std::optional<double>>> values(group.outputs.size(),
                                                         std::vector<std::optional<double>>(n));
  if (!by_entity.empty() && group.history == nullptr) {
    ASSIGN_OR_RETURN(group.history, SourceHistory::Open(store_.store(), group.source, plan));
  }
  const int64_t d = plan.tile_micros();
  EntityEvents events(plan);
  std::vector<std::optional<double>> at;
  for (const auto& [entity, label_rows] : by_entity) {
    // The span this entity's windows need: from the longest window before its earliest label
    // to its latest label.
    int64_t first = std::numeric_limits<int64_t>::max();
    int64_t last = std::numeric_limits<int64_t>::min();
    for (int r : label_rows) {
      const int64_t t = rows->event_time_unix_micros(r);
      first = std::min(first, t);
      last = std::max(last, t);
    }
    RETURN_IF_ERROR(
        group.history->Read(entity, (FloorDiv(first, d) - longest) * d, last, plan, &events));
    for (int r : label_rows) {
      events.Evaluate(rows->event_time_unix_micros(r), group.outputs, &at);
      for (size_t o = 0; o < at.size(); ++o) values[o][r] = at[o];
    }
  }
  for (size_t o = 0; o < group.outputs.size(); ++o) {
    const bool count =
        plan.aggregations()[group.outputs[o].first].function == v1::AGGREGATION_FUNCTION_COUNT;
    v1::ValueColumn* column = rows->mutable_features(group.columns[o])->mutable_values();
    column->Clear();
    bool nulls = false;
    for (const std::optional<double>& v : values[o]) nulls = nulls || !v.has_value();
    if (count) {
      column->mutable_int64_values()->mutable_values()->Reserve(n);
    } else {
      column->mutable_double_values()->mutable_values()->Reserve(n);
    }
    for (const std::optional<double>& v : values[o]) {
      if (count) {
        column->mutable_int64_values()->add_values(static_cast<int64_t>(v.value_or(0)));
      } else {
        column->mutable_double_values()->add_values(v.value_or(0));
      }
      if (nulls) column->add_is_null(!v.has_value());
    }
  }
  return absl::OkStatus();
}

}  // namespace fabrique::features
