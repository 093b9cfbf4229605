#include "libs/registry/registry_store.h"

#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "libs/core/status_macros.h"
#include "libs/registry/registry_records.h"
#include "libs/registry/standards.h"

namespace fabrique::registry {

using records::AliasKey;
using records::CheckName;
using records::Event;
using records::Json;
using records::ModelKey;
using records::ModelWhat;
using records::Read;
using records::VersionKey;
using records::VersionWhat;

absl::StatusOr<std::unique_ptr<RegistryStore>> RegistryStore::Create(Options options) {
  if (options.store == nullptr || options.log == nullptr) {
    return absl::InvalidArgumentError("RegistryStoreOptions needs a store and a log");
  }
  if (options.clock == nullptr) options.clock = core::Clock::Real();
  if (!options.artifact_size) {
    options.artifact_size = [](const std::string&) -> absl::StatusOr<int64_t> { return -1; };
  }
  absl::StatusOr<kv::ColumnFamily> family = options.store->Family(options.family);
  if (absl::IsNotFound(family.status())) family = options.store->CreateFamily(options.family);
  if (!family.ok()) return family.status();
  return std::unique_ptr<RegistryStore>(new RegistryStore(std::move(options), *family));
}

google::protobuf::Timestamp RegistryStore::Now() const {
  return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
      absl::ToUnixMicros(options_.clock->Now()));
}

absl::Status RegistryStore::Commit(kv::WriteBatch batch, Mutation mutation) {
  ASSIGN_OR_RETURN(Staged staged, options_.log->Stage(std::move(mutation), &batch));
  RETURN_IF_ERROR(options_.store->Write(batch, kv::SyncMode::kSync));
  options_.log->Advance(staged);
  return absl::OkStatus();
}

absl::StatusOr<v1::Model> RegistryStore::CreateModel(v1::Model model, const v1::Principal& caller) {
  RETURN_IF_ERROR(CheckName(model.name(), "model"));
  if (!model.entity().empty()) RETURN_IF_ERROR(CheckName(model.entity(), "entity"));
  absl::MutexLock lock(&writer_);
  absl::StatusOr<v1::Model> existing = GetModel(model.name());
  if (existing.ok()) {
    return absl::AlreadyExistsError(absl::StrCat(ModelWhat(model.name()), " already exists"));
  }
  if (!absl::IsNotFound(existing.status())) return existing.status();
  model.set_latest_version(0);
  model.clear_aliases();
  *model.mutable_create_time() = *model.mutable_update_time() = Now();
  *model.mutable_created_by() = caller;
  kv::WriteBatch batch;
  batch.Put(family_, ModelKey(model.name()), model.SerializeAsString());
  Mutation mutation{caller, "model.create", absl::StrCat("models/", model.name()), "", Json(model)};
  v1::WatchEvent& event =
      mutation.events.emplace_back(Event(v1::WATCH_EVENT_TYPE_MODEL_CREATED, model.name()));
  *event.mutable_model_object() = model;
  RETURN_IF_ERROR(Commit(std::move(batch), std::move(mutation)));
  return model;
}

absl::StatusOr<v1::Model> RegistryStore::GetModel(const std::string& name) const {
  return Read<v1::Model>(*options_.store, family_, ModelKey(name), ModelWhat(name));
}

absl::StatusOr<std::string> RegistryStore::Retried(absl::string_view kind,
                                                   const std::string& request_id) const {
  return options_.store->Get(family_, records::IdempotencyKey(kind, request_id));
}

