#include "libs/features/store/aggregation_training.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "libs/core/status_macros.h"
#include "libs/features/aggregation/tile_pyramid.h"
#include "libs/features/aggregation/window_evaluator.h"
#include "libs/features/storage/entity_keys.h"

namespace fabrique::features {

using google::protobuf::util::TimeUtil;

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

absl::Status AggregationColumns::Fill(v1::TrainingSetRows* rows) const {
  for (const Group& group : groups_) RETURN_IF_ERROR(FillGroup(group, rows));
  return absl::OkStatus();
}

absl::Status AggregationColumns::FillGroup(const Group& group, v1::TrainingSetRows* rows) const {
  ASSIGN_OR_RETURN(const KeyColumn* keys,
                   FindEntityKeys(rows->entity_keys(), group.entity, group.name));
  const int n = rows->event_time_unix_micros_size();
  const AggregationPlan& plan = *group.plan;
  int64_t longest = 0;
  for (const auto& [a, w] : group.outputs) {
    longest = std::max(longest, plan.aggregations()[a].window_tiles[w]);
  }
  // Label rows by entity, so each entity's history is read once.
  std::map<absl::string_view, std::vector<int>> by_entity;
  for (int r = 0; r < n && r < keys->size(); ++r) by_entity[(*keys)[r]].push_back(r);
  // values[o][r]
  std::vector<std::vector<std::optional<double>>> values(group.outputs.size(),
                                                         std::vector<std::optional<double>>(n));
  EntityEvents events(plan);
  std::vector<std::optional<double>> at;
  const int64_t d = plan.tile_micros();
  for (const auto& [entity, label_rows] : by_entity) {
    int64_t start = std::numeric_limits<int64_t>::max();
    int64_t end = std::numeric_limits<int64_t>::min();
    for (int r : label_rows) {
      const int64_t t = rows->event_time_unix_micros(r);
      start = std::min(start, (FloorDiv(t, d) - longest) * d);
      end = std::max(end, t);
    }
    events.Clear();
    v1::ReadHistoryRequest read;
    read.set_group(group.source.spec().name());
    read.add_entity_keys(std::string(entity));
    for (const std::string& f : plan.input_features()) read.add_features(f);
    *read.mutable_time_range()->mutable_start_time() = TimeUtil::MicrosecondsToTimestamp(start);
    *read.mutable_time_range()->mutable_end_time() = TimeUtil::MicrosecondsToTimestamp(end + 1);
    RETURN_IF_ERROR(store_.ReadHistory(
        read, [&](v1::ReadHistoryResponse* chunk) { return events.Append(chunk->rows()); }));
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
