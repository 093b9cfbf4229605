#include "libs/features/storage/online_reader.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
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
  std::shared_ptr<const RowSchema> schema;
  const KeyColumn* keys = nullptr;
  std::vector<int> outputs;  // Indexes into the call's OutputColumn list.
};

// Whether `cached` was built from `group`'s definition.
template <typename Cached>
bool SameDefinition(const Cached& cached, const v1::FeatureGroup& group) {
  const v1::FeatureGroupSpec& spec = group.spec();
  return cached.version == group.schema_version() && cached.ttl_seconds == spec.ttl().seconds() &&
         cached.ttl_nanos == spec.ttl().nanos() &&
         cached.retention_seconds == spec.retention().seconds() &&
         cached.retention_nanos == spec.retention().nanos();
}

absl::StatusOr<const v1::FeatureGroup*> FindGroup(absl::Span<const v1::FeatureGroup* const> groups,
                                                  absl::string_view name) {
  for (const v1::FeatureGroup* group : groups) {
    if (group != nullptr && group->spec().name() == name) return group;
  }
  return absl::NotFoundError(absl::StrCat("feature group '", name, "' not found"));
}

using SchemaSource =
    absl::FunctionRef<absl::StatusOr<std::shared_ptr<const RowSchema>>(const v1::FeatureGroup&)>;

// Resolves every requested feature to a group plan and an output column of `response`, with the
// groups' row schemas from `schema_of`.
absl::Status Plan(const v1::LookupOnlineRequest& request,
                  absl::Span<const v1::FeatureGroup* const> groups, SchemaSource schema_of,
                  int rows, v1::LookupOnlineResponse* response, std::vector<GroupPlan>* plans,
                  std::vector<OutputColumn>* outputs) {
  outputs->reserve(request.features_size());
  // A lookup reads few groups, and consecutive features mostly share one: the last group found
  // is tried first, then the others in order, which beats hashing every reference.
  size_t last = 0;
  for (const v1::FeatureRef& ref : request.features()) {
    if (last >= plans->size() || (*plans)[last].schema->group() != ref.group()) {
      last = 0;
      while (last < plans->size() && (*plans)[last].schema->group() != ref.group()) ++last;
    }
    if (last == plans->size()) {
      ASSIGN_OR_RETURN(const v1::FeatureGroup* group, FindGroup(groups, ref.group()));
      ASSIGN_OR_RETURN(std::shared_ptr<const RowSchema> schema, schema_of(*group));
      ASSIGN_OR_RETURN(const KeyColumn* keys,
                       FindEntityKeys(request.entity_keys(), group->spec().entity(), ref.group()));
      plans->push_back(GroupPlan{std::move(schema), keys, {}});
      // Most lookups name one group: its outputs then grow without a reallocation.
      plans->back().outputs.reserve(request.features_size());
    }
    GroupPlan& plan = (*plans)[last];
    const RowSchema& schema = *plan.schema;
    const int index = schema.IndexOf(ref.feature());
    if (index < 0) {
      return absl::NotFoundError(
          absl::StrCat("feature '", ref.group(), ":", ref.feature(), "' not found"));
    }
    v1::OnlineFeatureColumn* column = response->add_columns();
    *column->mutable_feature() = ref;
    column->set_type(schema.type(index));
    column->set_schema_version(schema.version());
    column->mutable_statuses()->Reserve(rows);
    if (request.include_event_times()) column->mutable_event_time_unix_micros()->Reserve(rows);
    plan.outputs.push_back(static_cast<int>(outputs->size()));
    outputs->push_back(
        OutputColumn{index, column, ColumnBuilder(schema.type(index), column->mutable_values())});
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

absl::StatusOr<std::shared_ptr<const RowSchema>> OnlineReader::SchemaOf(
    const v1::FeatureGroup& group) const {
  const std::string& name = group.spec().name();
  {
    absl::ReaderMutexLock lock(&schemas_mu_);
    const auto it = schemas_.find(name);
    if (it != schemas_.end() && SameDefinition(it->second, group)) return it->second.schema;
  }
  ASSIGN_OR_RETURN(RowSchema built, RowSchema::FromFeatureGroup(group));
  const v1::FeatureGroupSpec& spec = group.spec();
  CachedSchema cached;
  cached.version = group.schema_version();
  cached.ttl_seconds = spec.ttl().seconds();
  cached.ttl_nanos = spec.ttl().nanos();
  cached.retention_seconds = spec.retention().seconds();
  cached.retention_nanos = spec.retention().nanos();
  cached.schema = std::make_shared<const RowSchema>(std::move(built));
  absl::MutexLock lock(&schemas_mu_);
  schemas_.insert_or_assign(name, cached);
  return cached.schema;
}

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
  RETURN_IF_ERROR(Plan(
      request, groups, [this](const v1::FeatureGroup& group) { return SchemaOf(group); }, rows,
      response, &plans, &outputs));

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
    const RowSchema& schema = *plan.schema;
    const std::string prefix = GroupKeyPrefix(schema.group());
    for (int r = 0; r < rows; ++r) {
      keys[r].assign(prefix);
      AppendEntity(&keys[r], plan.keys->Get(r));
    }
    ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> stored,
                     options_.store->MultiGet(online_, keys, read));
    const int64_t ttl = schema.ttl_micros();
    for (int r = 0; r < rows; ++r) {
      if (!stored[r].has_value()) {
        for (int o : plan.outputs) AppendAbsent(outputs[o], v1::VALUE_STATUS_MISSING, with_times);
        continue;
      }
      // The context is formatted only for a corrupt row: on every row it was an allocation.
      if (absl::Status parsed = row.Parse(*stored[r], schema); !parsed.ok()) {
        return core::WithContext(parsed, absl::StrCat("online row of '", plan.keys->Get(r),
                                                      "' in '", schema.group(), "'"));
      }
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
