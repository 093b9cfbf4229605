#include "libs/features/storage/online_reader.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/features/storage/entity_keys.h"
#include "libs/features/storage/row_cache.h"
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

namespace {

// Reads the stored online row of each entity of each group in `plans` into `(*stored)[group]`,
// from `cache` (may be null) where it holds them and from `online` otherwise, all as of one
// state; `snapshot` keeps the snapshot it read under, if it took one.
absl::Status ReadRows(const kv::Store& store, kv::ColumnFamily online, RowCache* cache,
                      absl::Span<const GroupPlan> plans, int rows, kv::ReadOptions read,
                      std::optional<kv::Snapshot>* snapshot,
                      std::vector<std::vector<std::optional<std::string>>>* stored) {
  std::vector<std::vector<std::string>> keys(plans.size());
  // Per group, the rows the cache did not hold, and the tickets of every row.
  std::vector<std::vector<int>> missed(plans.size());
  std::vector<std::vector<RowCache::Ticket>> tickets(plans.size());
  int hits = 0, misses = 0;
  for (size_t p = 0; p < plans.size(); ++p) {
    const GroupPlan& plan = plans[p];
    const std::string prefix = GroupKeyPrefix(plan.schema->group());
    keys[p].resize(rows);
    (*stored)[p].resize(rows);
    if (cache != nullptr) tickets[p].resize(rows);
    for (int r = 0; r < rows; ++r) {
      std::string& key = keys[p][r];
      key.reserve(prefix.size() + plan.keys->Get(r).size() + 1);
      key.assign(prefix);
      AppendEntity(&key, plan.keys->Get(r));
      if (cache == nullptr) continue;
      std::optional<std::string>& value = (*stored)[p][r];
      value.emplace();
      if (cache->Find(key, &*value, &tickets[p][r])) {
        ++hits;
      } else {
        value.reset();
        missed[p].push_back(r);
        ++misses;
      }
    }
  }
  if (cache == nullptr) {
    // One MultiGet already reads one consistent state; several need a shared snapshot.
    if (plans.size() > 1) {
      snapshot->emplace(store.TakeSnapshot());
      read.snapshot = &**snapshot;
    }
    for (size_t p = 0; p < plans.size(); ++p) {
      ASSIGN_OR_RETURN((*stored)[p], store.MultiGet(online, keys[p], read));
    }
    return absl::OkStatus();
  }
  // Rows from the cache and from the store answer one state: the store is read under a snapshot
  // taken after the cache was searched, and a cached row whose shard saw a write begin or end
  // since is read again under it (RowCache). A lookup of one group answered wholly from the
  // cache, or wholly from the store, needs no snapshot unless a cached row changed.
  if (plans.size() > 1 || (misses > 0 && hits > 0)) {
    snapshot->emplace(store.TakeSnapshot());
    read.snapshot = &**snapshot;
  }
  std::vector<std::string> read_keys;
  for (size_t p = 0; p < plans.size(); ++p) {
    if (missed[p].empty()) continue;
    read_keys.clear();
    // Moved, not copied: a missed row's key is needed only for this read and its insert.
    for (int r : missed[p]) read_keys.push_back(std::move(keys[p][r]));
    ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> values,
                     store.MultiGet(online, read_keys, read));
    for (size_t i = 0; i < values.size(); ++i) {
      const int r = missed[p][i];
      if (values[i].has_value()) cache->Insert(read_keys[i], *values[i], tickets[p][r]);
      (*stored)[p][r] = std::move(values[i]);
    }
  }
  if (hits == 0 || (hits == 1 && misses == 0)) return absl::OkStatus();
  // The cached rows that may no longer be the store's, per group.
  std::vector<std::vector<int>> changed(plans.size());
  bool any_changed = false;
  for (size_t p = 0; p < plans.size(); ++p) {
    size_t next_miss = 0;
    for (int r = 0; r < rows; ++r) {
      if (next_miss < missed[p].size() && missed[p][next_miss] == r) {
        ++next_miss;
      } else if (!cache->Unchanged(tickets[p][r])) {
        changed[p].push_back(r);
        any_changed = true;
      }
    }
  }
  if (!any_changed) return absl::OkStatus();
  if (!snapshot->has_value()) {
    // One group, every row from the cache, some changed since: the rows checked unchanged are
    // the store's up to their check, not at any later snapshot, so the group is read again whole.
    ASSIGN_OR_RETURN((*stored)[0], store.MultiGet(online, keys[0], read));
    return absl::OkStatus();
  }
  for (size_t p = 0; p < plans.size(); ++p) {
    if (changed[p].empty()) continue;
    read_keys.clear();
    for (int r : changed[p]) read_keys.push_back(keys[p][r]);
    ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> values,
                     store.MultiGet(online, read_keys, read));
    for (size_t i = 0; i < values.size(); ++i) (*stored)[p][changed[p][i]] = std::move(values[i]);
  }
  return absl::OkStatus();
}

}  // namespace

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
  kv::ReadOptions read;
  read.memory_only = memory_only;
  std::optional<kv::Snapshot> snapshot;
  std::vector<std::vector<std::optional<std::string>>> stored(plans.size());
  RETURN_IF_ERROR(
      ReadRows(*options_.store, online_, options_.cache, plans, rows, read, &snapshot, &stored));
  const int64_t now = absl::ToUnixMicros(options_.clock->Now());
  RowView row;
  for (size_t p = 0; p < plans.size(); ++p) {
    const GroupPlan& plan = plans[p];
    const RowSchema& schema = *plan.schema;
    const int64_t ttl = schema.ttl_micros();
    for (int r = 0; r < rows; ++r) {
      const std::optional<std::string>& value = stored[p][r];
      if (!value.has_value()) {
        for (int o : plan.outputs) AppendAbsent(outputs[o], v1::VALUE_STATUS_MISSING, with_times);
        continue;
      }
      // The context is formatted only for a corrupt row: on every row it was an allocation.
      if (absl::Status parsed = row.Parse(*value, schema); !parsed.ok()) {
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
