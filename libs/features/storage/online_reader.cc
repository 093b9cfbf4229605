#include "libs/features/storage/online_reader.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/features/storage/entity_keys.h"
#include "libs/features/storage/row_codec.h"
#include "libs/features/storage/storage_keys.h"
#include "libs/features/storage/value_columns.h"

namespace fabrique::features {
namespace {

// One requested feature: its output column and where it sits in its group's rows.
struct OutputColumn {
  int feature_index = 0;
  v1::OnlineFeatureColumn* column = nullptr;
  ColumnBuilder values;
};

// What one group contributes to a lookup.
struct GroupPlan {
  RowSchema schema;
  const KeyColumn* keys = nullptr;
  std::vector<int> outputs;  // Indexes into the call's OutputColumn list.
};

absl::StatusOr<const v1::FeatureGroup*> FindGroup(absl::Span<const v1::FeatureGroup* const> groups,
                                                  absl::string_view name) {
  for (const v1::FeatureGroup* group : groups) {
    if (group != nullptr && group->spec().name() == name) return group;
  }
  return absl::NotFoundError(absl::StrCat("feature group '", name, "' not found"));
}

// Resolves every requested feature to a group plan and an output column of `response`.
absl::Status Plan(const v1::LookupOnlineRequest& request,
                  absl::Span<const v1::FeatureGroup* const> groups, int rows,
                  v1::LookupOnlineResponse* response, std::vector<GroupPlan>* plans,
                  std::vector<OutputColumn>* outputs) {
  absl::flat_hash_map<std::string, int> plan_of_group;
  outputs->reserve(request.features_size());
  for (const v1::FeatureRef& ref : request.features()) {
    auto [it, inserted] = plan_of_group.try_emplace(ref.group(), static_cast<int>(plans->size()));
    if (inserted) {
      ASSIGN_OR_RETURN(const v1::FeatureGroup* group, FindGroup(groups, ref.group()));
      ASSIGN_OR_RETURN(RowSchema schema, RowSchema::FromFeatureGroup(*group));
      ASSIGN_OR_RETURN(const KeyColumn* keys,
                       FindEntityKeys(request.entity_keys(), group->spec().entity(), ref.group()));
      plans->push_back(GroupPlan{std::move(schema), keys, {}});
    }
    GroupPlan& plan = (*plans)[it->second];
    const int index = plan.schema.IndexOf(ref.feature());
    if (index < 0) {
      return absl::NotFoundError(
          absl::StrCat("feature '", ref.group(), ":", ref.feature(), "' not found"));
    }
    v1::OnlineFeatureColumn* column = response->add_columns();
    *column->mutable_feature() = ref;
    column->set_type(plan.schema.type(index));
    column->set_schema_version(plan.schema.version());
    column->mutable_statuses()->Reserve(rows);
    if (request.include_event_times()) column->mutable_event_time_unix_micros()->Reserve(rows);
    plan.outputs.push_back(static_cast<int>(outputs->size()));
    outputs->push_back(OutputColumn{
        index, column, ColumnBuilder(plan.schema.type(index), column->mutable_values())});
    outputs->back().values.Reserve(rows);
  }
  return absl::OkStatus();
}

void AppendAbsent(OutputColumn& output, v1::ValueStatus status, bool with_times) {
  output.values.AppendZero();
  output.column->add_statuses(status);
  if (with_times) output.column->add_event_time_unix_micros(0);
}

}  // namespace

absl::StatusOr<std::unique_ptr<OnlineReader>> OnlineReader::Create(Options options) {
  if (options.store == nullptr || options.clock == nullptr) {
    return absl::InvalidArgumentError("OnlineReaderOptions.store and .clock are required");
  }
  ASSIGN_OR_RETURN(kv::ColumnFamily online, options.store->Family(options.online_family));
  return std::unique_ptr<OnlineReader>(new OnlineReader(std::move(options), online));
}

absl::Status OnlineReader::Lookup(const v1::LookupOnlineRequest& request,
                                  absl::Span<const v1::FeatureGroup* const> groups,
                                  v1::LookupOnlineResponse* response, bool memory_only) const {
  response->Clear();
  ASSIGN_OR_RETURN(const int rows, EntityRowCount(request.entity_keys()));
  response->set_row_count(rows);
  std::vector<GroupPlan> plans;
  std::vector<OutputColumn> outputs;
  RETURN_IF_ERROR(Plan(request, groups, rows, response, &plans, &outputs));

  const bool with_times = request.include_event_times();
  // One MultiGet already reads one consistent state; several need a shared snapshot.
  std::optional<kv::Snapshot> snapshot;
  kv::ReadOptions read;
  read.memory_only = memory_only;
  if (plans.size() > 1) {
    snapshot = options_.store->TakeSnapshot();
    read.snapshot = &*snapshot;
  }
  const int64_t now = absl::ToUnixMicros(options_.clock->Now());
  std::vector<std::string> keys(rows);
  RowView row;
  for (const GroupPlan& plan : plans) {
    const std::string prefix = GroupKeyPrefix(plan.schema.group());
    for (int r = 0; r < rows; ++r) {
      keys[r].assign(prefix);
      AppendEntity(&keys[r], plan.keys->Get(r));
    }
    ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> stored,
                     options_.store->MultiGet(online_, keys, read));
    const int64_t ttl = plan.schema.ttl_micros();
    for (int r = 0; r < rows; ++r) {
      if (!stored[r].has_value()) {
        for (int o : plan.outputs) AppendAbsent(outputs[o], v1::VALUE_STATUS_MISSING, with_times);
        continue;
      }
      RETURN_IF_ERROR(core::WithContext(
          row.Parse(*stored[r], plan.schema),
          absl::StrCat("online row of '", plan.keys->Get(r), "' in '", plan.schema.group(), "'")));
      const int64_t time = row.event_time_micros();
      if (IsExpired(now, time, ttl)) {
        for (int o : plan.outputs) AppendAbsent(outputs[o], v1::VALUE_STATUS_EXPIRED, with_times);
        continue;
      }
      for (int o : plan.outputs) {
        OutputColumn& output = outputs[o];
        if (row.IsNull(output.feature_index)) {
          AppendAbsent(output, v1::VALUE_STATUS_MISSING, with_times);
          continue;
        }
        output.values.Append(row, output.feature_index);
        output.column->add_statuses(v1::VALUE_STATUS_PRESENT);
        if (with_times) output.column->add_event_time_unix_micros(time);
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace fabrique::features
