#include "libs/features/store/aggregation_training.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/core/cpus.h"
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
namespace {

// Labels computed ahead of the chunk being filled (see FillGroup). An entity's history is read
// once per computation that holds any of its labels, and labels usually come in no entity order,
// so each computation reads nearly every entity's history once: on 10M events x 1M labels, 256Ki
// at a time read every entity 4 times and took twice the CPU of 1Mi at a time. The values cost
// 16 bytes per label and aggregation feature: 1Mi labels x 6 features = 96 MiB at most.
constexpr size_t kComputeAhead = 1 << 20;
// Default most threads, as the point-in-time join's.
constexpr int kDefaultMaxThreads = 4;
// Fewer labels than this a thread are computed by fewer threads: starting a thread and seeking
// a fresh iterator cost more than they save there.
constexpr size_t kMinLabelsPerThread = 4096;

}  // namespace

absl::StatusOr<std::unique_ptr<AggregationColumns>> AggregationColumns::Create(
    FeatureStore& store, const CatalogState& catalog,
    const google::protobuf::RepeatedPtrField<v1::FeatureRef>& features, int threads) {
  if (threads < 0) return absl::InvalidArgumentError("threads must be >= 0");
  if (threads == 0) threads = std::clamp(core::UsableCpus(), 1, kDefaultMaxThreads);
  auto columns = std::unique_ptr<AggregationColumns>(new AggregationColumns(store, threads));
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
  std::unique_ptr<kv::Iterator> it;
  // One entity's rows, newest first, reused from entity to entity.
  v1::RowBatch batch;
  std::vector<ColumnBuilder> builders;
  std::vector<SlotInputs> inputs;
  RowView row;
  std::string key;
  bool positioned = false;  // Whether the iterator has been positioned once.
  // When no slot has a filter, each slot's inputs (one per source feature the aggregations
  // share, in AggregationPlan::slots() order, as Inputs gives them) are read straight from the
  // stored rows, without building a RowBatch for AggregationPlan::Inputs (the same values: the
  // feature as a double, absent where null; 0 and present for a row count). -1 = a row count.
  bool direct = false;
  std::vector<int> direct_index;

  static absl::StatusOr<std::shared_ptr<SourceHistory>> Open(kv::Store& store,
                                                             const kv::Snapshot& snapshot,
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
    history->direct = true;
    for (const PlannedSlot& a : plan.slots()) {
      const int index = a.feature.empty() ? -1 : history->schema.IndexOf(a.feature);
      const bool numeric = index < 0 || history->schema.type(index) == v1::FEATURE_TYPE_INT64 ||
                           history->schema.type(index) == v1::FEATURE_TYPE_DOUBLE ||
                           history->schema.type(index) == v1::FEATURE_TYPE_FLOAT ||
                           history->schema.type(index) == v1::FEATURE_TYPE_BOOL;
      history->direct =
          history->direct && a.filter == nullptr && numeric && (a.feature.empty() || index >= 0);
      history->direct_index.push_back(index);
    }
    history->group_prefix = GroupKeyPrefix(source.spec().name());
    ASSIGN_OR_RETURN(kv::ColumnFamily family, store.Family("history"));
    kv::ReadOptions read;
    read.snapshot = &snapshot;
    read.fill_cache = false;  // A one-off scan: leave the online hot set in the cache.
    ASSIGN_OR_RETURN(history->it,
                     store.NewIterator(family, kv::KeyRange::Prefix(history->group_prefix), read));
    return history;
  }

  // Positions the iterator at the first key >= `target`. Entities are read in key order, so the
  // previous read usually stopped just before the next entity's target: a few Next steps then
  // cost far less than a Seek, which searches every level of the LSM tree.
  void SeekForward(absl::string_view target) {
    constexpr int kMaxSteps = 8;
    if (positioned && it->Valid() && it->key() <= target) {
      for (int steps = 0; it->Valid() && it->key() < target; ++steps) {
        if (steps == kMaxSteps) {
          it->Seek(target);
          return;
        }
        it->Next();
      }
      return;
    }
    it->Seek(target);
    positioned = true;
  }

  // Replaces `events` with `entity`'s events in [start, end], ascending. Reads forward from the
  // newest (history keys run newest first), so one Seek and Next steps, never Prev.
  absl::Status Read(absl::string_view entity, int64_t start, int64_t end,
                    const AggregationPlan& plan, EntityEvents* events) {
    events->Clear();
    batch.Clear();
    builders.clear();
    if (direct) {
      inputs.resize(direct_index.size());
      for (SlotInputs& in : inputs) {
        in.values.clear();
        in.present.clear();
      }
    }
    for (size_t i = 0; !direct && i < features.size(); ++i) {
      v1::FeatureColumn* column = batch.add_columns();
      column->mutable_feature()->set_group(schema.group());
      column->mutable_feature()->set_feature(schema.name(features[i]));
      builders.emplace_back(schema.type(features[i]), column->mutable_values());
    }
    key = group_prefix;
    AppendEntity(&key, entity);
    const size_t prefix_size = key.size();
    AppendEventTime(&key, end);
    const absl::string_view prefix(key.data(), prefix_size);
    for (SeekForward(key); it->Valid(); it->Next()) {
      const absl::string_view k = it->key();
      if (k.size() != prefix_size + kHistoryTimeBytes || !absl::StartsWith(k, prefix)) break;
      if (HistoryKeyEventTime(k) < start) break;
      if (absl::Status parsed = row.Parse(it->value(), schema); !parsed.ok()) {
        return core::WithContext(parsed, absl::StrCat("history of '", entity, "'"));
      }
      batch.add_event_time_unix_micros(row.event_time_micros());
      if (direct) {
        AppendDirect();
        continue;
      }
      batch.add_entity_keys();
      for (size_t i = 0; i < features.size(); ++i) builders[i].Append(row, features[i]);
    }
    RETURN_IF_ERROR(it->status());
    const int n = batch.event_time_unix_micros_size();
    if (n == 0) return absl::OkStatus();
    if (!direct) {
      for (ColumnBuilder& builder : builders) builder.Finish();
      RETURN_IF_ERROR(plan.Inputs(batch, {}, &inputs));
    }
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

  // Appends the parsed row's input to each slot (see `direct`).
  void AppendDirect() {
    for (size_t a = 0; a < direct_index.size(); ++a) {
      SlotInputs& in = inputs[a];
      const int index = direct_index[a];
      if (index < 0) {
        in.values.push_back(0);
        in.present.push_back(1);
        continue;
      }
      if (row.IsNull(index)) {
        in.values.push_back(0);
        in.present.push_back(0);
        continue;
      }
      double value = 0;
      switch (schema.type(index)) {
        case v1::FEATURE_TYPE_INT64:
          value = static_cast<double>(row.Int64(index));
          break;
        case v1::FEATURE_TYPE_DOUBLE:
          value = row.Double(index);
          break;
        case v1::FEATURE_TYPE_FLOAT:
          value = row.Float(index);
          break;
        default:  // BOOL, as Open checked.
          value = row.Bool(index) ? 1.0 : 0.0;
          break;
      }
      in.values.push_back(value);
      in.present.push_back(1);
    }
  }
};

void AggregationColumns::Expect(const v1::LabelEventBatch& events) {
  for (Group& group : groups_) {
    absl::StatusOr<const KeyColumn*> keys =
        FindEntityKeys(events.entity_keys(), group.entity, group.name);
    // Without the entity's keys the join refuses the batch; its chunks then fill as they come.
    if (!keys.ok()) continue;
    const int n = std::min(events.event_time_unix_micros_size(), (*keys)->size());
    for (int r = 0; r < n; ++r) {
      group.pending_keys.push_back((**keys)[r]);
      group.pending_times.push_back(events.event_time_unix_micros(r));
    }
  }
}

void AggregationColumns::ForgetExpected() {
  for (Group& group : groups_) {
    group.pending_keys.clear();
    group.pending_times.clear();
    for (auto& values : group.pending_values) values.clear();
    group.head = 0;
  }
}

absl::Status AggregationColumns::Evaluate(Group& group, size_t n,
                                          absl::FunctionRef<absl::string_view(size_t)> key_of,
                                          absl::FunctionRef<int64_t(size_t)> time_of, size_t offset,
                                          Values* values) {
  const AggregationPlan& plan = *group.plan;
  int64_t longest = 0;
  for (const auto& [a, w] : group.outputs) {
    longest = std::max(longest, plan.aggregations()[a].window_tiles[w]);
  }
  // Labels by entity, so each entity's history is read once: entity e's labels are
  // order[begin[e]] .. order[begin[e + 1] - 1], in input order, and entities are numbered in key
  // order, so each reader's iterator only moves forward. Hashing the keys and sorting only the
  // distinct ones costs far fewer key comparisons than an ordered map of every label.
  std::vector<int64_t> times(n);
  std::vector<uint32_t> entity_of(n);
  std::vector<absl::string_view> names;
  {
    absl::flat_hash_map<absl::string_view, uint32_t> index;
    index.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      times[i] = time_of(i);
      const absl::string_view key = key_of(i);
      auto [it, inserted] = index.try_emplace(key, static_cast<uint32_t>(names.size()));
      if (inserted) names.push_back(key);
      entity_of[i] = it->second;
    }
  }
  values->resize(group.outputs.size());
  for (auto& column : *values) column.resize(offset + n);
  if (names.empty()) return absl::OkStatus();
  RETURN_IF_ERROR(OpenHistory(group));
  const size_t entities = names.size();
  std::vector<uint32_t> by_key(entities);
  for (uint32_t e = 0; e < entities; ++e) by_key[e] = e;
  std::sort(by_key.begin(), by_key.end(),
            [&names](uint32_t a, uint32_t b) { return names[a] < names[b]; });
  std::vector<uint32_t> rank(entities);
  for (uint32_t k = 0; k < entities; ++k) rank[by_key[k]] = k;
  std::vector<size_t> begin(entities + 1, 0);
  for (size_t i = 0; i < n; ++i) ++begin[rank[entity_of[i]] + 1];
  for (size_t k = 0; k < entities; ++k) begin[k + 1] += begin[k];
  std::vector<size_t> order(n);
  {
    std::vector<size_t> next(begin.begin(), begin.end() - 1);
    for (size_t i = 0; i < n; ++i) order[next[rank[entity_of[i]]]++] = i;
  }
  // Runs of whole entities of about n / threads labels each.
  const size_t runs =
      std::max<size_t>(1, std::min({group.history.size(), n / kMinLabelsPerThread, entities}));
  std::vector<size_t> bounds = {0};
  for (size_t k = 0; k < entities && bounds.size() < runs; ++k) {
    if (begin[k + 1] * runs >= n * bounds.size()) bounds.push_back(k + 1);
  }
  bounds.push_back(entities);
  const int64_t d = plan.tile_micros();
  auto run = [&](size_t r) -> absl::Status {
    SourceHistory& history = *group.history[r];
    EntityEvents events(plan);
    std::vector<std::optional<double>> at;
    for (size_t k = bounds[r]; k < bounds[r + 1]; ++k) {
      // The span this entity's windows need: from the longest window before its earliest label
      // to its latest label.
      int64_t first = std::numeric_limits<int64_t>::max();
      int64_t last = std::numeric_limits<int64_t>::min();
      for (size_t j = begin[k]; j < begin[k + 1]; ++j) {
        first = std::min(first, times[order[j]]);
        last = std::max(last, times[order[j]]);
      }
      RETURN_IF_ERROR(
          history.Read(names[by_key[k]], (FloorDiv(first, d) - longest) * d, last, plan, &events));
      // Each label is one run's: the runs write disjoint elements of `values`.
      for (size_t j = begin[k]; j < begin[k + 1]; ++j) {
        const size_t i = order[j];
        events.Evaluate(times[i], group.outputs, &at);
        for (size_t o = 0; o < at.size(); ++o) (*values)[o][offset + i] = at[o];
      }
    }
    return absl::OkStatus();
  };
  std::vector<absl::Status> results(bounds.size() - 1);
  std::vector<std::thread> threads;
  for (size_t r = 1; r + 1 < bounds.size(); ++r) {
    threads.emplace_back([&, r] { results[r] = run(r); });
  }
  results[0] = run(0);
  for (std::thread& thread : threads) thread.join();
  for (const absl::Status& result : results) RETURN_IF_ERROR(result);
  return absl::OkStatus();
}

