// RegistryStore's listings, and its less frequent edits: model updates, alias removal, version
// deletion.

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/kv/key_range.h"
#include "libs/registry/promotion_gates.h"
#include "libs/registry/registry_records.h"
#include "libs/registry/registry_store.h"

namespace fabrique::registry {
namespace {

constexpr int kDefaultPage = 100;
constexpr int kMaxPage = 1000;

// Whether `tags` hold every filter: "key" (present) or "key=value".
bool HasTags(const google::protobuf::Map<std::string, std::string>& tags,
             const google::protobuf::RepeatedPtrField<std::string>& filters) {
  for (const std::string& filter : filters) {
    const size_t equals = filter.find('=');
    const std::string key = filter.substr(0, equals);
    const auto it = tags.find(key);
    if (it == tags.end()) return false;
    if (equals != std::string::npos && it->second != filter.substr(equals + 1)) return false;
  }
  return true;
}

// Whether `version` reports every metric of `filters` and each holds.
bool MeetsMetrics(const v1::ModelVersion& version,
                  const google::protobuf::RepeatedPtrField<v1::MetricThreshold>& filters) {
  for (const v1::MetricThreshold& filter : filters) {
    // The validation split's value when several splits report the metric, as gates read it.
    const v1::Metric* chosen = nullptr;
    for (const v1::Metric& metric : version.metrics()) {
      if (metric.name() != filter.metric()) continue;
      if (chosen == nullptr || metric.split() == "validation") chosen = &metric;
      if (metric.split() == "validation") break;
    }
    if (chosen == nullptr || !MetricHolds(chosen->value(), filter.op(), filter.value())) {
      return false;
    }
  }
  return true;
}

int PageSize(int requested) {
  return requested <= 0 ? kDefaultPage : std::min(requested, kMaxPage);
}

}  // namespace

absl::Status RegistryStore::DeleteAlias(const std::string& model, const std::string& alias,
                                        const v1::Principal& caller, const std::string& reason) {
  absl::MutexLock lock(&writer_);
  ASSIGN_OR_RETURN(v1::Model found, GetModel(model));
  ASSIGN_OR_RETURN(v1::Alias record, GetAlias(model, alias));
  ASSIGN_OR_RETURN(v1::PromotionPolicy policy, GetPromotionPolicy(model, alias));
  if (HasGates(policy)) {
    return absl::FailedPreconditionError(
        absl::StrCat("alias '", alias, "' of ", records::ModelWhat(model),
                     " has a promotion policy with gates: it is not removed by hand"));
  }
  RETURN_IF_ERROR(CheckAllowedRoles(policy, caller));
  found.mutable_aliases()->erase(alias);
  *found.mutable_update_time() = Now();
  kv::WriteBatch batch;
  batch.Delete(family_, records::AliasKey(model, alias));
  batch.Put(family_, records::ModelKey(model), found.SerializeAsString());
  Mutation mutation{caller, "alias.delete", absl::StrCat("models/", model, "/aliases/", alias),
                    records::Json(record), ""};
  mutation.reason = reason;
  v1::WatchEvent& event =
      mutation.events.emplace_back(records::Event(v1::WATCH_EVENT_TYPE_ALIAS_DELETED, model));
  event.mutable_alias()->set_model(model);
  event.mutable_alias()->set_name(alias);
  event.set_previous_version(record.version());
  return Commit(std::move(batch), std::move(mutation));
}

absl::StatusOr<std::vector<v1::Alias>> RegistryStore::ListAliases(const std::string& model) const {
  ASSIGN_OR_RETURN(v1::Model found, GetModel(model));
  std::vector<v1::Alias> aliases;
  for (const auto& [name, version] : found.aliases()) {
    ASSIGN_OR_RETURN(aliases.emplace_back(), GetAlias(model, name));
  }
  std::sort(aliases.begin(), aliases.end(),
            [](const v1::Alias& a, const v1::Alias& b) { return a.name() < b.name(); });
  return aliases;
}

absl::StatusOr<v1::ListModelsResponse> RegistryStore::ListModels(
    const v1::ListModelsRequest& request, SquadFilter visible) const {
  const int page =
      request.page_size() <= 0 ? kDefaultPage : std::min(request.page_size(), kMaxPage);
  const std::string first = std::max(request.page_token(), request.name_prefix());
  const kv::KeyRange all = kv::KeyRange::Prefix(kv::KeyBuilder().AddString("m").key());
  v1::ListModelsResponse response;
  absl::Status parsed;
  RETURN_IF_ERROR(options_.store->Scan(
      family_, kv::KeyRange::Between(records::ModelKey(first), all.end),
      [&](absl::string_view, absl::string_view value) {
        v1::Model model;
        if (!model.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          parsed = absl::DataLossError("a stored model is corrupt");
          return false;
        }
        if (!absl::StartsWith(model.name(), request.name_prefix())) return false;  // Past it.
        if ((!request.owner_squad().empty() && model.owner_squad() != request.owner_squad()) ||
            !visible(model.owner_squad())) {
          return true;
        }
        if (!request.use_case_id().empty() && model.use_case_id() != request.use_case_id()) {
          return true;
        }
        if (!HasTags(model.tags(), request.tags())) return true;
        if (response.models_size() == page) {
          response.set_next_page_token(model.name());
          return false;
        }
        *response.add_models() = std::move(model);
        return true;
      }));
  RETURN_IF_ERROR(parsed);
  return response;
}

absl::StatusOr<v1::ListVersionsResponse> RegistryStore::ListVersions(
    const v1::ListVersionsRequest& request, SquadFilter visible) const {
  const int page = PageSize(request.page_size());
  std::string start_model;
  int64_t start_number = 0;  // 0 = from the model's latest.
  if (!request.page_token().empty()) {
    const size_t colon = request.page_token().rfind(':');
    if (colon == std::string::npos ||
        !absl::SimpleAtoi(request.page_token().substr(colon + 1), &start_number)) {
      return absl::InvalidArgumentError(
          "ListVersionsRequest.page_token is not one this server gave");
    }
    start_model = request.page_token().substr(0, colon);
  }
  const std::set<std::string> wanted(request.models().begin(), request.models().end());
  v1::ListModelsRequest models_request;
  models_request.set_owner_squad(request.owner_squad());
  models_request.set_use_case_id(request.use_case_id());
  models_request.set_page_token(start_model);
  models_request.set_page_size(kMaxPage);
  v1::ListVersionsResponse response;
  while (true) {
    ASSIGN_OR_RETURN(v1::ListModelsResponse models, ListModels(models_request, visible));
    for (const v1::Model& model : models.models()) {
      if (!wanted.empty() && wanted.count(model.name()) == 0) continue;
      int64_t number = model.name() == start_model && start_number > 0
                           ? std::min(start_number, model.latest_version())
                           : model.latest_version();
      for (; number >= 1; --number) {
        // The model was just read: the version is read directly, not through GetVersion.
        absl::StatusOr<v1::ModelVersion> read = records::Read<v1::ModelVersion>(
            *options_.store, family_, records::VersionKey(model.name(), number),
            records::VersionWhat(model.name(), number));
        if (absl::IsNotFound(read.status())) continue;  // Deleted (numbers are never reused).
        ASSIGN_OR_RETURN(v1::ModelVersion version, std::move(read));
        records::FillAliases(model, &version);
        if (version.state() == v1::VERSION_STATE_ARCHIVED && !request.include_archived()) continue;
        if (!HasTags(version.tags(), request.tags()) ||
            !MeetsMetrics(version, request.metric_filters())) {
          continue;
        }
        if (response.versions_size() == page) {
          response.set_next_page_token(absl::StrCat(model.name(), ":", number));
          return response;
        }
        *response.add_versions() = std::move(version);
      }
    }
    if (models.next_page_token().empty()) return response;
    models_request.set_page_token(models.next_page_token());
  }
}

absl::StatusOr<v1::Model> RegistryStore::UpdateModel(const v1::Model& update,
                                                     const std::vector<std::string>& paths,
                                                     const v1::Principal& caller) {
  static const std::set<std::string> kMutable = {"description", "tags", "owner_squad",
                                                 "use_case_id", "entity"};
  for (const std::string& path : paths) {
    if (kMutable.count(path) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("field '", path,
                       "' of a model cannot be updated; updatable fields are "
                       "description, tags, owner_squad, use_case_id and entity"));
    }
  }
  // No mask means the four fields older clients know: the entity, which decides the standards a
  // model answers to, changes only when named.
  const std::set<std::string> chosen =
      paths.empty() ? std::set<std::string>{"description", "tags", "owner_squad", "use_case_id"}
                    : std::set<std::string>(paths.begin(), paths.end());
  absl::MutexLock lock(&writer_);
  ASSIGN_OR_RETURN(v1::Model model, GetModel(update.name()));
  const std::string before = records::Json(model);
  if (chosen.count("description")) model.set_description(update.description());
  if (chosen.count("tags")) *model.mutable_tags() = update.tags();
  if (chosen.count("owner_squad")) model.set_owner_squad(update.owner_squad());
  if (chosen.count("use_case_id")) model.set_use_case_id(update.use_case_id());
  if (chosen.count("entity")) {
    if (!update.entity().empty()) RETURN_IF_ERROR(records::CheckName(update.entity(), "entity"));
    model.set_entity(update.entity());
  }
  *model.mutable_update_time() = Now();
  kv::WriteBatch batch;
  batch.Put(family_, records::ModelKey(model.name()), model.SerializeAsString());
  Mutation mutation{caller, "model.update", absl::StrCat("models/", model.name()), before,
                    records::Json(model)};
  *mutation.events.emplace_back(records::Event(v1::WATCH_EVENT_TYPE_MODEL_UPDATED, model.name()))
       .mutable_model_object() = model;
  RETURN_IF_ERROR(Commit(std::move(batch), std::move(mutation)));
  return model;
}

