#include "libs/features/catalog/catalog.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "libs/core/status_macros.h"
#include "libs/features/catalog/catalog_listing.h"
#include "libs/features/catalog/catalog_persistence.h"
#include "libs/features/catalog/classification.h"
#include "libs/features/catalog/schema_evolution.h"
#include "libs/features/catalog/spec_validation.h"
#include "libs/kv/write_batch.h"

namespace fabrique::features {
namespace {

using google::protobuf::util::MessageDifferencer;

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  const int64_t seconds = absl::ToUnixSeconds(time);
  google::protobuf::Timestamp timestamp;
  timestamp.set_seconds(seconds);
  timestamp.set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
  return timestamp;
}

absl::StatusOr<const GroupEntry*> FindGroup(const CatalogState& state, absl::string_view name) {
  auto it = state.groups.find(name);
  if (it == state.groups.end()) {
    return absl::NotFoundError(absl::StrCat("feature group \"", name, "\" not found"));
  }
  return it->second.get();
}

absl::StatusOr<kv::ColumnFamily> OpenFamily(kv::Store& store, const std::string& name) {
  absl::StatusOr<kv::ColumnFamily> family = store.Family(name);
  if (absl::IsNotFound(family.status())) return store.CreateFamily(name);
  return family;
}

// ABORTED unless the group is at `expected` (when > 0); `current` is 0 for a missing group.
absl::Status CheckExpectedVersion(absl::string_view group, int32_t expected, int32_t current) {
  if (expected == 0 || expected == current) return absl::OkStatus();
  return absl::AbortedError(
      absl::StrCat("feature group \"", group, "\" ",
                   current == 0 ? "does not exist" : absl::StrCat("is at schema version ", current),
                   ", not at the expected schema version ", expected,
                   "; read it again and retry the apply against its current version"));
}

absl::Status CheckEntityExists(const CatalogState& state, const v1::FeatureGroupSpec& spec) {
  if (state.entities.count(spec.entity()) != 0) return absl::OkStatus();
  return absl::NotFoundError(absl::StrCat("entity \"", spec.entity(), "\" of feature group \"",
                                          spec.name(), "\" not found; apply the entity first"));
}

// The group's definition after `change`, applied by `caller` at `now`.
v1::FeatureGroup NextDefinition(const v1::FeatureGroup* current, const SchemaChange& change,
                                const google::protobuf::Timestamp& now,
                                const v1::Principal& caller) {
  v1::FeatureGroup group;
  *group.mutable_spec() = change.spec;
  group.set_schema_version(change.schema_version);
  *group.mutable_create_time() = current == nullptr ? now : current->create_time();
  *group.mutable_update_time() = now;
  *group.mutable_updated_by() = caller;
  return group;
}

// The group entry after `change`: a new version appended, or the latest replaced in place.
std::shared_ptr<const GroupEntry> NextEntry(const GroupEntry* current,
                                            std::shared_ptr<const v1::FeatureGroup> group,
                                            std::shared_ptr<const ValidationPlan> plan,
                                            const SchemaChange& change) {
  auto entry = std::make_shared<GroupEntry>();
  if (current != nullptr) entry->versions = current->versions;
  if (change.schema_changed()) {
    entry->versions.push_back(std::move(group));
  } else {
    entry->versions.back() = std::move(group);
  }
  entry->plan = std::move(plan);
  entry->personal = PersonalFeatures(entry->latest().spec());
  return entry;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Catalog>> Catalog::Create(Options options) {
  if (options.store == nullptr) return absl::InvalidArgumentError("Catalog: no store given");
  if (options.clock == nullptr) options.clock = core::Clock::Real();
  ASSIGN_OR_RETURN(kv::ColumnFamily family, OpenFamily(*options.store, options.family));
  ASSIGN_OR_RETURN(std::shared_ptr<const CatalogState> state,
                   LoadCatalogState(*options.store, family, options.clock));
  return std::unique_ptr<Catalog>(new Catalog(std::move(options), family, std::move(state)));
}

Catalog::Catalog(Options options, kv::ColumnFamily family,
                 std::shared_ptr<const CatalogState> state)
    : options_(std::move(options)), family_(family), state_(std::move(state)) {}

std::shared_ptr<const CatalogState> Catalog::Snapshot() const {
  absl::ReaderMutexLock lock(&state_mu_);
  return state_;
}

absl::Status Catalog::CommitAndPublish(absl::string_view key,
                                       const google::protobuf::Message& record,
                                       std::shared_ptr<const CatalogState> next) {
  kv::WriteBatch batch;
  batch.Put(family_, key, record.SerializeAsString());
  RETURN_IF_ERROR(options_.store->Write(batch, kv::SyncMode::kSync));
  absl::MutexLock lock(&state_mu_);
  state_ = std::move(next);
  return absl::OkStatus();
}

absl::StatusOr<v1::Entity> Catalog::ApplyEntity(const v1::Entity& entity) {
  RETURN_IF_ERROR(ValidateEntity(entity));
  absl::MutexLock apply(&apply_mu_);
  const std::shared_ptr<const CatalogState> state = Snapshot();
  const absl::Time now = options_.clock->Now();
  v1::Entity next = entity;
  auto it = state->entities.find(entity.name());
  if (it != state->entities.end()) {
    const v1::Entity& stored = *it->second;
    if (stored.join_key() != entity.join_key()) {
      return absl::FailedPreconditionError(
          absl::StrCat("entity \"", entity.name(), "\" has join key \"", stored.join_key(),
                       "\", which cannot change to \"", entity.join_key(),
                       "\": stored keys would mean something else; create a new entity instead"));
    }
    *next.mutable_create_time() = stored.create_time();
    *next.mutable_update_time() = stored.update_time();
    if (MessageDifferencer::Equals(next, stored)) return stored;
  } else {
    *next.mutable_create_time() = ToTimestamp(now);
  }
  *next.mutable_update_time() = ToTimestamp(now);
  auto state_next = std::make_shared<CatalogState>(*state);
  state_next->entities[entity.name()] = std::make_shared<const v1::Entity>(next);
  RETURN_IF_ERROR(CommitAndPublish(EntityKey(entity.name()), next, std::move(state_next)));
  return next;
}

absl::StatusOr<v1::Entity> Catalog::GetEntity(absl::string_view name) const {
  const std::shared_ptr<const CatalogState> state = Snapshot();
  auto it = state->entities.find(name);
  if (it == state->entities.end()) {
    return absl::NotFoundError(absl::StrCat("entity \"", name, "\" not found"));
  }
  return *it->second;
}

absl::StatusOr<v1::ListEntitiesResponse> Catalog::ListEntities(
    const v1::ListEntitiesRequest& request, SquadFilter visible) const {
  return ListEntitiesIn(*Snapshot(), request, visible);
}

absl::StatusOr<v1::ApplyFeatureGroupResponse> Catalog::ApplyFeatureGroup(
    const v1::ApplyFeatureGroupRequest& request, const v1::Principal& caller) {
  const v1::FeatureGroupSpec& spec = request.spec();
  RETURN_IF_ERROR(ValidateFeatureGroupSpec(spec));
  if (request.expected_schema_version() < 0) {
    return absl::InvalidArgumentError(absl::StrCat("expected_schema_version ",
                                                   request.expected_schema_version(),
                                                   " is negative; 0 = no check"));
  }
  absl::MutexLock apply(&apply_mu_);
  const std::shared_ptr<const CatalogState> state = Snapshot();
  RETURN_IF_ERROR(CheckEntityExists(*state, spec));
  auto it = state->groups.find(spec.name());
  const GroupEntry* entry = it == state->groups.end() ? nullptr : it->second.get();
  const v1::FeatureGroup* current = entry == nullptr ? nullptr : &entry->latest();
  RETURN_IF_ERROR(CheckExpectedVersion(spec.name(), request.expected_schema_version(),
                                       current == nullptr ? 0 : current->schema_version()));
  ASSIGN_OR_RETURN(const v1::FeatureGroupSpec classified, KeepClassification(current, spec));
  ASSIGN_OR_RETURN(SchemaChange change, PlanSchemaChange(current, classified));

  v1::ApplyFeatureGroupResponse response;
  response.set_created(current == nullptr);
  for (const std::string& name : change.added_features) response.add_added_features(name);
  if (change.unchanged()) {
    *response.mutable_group() = *current;
    return response;
  }
  auto group = std::make_shared<const v1::FeatureGroup>(
      NextDefinition(current, change, ToTimestamp(options_.clock->Now()), caller));
  ASSIGN_OR_RETURN(std::shared_ptr<const ValidationPlan> plan,
                   ValidationPlan::Build(group, options_.clock));
  *response.mutable_group() = *group;
  if (request.validate_only()) return response;

  auto next = std::make_shared<CatalogState>(*state);
  next->groups[spec.name()] = NextEntry(entry, group, std::move(plan), change);
  RETURN_IF_ERROR(CommitAndPublish(GroupVersionKey(spec.name(), group->schema_version()), *group,
                                   std::move(next)));
  return response;
}

absl::StatusOr<v1::FeatureGroup> Catalog::ClassifyFeatures(
    const v1::ClassifyFeaturesRequest& request, const v1::Principal& caller) {
  absl::MutexLock apply(&apply_mu_);
  const std::shared_ptr<const CatalogState> state = Snapshot();
  ASSIGN_OR_RETURN(const GroupEntry* entry, FindGroup(*state, request.group()));
  const v1::FeatureGroup& current = entry->latest();
  ASSIGN_OR_RETURN(v1::FeatureGroupSpec spec, Classified(current.spec(), request));
  if (MessageDifferencer::Equals(spec, current.spec())) return current;
  // Metadata: the latest version is replaced in place, as an apply changing a description is.
  SchemaChange change;
  change.spec = std::move(spec);
  change.schema_version = current.schema_version();
  change.metadata_changed = true;
  auto group = std::make_shared<const v1::FeatureGroup>(
      NextDefinition(&current, change, ToTimestamp(options_.clock->Now()), caller));
  ASSIGN_OR_RETURN(std::shared_ptr<const ValidationPlan> plan,
                   ValidationPlan::Build(group, options_.clock));
  auto next = std::make_shared<CatalogState>(*state);
  next->groups[request.group()] = NextEntry(entry, group, std::move(plan), change);
  RETURN_IF_ERROR(CommitAndPublish(GroupVersionKey(request.group(), group->schema_version()),
                                   *group, std::move(next)));
  return *group;
}

absl::StatusOr<v1::FeatureGroup> Catalog::GetFeatureGroup(absl::string_view name,
                                                          int32_t schema_version) const {
  if (schema_version < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("schema_version ", schema_version, " is negative; 0 = latest"));
  }
  const std::shared_ptr<const CatalogState> state = Snapshot();
  ASSIGN_OR_RETURN(const GroupEntry* entry, FindGroup(*state, name));
  if (schema_version == 0) return entry->latest();
  if (schema_version > static_cast<int32_t>(entry->versions.size())) {
    return absl::NotFoundError(absl::StrCat("feature group \"", name, "\" has no schema version ",
                                            schema_version, "; the latest is ",
                                            entry->versions.size()));
  }
  return *entry->versions[schema_version - 1];
}

absl::StatusOr<v1::ListFeatureGroupsResponse> Catalog::ListFeatureGroups(
    const v1::ListFeatureGroupsRequest& request, SquadFilter visible) const {
  return ListFeatureGroupsIn(*Snapshot(), request, visible);
}

absl::StatusOr<v1::ListFeaturesResponse> Catalog::ListFeatures(
    const v1::ListFeaturesRequest& request, SquadFilter visible) const {
  return ListFeaturesIn(*Snapshot(), request, visible);
}

absl::StatusOr<std::shared_ptr<const ValidationPlan>> Catalog::PlanFor(
    absl::string_view group) const {
  const std::shared_ptr<const CatalogState> state = Snapshot();
  ASSIGN_OR_RETURN(const GroupEntry* entry, FindGroup(*state, group));
  return entry->plan;
}

}  // namespace fabrique::features