absl::Status AggregationColumns::OpenHistory(Group& group) {
  if (!group.history.empty()) return absl::OkStatus();
  group.snapshot = std::make_shared<kv::Snapshot>(store_.store().TakeSnapshot());
  for (int t = 0; t < threads_; ++t) {
    ASSIGN_OR_RETURN(
        std::shared_ptr<SourceHistory> history,
        SourceHistory::Open(store_.store(), *group.snapshot, group.source, *group.plan));
    group.history.push_back(std::move(history));
  }
  return absl::OkStatus();
}

absl::Status AggregationColumns::FillGroup(Group& group, v1::TrainingSetRows* rows) {
  ASSIGN_OR_RETURN(const KeyColumn* keys,
                   FindEntityKeys(rows->entity_keys(), group.entity, group.name));
  const int n = rows->event_time_unix_micros_size();
  const int keyed = std::min(n, keys->size());
  // The chunk's rows are the next expected labels, in order, unless a batch was refused: then
  // this chunk is computed alone and the expected labels dropped.
  bool expected = group.pending_keys.size() - group.head >= static_cast<size_t>(n);
  for (int r = 0; expected && r < n; ++r) {
    expected = r < keyed && group.pending_keys[group.head + r] == (*keys)[r] &&
               group.pending_times[group.head + r] == rows->event_time_unix_micros(r);
  }
  Values chunk_values;
  size_t from = 0;
  const Values* values = &chunk_values;
  if (expected) {
    // Every expected label not computed yet, at once: a chunk holds labels of many entities in
    // input order, so computing chunk by chunk would read each entity's history once per chunk.
    const size_t computed = group.pending_values.empty() ? 0 : group.pending_values[0].size();
    if (computed < group.head + n) {
      // At most kComputeAhead labels past this chunk: the memory the values take stays bounded
      // whatever the size of the label batches.
      const size_t count =
          std::min(group.pending_keys.size() - computed, group.head + n - computed + kComputeAhead);
      RETURN_IF_ERROR(Evaluate(
          group, count,
          [&](size_t i) -> absl::string_view { return group.pending_keys[computed + i]; },
          [&](size_t i) { return group.pending_times[computed + i]; }, computed,
          &group.pending_values));
    }
    values = &group.pending_values;
    from = group.head;
  } else {
    ForgetExpected();
    RETURN_IF_ERROR(Evaluate(
        group, keyed, [&](size_t i) -> absl::string_view { return (*keys)[i]; },
        [&](size_t i) { return rows->event_time_unix_micros(i); }, 0, &chunk_values));
    for (auto& column : chunk_values) column.resize(n);
  }
  for (size_t o = 0; o < group.outputs.size(); ++o) {
    const bool count = group.plan->aggregations()[group.outputs[o].first].function ==
                       v1::AGGREGATION_FUNCTION_COUNT;
    v1::ValueColumn* column = rows->mutable_features(group.columns[o])->mutable_values();
    column->Clear();
    const std::optional<double>* column_values = (*values)[o].data() + from;
    bool nulls = false;
    for (int r = 0; r < n; ++r) nulls = nulls || !column_values[r].has_value();
    if (count) {
      column->mutable_int64_values()->mutable_values()->Reserve(n);
    } else {
      column->mutable_double_values()->mutable_values()->Reserve(n);
    }
    for (int r = 0; r < n; ++r) {
      const std::optional<double>& v = column_values[r];
      if (count) {
        column->mutable_int64_values()->add_values(static_cast<int64_t>(v.value_or(0)));
      } else {
        column->mutable_double_values()->add_values(v.value_or(0));
      }
      if (nulls) column->add_is_null(!v.has_value());
    }
  }
  if (expected) {
    group.head += n;
    // Drop what every chunk has taken once it is most of what is held.
    if (group.head * 2 >= group.pending_keys.size()) {
      group.pending_keys.erase(group.pending_keys.begin(), group.pending_keys.begin() + group.head);
      group.pending_times.erase(group.pending_times.begin(),
                                group.pending_times.begin() + group.head);
      for (auto& column : group.pending_values) {
        column.erase(column.begin(), column.begin() + group.head);
      }
      group.head = 0;
    }
  }
  return absl::OkStatus();
}

}  // namespace fabrique::features