absl::Status RegistryStore::DeleteVersion(const std::string& model, int64_t number,
                                          const v1::Principal& caller) {
  absl::MutexLock lock(&writer_);
  ASSIGN_OR_RETURN(v1::ModelVersion version, GetVersion(model, number));
  if (version.state() != v1::VERSION_STATE_ARCHIVED) {
    return absl::FailedPreconditionError(
        absl::StrCat(records::VersionWhat(model, number),
                     " is active: archive it first (which releases its aliases)"));
  }
  kv::WriteBatch batch;
  batch.Delete(family_, records::VersionKey(model, number));
  Mutation mutation{caller, "version.delete", absl::StrCat("models/", model, "/versions/", number),
                    records::Json(version), ""};
  *mutation.events.emplace_back(records::Event(v1::WATCH_EVENT_TYPE_VERSION_DELETED, model))
       .mutable_version() = version;
  return Commit(std::move(batch), std::move(mutation));
}

absl::Status RegistryStore::ForEachVersion(
    absl::FunctionRef<void(const v1::ModelVersion&)> visit) const {
  absl::Status parsed;
  RETURN_IF_ERROR(options_.store->Scan(
      family_, kv::KeyRange::Prefix(kv::KeyBuilder().AddString("v").key()),
      [&](absl::string_view, absl::string_view value) {
        v1::ModelVersion version;
        if (!version.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          parsed = absl::DataLossError("a stored version is corrupt");
          return false;
        }
        visit(version);
        return true;
      }));
  return parsed;
}