absl::StatusOr<v1::ModelVersion> RegistryStore::RegisterVersion(v1::ModelVersion version,
                                                                const v1::Principal& caller,
                                                                const std::string& request_id) {
  // Checked under the writer lock, which garbage collection holds too (WithReferencedArtifacts).
  absl::MutexLock lock(&writer_);
  if (!request_id.empty()) {
    absl::StatusOr<std::string> earlier = Retried("v", request_id);
    if (earlier.ok()) {
      v1::ModelVersionRef ref;
      if (!ref.ParseFromString(*earlier)) {
        return absl::DataLossError(absl::StrCat("request_id '", request_id, "' is corrupt"));
      }
      if (ref.model() != version.model()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "request_id '", request_id, "' already registered ",
            VersionWhat(ref.model(), ref.version()), ", not a version of ",
            ModelWhat(version.model()), ": use a new request_id for a new registration"));
      }
      return GetVersion(ref.model(), ref.version());
    }
    if (!absl::IsNotFound(earlier.status())) return earlier.status();
  }
  std::set<std::string> names;
  for (v1::VersionArtifact& artifact : *version.mutable_artifacts()) {
    if (!names.insert(artifact.name()).second) {
      return absl::InvalidArgumentError(absl::StrCat("two artifacts of the version are named '",
                                                     artifact.name(), "': name each once"));
    }
    const std::string digest = absl::AsciiStrToLower(artifact.artifact().sha256());
    const absl::StatusOr<int64_t> stored = options_.artifact_size(digest);
    if (absl::IsNotFound(stored.status())) {
      return absl::FailedPreconditionError(
          absl::StrCat("artifact '", artifact.name(), "' (", digest,
                       ") was never uploaded: upload it, then register the version"));
    }
    RETURN_IF_ERROR(stored.status());
    const int64_t claimed = artifact.artifact().size_bytes();
    if (*stored >= 0 && claimed > 0 && claimed != *stored) {
      return absl::InvalidArgumentError(absl::StrCat(
          "artifact '", artifact.name(), "' (", digest, ") is ", *stored, " bytes, not the ",
          claimed, " the version says: leave size_bytes unset or correct it"));
    }
    artifact.mutable_artifact()->set_sha256(digest);
    if (*stored >= 0) artifact.mutable_artifact()->set_size_bytes(*stored);
  }
  ASSIGN_OR_RETURN(v1::Model model, GetModel(version.model()));
  version.set_version(model.latest_version() + 1);
  version.set_state(v1::VERSION_STATE_ACTIVE);
  version.clear_evaluations();  // Appended later, each with its author (AppendEvaluation).
  *version.mutable_registered_by() = caller;
  *version.mutable_register_time() = Now();
  model.set_latest_version(version.version());
  *model.mutable_update_time() = version.register_time();
  kv::WriteBatch batch;
  batch.Put(family_, VersionKey(model.name(), version.version()), version.SerializeAsString());
  batch.Put(family_, ModelKey(model.name()), model.SerializeAsString());
  if (!request_id.empty()) {
    v1::ModelVersionRef ref;
    ref.set_model(model.name());
    ref.set_version(version.version());
    batch.Put(family_, records::IdempotencyKey("v", request_id), ref.SerializeAsString());
  }
  Mutation mutation{caller, "version.register",
                    absl::StrCat("models/", model.name(), "/versions/", version.version()), "",
                    Json(version)};
  *mutation.events.emplace_back(Event(v1::WATCH_EVENT_TYPE_VERSION_REGISTERED, model.name()))
       .mutable_version() = version;
  RETURN_IF_ERROR(Commit(std::move(batch), std::move(mutation)));
  return version;
}

absl::StatusOr<v1::ModelVersion> RegistryStore::GetVersion(const std::string& model,
                                                           int64_t number) const {
  ASSIGN_OR_RETURN(v1::Model found, GetModel(model));
  ASSIGN_OR_RETURN(v1::ModelVersion version,
                   Read<v1::ModelVersion>(*options_.store, family_, VersionKey(model, number),
                                          VersionWhat(model, number)));
  records::FillAliases(found, &version);
  return version;
}

absl::StatusOr<v1::ModelVersion> RegistryStore::ReadVersion(const std::string& model,
                                                            int64_t number) const {
  RETURN_IF_ERROR(GetModel(model).status());
  return Read<v1::ModelVersion>(*options_.store, family_, VersionKey(model, number),
                                VersionWhat(model, number));
}

absl::StatusOr<v1::Alias> RegistryStore::SetAlias(const std::string& model,
                                                  const std::string& alias, int64_t number,
                                                  const v1::Principal& caller,
                                                  int64_t expected_current,
                                                  const std::string& reason) {
  RETURN_IF_ERROR(CheckName(alias, "alias"));
  absl::MutexLock lock(&writer_);
  ASSIGN_OR_RETURN(v1::Model found, GetModel(model));
  // A policy with gates is moved through RequestPromotion; a protected alias by its roles only.
  absl::StatusOr<v1::PromotionPolicy> policy = GetPromotionPolicy(model, alias);
  if (!policy.ok()) return policy.status();
  if (HasGates(*policy)) {
    return absl::FailedPreconditionError(
        absl::StrCat("alias '", alias, "' of ", ModelWhat(model),
                     " has a promotion policy with gates: move it with RequestPromotion"));
  }
  // A standard's rules are gates too: only a promotion checks them.
  ASSIGN_OR_RETURN(const std::vector<v1::Standard> standards, StandardsFor(found, alias));
  if (!standards.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("alias '", alias, "' of ", ModelWhat(model), " is governed by standard '",
                     standards.front().name(), "' (", ScopeText(standards.front()),
                     "): move it with RequestPromotion"));
  }
  RETURN_IF_ERROR(CheckAllowedRoles(*policy, caller));
  const auto held = found.aliases().find(alias);
  const int64_t previous = held == found.aliases().end() ? 0 : held->second;
  if (expected_current > 0 && previous != expected_current) {
    return absl::AbortedError(
        absl::StrCat("alias '", alias, "' of ", ModelWhat(model), " holds ",
                     previous == 0 ? "no version" : absl::StrCat("version ", previous),
                     ", not the expected version ", expected_current, ": read it again and retry"));
  }
  kv::WriteBatch batch;
  Mutation mutation{caller, "alias.set", absl::StrCat("models/", model, "/aliases/", alias)};
  mutation.reason = reason;
  ASSIGN_OR_RETURN(v1::Alias record,
                   StageAliasMove(&found, alias, number, caller, "", &batch, &mutation));
  RETURN_IF_ERROR(Commit(std::move(batch), std::move(mutation)));
  return record;
}

