#include "libs/features/store/aggregation_lookup.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "libs/core/status_macros.h"
#include "libs/features/storage/entity_keys.h"

namespace fabrique::features {
namespace {

// The aggregation features asked of one group.
struct GroupAsk {
  const v1::FeatureGroup* group = nullptr;
  std::shared_ptr<const AggregationPlan> plan;
  std::vector<std::pair<int, int>> outputs;  // (aggregation, window) of each.
  std::vector<int> columns;                  // Its column in the response, for each.
};

const v1::FeatureGroup* Find(const CatalogState& state, const std::string& name) {
  auto it = state.groups.find(name);
  return it == state.groups.end() ? nullptr : &it->second->latest();
}

void FillColumn(const v1::FeatureRef& ref, const GroupAsk& ask, size_t index,
                const std::vector<std::optional<double>>& values, int64_t as_of, bool with_times,
                v1::OnlineFeatureColumn* column) {
  const bool count =
      ask.plan->aggregations()[ask.outputs[index].first].function == v1::AGGREGATION_FUNCTION_COUNT;
  *column->mutable_feature() = ref;
  column->set_type(count ? v1::FEATURE_TYPE_INT64 : v1::FEATURE_TYPE_DOUBLE);
  column->set_schema_version(ask.group->schema_version());
  v1::ValueColumn* out = column->mutable_values();
  for (const std::optional<double>& value : values) {
    if (count) {
      out->mutable_int64_values()->add_values(static_cast<int64_t>(value.value_or(0)));
    } else {
      out->mutable_double_values()->add_values(value.value_or(0));
    }
    column->add_statuses(value.has_value() ? v1::VALUE_STATUS_PRESENT : v1::VALUE_STATUS_MISSING);
    if (with_times) column->add_event_time_unix_micros(value.has_value() ? as_of : 0);
  }
  if (values.empty()) {
    if (count) {
      out->mutable_int64_values();
    } else {
      out->mutable_double_values();
    }
  }
}

}  // namespace

absl::Status LookupWithAggregations(const v1::LookupOnlineRequest& request,
                                    const CatalogState& state,
                                    const AggregationGroups& aggregations, PlainLookup plain,
                                    v1::LookupOnlineResponse* response, bool memory_only) {
  ASSIGN_OR_RETURN(const int rows, EntityRowCount(request.entity_keys()));
  v1::LookupOnlineRequest plain_request;
  std::map<std::string, GroupAsk> asks;
  std::vector<std::pair<GroupAsk*, size_t>> aggregated(request.features_size(), {nullptr, 0});
  for (int i = 0; i < request.features_size(); ++i) {
    const v1::FeatureRef& ref = request.features(i);
    const v1::FeatureGroup* group = Find(state, ref.group());
    if (group == nullptr || !AggregationGroups::IsAggregation(*group)) {
      *plain_request.add_features() = ref;
      continue;
    }
    GroupAsk& ask = asks[ref.group()];
    if (ask.plan == nullptr) {
      ask.group = group;
      ask.plan = aggregations.PlanOf(ref.group());
      if (ask.plan == nullptr) {
        return absl::InternalError(
            absl::StrCat("aggregation group '", ref.group(), "' has no plan"));
      }
    }
    std::optional<std::pair<int, int>> output = ask.plan->FindOutput(ref.feature());
    if (!output.has_value()) {
      return absl::NotFoundError(
          absl::StrCat("feature '", ref.group(), ":", ref.feature(), "' not found"));
    }
    aggregated[i] = {&ask, ask.outputs.size()};
    ask.outputs.push_back(*output);
    ask.columns.push_back(i);
  }
  v1::LookupOnlineResponse plain_response;
  if (plain_request.features_size() > 0) {
    // The keys copied only when read: a lookup of aggregates alone costs no copy.
    *plain_request.mutable_entity_keys() = request.entity_keys();
    plain_request.set_include_event_times(request.include_event_times());
    RETURN_IF_ERROR(plain(plain_request, &plain_response));
  }

  const int64_t now = absl::ToUnixMicros(aggregations.clock().Now());
  std::map<const GroupAsk*, std::vector<std::vector<std::optional<double>>>> values;
  for (auto& [name, ask] : asks) {
    ASSIGN_OR_RETURN(const KeyColumn* keys,
                     FindEntityKeys(request.entity_keys(), ask.group->spec().entity(), name));
    std::vector<std::string> entities(keys->begin(), keys->end());
    RETURN_IF_ERROR(aggregations.tiles().Read(name, *ask.plan, entities, now, ask.outputs,
                                              &values[&ask], memory_only));
  }
  response->Clear();
  response->set_row_count(rows);
  int next_plain = 0;
  for (int i = 0; i < request.features_size(); ++i) {
    v1::OnlineFeatureColumn* column = response->add_columns();
    const auto& [ask, index] = aggregated[i];
    if (ask == nullptr) {
      column->Swap(plain_response.mutable_columns(next_plain++));
      continue;
    }
    FillColumn(request.features(i), *ask, index, values[ask][index], now,
               request.include_event_times(), column);
  }
  return absl::OkStatus();
}

}  // namespace fabrique::features