absl::Status RegistryStore::WithReferencedArtifacts(
    absl::FunctionRef<absl::Status(const absl::flat_hash_set<std::string>&)> use) {
  absl::MutexLock lock(&writer_);
  absl::flat_hash_set<std::string> referenced;
  RETURN_IF_ERROR(ForEachVersion([&](const v1::ModelVersion& version) {
    for (const v1::VersionArtifact& artifact : version.artifacts()) {
      referenced.insert(absl::AsciiStrToLower(artifact.artifact().sha256()));
    }
  }));
  return use(referenced);
}

absl::StatusOr<bool> RegistryStore::ArtifactReferenced(absl::string_view sha256,
                                                       SquadFilter visible) const {
  const std::string digest = absl::AsciiStrToLower(sha256);
  std::set<std::string> models;  // Those with a version referencing it.
  RETURN_IF_ERROR(ForEachVersion([&](const v1::ModelVersion& version) {
    for (const v1::VersionArtifact& artifact : version.artifacts()) {
      if (absl::AsciiStrToLower(artifact.artifact().sha256()) == digest) {
        models.insert(version.model());
        return;
      }
    }
  }));
  for (const std::string& name : models) {
    absl::StatusOr<v1::Model> model = GetModel(name);
    if (absl::IsNotFound(model.status())) continue;
    RETURN_IF_ERROR(model.status());
    if (visible(model->owner_squad())) return true;
  }
  return false;
}

}  // namespace fabrique::registry