absl::StatusOr<v1::Alias> RegistryStore::StageAliasMove(v1::Model* model, const std::string& alias,
                                                        int64_t number, const v1::Principal& caller,
                                                        const std::string& promotion_request_id,
                                                        kv::WriteBatch* batch, Mutation* mutation) {
  const std::string& name = model->name();
  ASSIGN_OR_RETURN(v1::ModelVersion version, GetVersion(name, number));
  if (version.state() == v1::VERSION_STATE_ARCHIVED) {
    return absl::FailedPreconditionError(
        absl::StrCat(VersionWhat(name, number), " is archived: an alias cannot point at it"));
  }
  const auto held = model->aliases().find(alias);
  const int64_t previous = held == model->aliases().end() ? 0 : held->second;
  v1::Alias record;
  record.set_model(name);
  record.set_name(alias);
  record.set_version(number);
  *record.mutable_update_time() = Now();
  *record.mutable_updated_by() = caller;
  record.set_promotion_request_id(promotion_request_id);
  absl::StatusOr<v1::Alias> before = GetAlias(name, alias);
  if (mutation->before_json.empty() && before.ok()) mutation->before_json = Json(*before);
  if (mutation->after_json.empty()) mutation->after_json = Json(record);
  (*model->mutable_aliases())[alias] = number;
  *model->mutable_update_time() = record.update_time();
  batch->Put(family_, AliasKey(name, alias), record.SerializeAsString());
  batch->Put(family_, ModelKey(name), model->SerializeAsString());
  v1::WatchEvent& event =
      mutation->events.emplace_back(Event(v1::WATCH_EVENT_TYPE_ALIAS_SET, name));
  *event.mutable_alias() = record;
  event.set_previous_version(previous);
  return record;
}

absl::StatusOr<v1::Alias> RegistryStore::GetAlias(const std::string& model,
                                                  const std::string& alias) const {
  return Read<v1::Alias>(*options_.store, family_, AliasKey(model, alias),
                         absl::StrCat("alias '", alias, "' of ", ModelWhat(model)));
}

absl::StatusOr<v1::ModelVersion> RegistryStore::ArchiveVersion(const std::string& model,
                                                               int64_t number,
                                                               const v1::Principal& caller,
                                                               const std::string& reason) {
  absl::MutexLock lock(&writer_);
  ASSIGN_OR_RETURN(v1::Model found, GetModel(model));
  ASSIGN_OR_RETURN(v1::ModelVersion version, ReadVersion(model, number));
  if (version.state() == v1::VERSION_STATE_ARCHIVED) return version;
  const std::string before = Json(version);
  version.set_state(v1::VERSION_STATE_ARCHIVED);
  kv::WriteBatch batch;
  *version.mutable_archive_time() = Now();
  Mutation mutation{caller, "version.archive", absl::StrCat("models/", model, "/versions/", number),
                    before, Json(version)};
  mutation.reason = reason;
  // Every alias holding it lets go of it, in the same mutation.
  std::vector<std::string> released;
  for (const auto& [alias, held] : found.aliases()) {
    if (held == number) released.push_back(alias);
  }
  for (const std::string& alias : released) {
    found.mutable_aliases()->erase(alias);
    batch.Delete(family_, AliasKey(model, alias));
    v1::WatchEvent& event =
        mutation.events.emplace_back(Event(v1::WATCH_EVENT_TYPE_ALIAS_DELETED, model));
    event.mutable_alias()->set_model(model);
    event.mutable_alias()->set_name(alias);
    event.set_previous_version(number);
  }
  *found.mutable_update_time() = Now();
  batch.Put(family_, VersionKey(model, number), version.SerializeAsString());
  batch.Put(family_, ModelKey(model), found.SerializeAsString());
  *mutation.events.emplace_back(Event(v1::WATCH_EVENT_TYPE_VERSION_ARCHIVED, model))
       .mutable_version() = version;
  RETURN_IF_ERROR(Commit(std::move(batch), std::move(mutation)));
  return version;
}

}  // namespace fabrique::registry
