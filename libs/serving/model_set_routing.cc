// The model set's read side: routing a request, readiness and the status report.

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/serving/model_set.h"
#include "libs/serving/model_set_entry.h"

namespace fabrique::serving {
namespace {

std::string ServedNumbers(const std::map<int64_t, std::shared_ptr<ServedVersion>>& versions) {
  if (versions.empty()) return "none";
  return absl::StrJoin(versions, ", ", [](std::string* out, const auto& entry) {
    absl::StrAppend(out, entry.first);
  });
}

// UNAVAILABLE for a version that cannot answer yet (or any more), saying why.
absl::Status NotAnswering(const ServedVersion& version) {
  const VersionState state = version.state();
  std::string reason = version.failure_reason();
  return absl::UnavailableError(absl::StrCat("model '", version.model(), "' version ",
                                             version.version(), " is ", VersionStateName(state),
                                             reason.empty() ? "" : absl::StrCat(": ", reason)));
}

bool HasAlias(const ServedVersion& version, const std::string& alias) {
  const auto& aliases = version.record().aliases();
  return std::find(aliases.begin(), aliases.end(), alias) != aliases.end();
}

}  // namespace

absl::string_view ServingRoleName(ServingRole role) {
  return role == ServingRole::kPrimary ? "primary" : "candidate";
}

absl::StatusOr<Route> ModelSet::Resolve(const std::string& model, int64_t version,
                                        const std::string& alias,
                                        const std::string& routing_key) const {
  absl::StatusOr<Route> route;
  {
    absl::ReaderMutexLock lock(&mu_);
    if (stopping_) return absl::UnavailableError("the model set is stopping");
    const auto it = models_.find(model);
    if (it == models_.end()) {
      std::vector<std::string> served;
      for (const auto& [name, entry] : models_) served.push_back(name);
      return absl::NotFoundError(absl::StrCat(
          "model '", model,
          "' is not served here; served: ", served.empty() ? "none" : absl::StrJoin(served, ", ")));
    }
    const ModelEntry& entry = *it->second;
    if (version > 0) return ResolveNumber(entry, version);
    if (!alias.empty()) return ResolveAlias(entry, alias);
    route = ResolvePolicy(entry, routing_key);
  }
  if (route.ok() && options_.observer != nullptr) {
    options_.observer->OnPolicyRoute(model, route->canary, route->shadow != nullptr);
  }
  return route;
}

absl::StatusOr<Route> ModelSet::ResolveNumber(const ModelEntry& entry, int64_t number) const {
  const auto it = entry.versions.find(number);
  if (it == entry.versions.end()) {
    return absl::NotFoundError(
        absl::StrCat("model '", entry.name, "' version ", number,
                     " is not served here; served versions: ", ServedNumbers(entry.versions)));
  }
  if (it->second->state() != VersionState::kReady) return NotAnswering(*it->second);
  Route route;
  route.version = it->second;
  return route;
}

absl::StatusOr<Route> ModelSet::ResolveAlias(const ModelEntry& entry,
                                             const std::string& alias) const {
  // The policy's aliases answer with the version switched to (the previous one until the
  // planned one is READY); other registry aliases with the version whose record carries them.
  const bool primary = alias == entry.policy.primary_alias() && entry.planned_primary > 0;
  const bool candidate = alias == entry.policy.candidate_alias() && entry.planned_candidate > 0;
  std::shared_ptr<ServedVersion> found = primary     ? entry.primary
                                         : candidate ? entry.candidate
                                                     : nullptr;
  if (found == nullptr && (primary || candidate)) {
    const int64_t planned = primary ? entry.planned_primary : entry.planned_candidate;
    return NotAnswering(*entry.versions.at(planned));
  }
  for (auto it = entry.versions.begin(); found == nullptr && it != entry.versions.end(); ++it) {
    if (HasAlias(*it->second, alias)) found = it->second;
  }
  if (found == nullptr) {
    return absl::NotFoundError(absl::StrCat("model '", entry.name,
                                            "' has no served version under alias '", alias,
                                            "'; its policy serves '", entry.policy.primary_alias(),
                                            "' and '", entry.policy.candidate_alias(), "'"));
  }
  if (found->state() != VersionState::kReady) return NotAnswering(*found);
  Route route;
  route.version = std::move(found);
  route.alias = alias;
  return route;
}

absl::StatusOr<Route> ModelSet::ResolvePolicy(const ModelEntry& entry,
                                              const std::string& routing_key) const {
  if (entry.primary == nullptr) {
    if (entry.planned_primary == 0) {
      return absl::NotFoundError(
          absl::StrCat("model '", entry.name, "' has no version under its primary alias '",
                       entry.policy.primary_alias(), "'; set the alias in the registry"));
    }
    return NotAnswering(*entry.versions.at(entry.planned_primary));
  }
  Route route;
  route.version = entry.primary;
  route.alias = entry.policy.primary_alias();
  if (entry.candidate == nullptr) return route;
  route.by_key = true;
  const double percent = entry.policy.canary_percent();
  const bool at_random =
      routing_key.empty() || entry.policy.canary_routing() == v1::CANARY_ROUTING_RANDOM;
  const bool canary = at_random ? router_.AtRandom(percent)
                                : CanaryRouter::ByEntity(entry.name, routing_key, percent);
  if (canary) {
    route.version = entry.candidate;
    route.alias = entry.policy.candidate_alias();
    route.canary = true;
  } else if (entry.policy.shadow()) {
    route.shadow = entry.candidate;
  }
  return route;
}

bool ModelSet::Ready() const {
  absl::ReaderMutexLock lock(&mu_);
  if (!applied_ || stopping_) return false;
  for (const auto& [name, entry] : models_) {
    if (entry->planned_primary > 0 && entry->primary == nullptr) return false;
  }
  return true;
}

std::vector<ServedModelStatus> ModelSet::Status() const {
  // Draining versions are held while reported; one whose last request ends meanwhile is
  // released here, after the lock (its release stops a batcher whose callbacks may call in).
  std::vector<std::shared_ptr<ServedVersion>> held;
  std::vector<ServedModelStatus> models;
  absl::ReaderMutexLock lock(&mu_);
  models.reserve(models_.size());
  for (const auto& [name, entry] : models_) models.push_back(StatusOf(*entry, held));
  return models;
}

ServedModelStatus ModelSet::StatusOf(const ModelEntry& entry,
                                     std::vector<std::shared_ptr<ServedVersion>>& held) const {
  ServedModelStatus status;
  status.model = entry.name;
  status.policy = entry.policy;
  status.primary_version = entry.primary != nullptr ? entry.primary->version() : 0;
  status.candidate_version = entry.candidate != nullptr ? entry.candidate->version() : 0;
  status.planned_primary_version = entry.planned_primary;
  status.planned_candidate_version = entry.planned_candidate;
  std::vector<std::shared_ptr<ServedVersion>> versions;
  for (const auto& [number, version] : entry.versions) versions.push_back(version);
  const size_t first_held = held.size();
  for (const auto& [number, weak] : entry.unloading) {
    if (auto draining = weak.lock()) held.push_back(std::move(draining));
  }
  versions.insert(versions.end(), held.begin() + first_held, held.end());
  std::sort(versions.begin(), versions.end(),
            [](const auto& a, const auto& b) { return a->version() < b->version(); });
  for (const auto& version : versions) {
    ServedVersionStatus& out = status.versions.emplace_back();
    out.version = version->version();
    out.aliases.assign(version->record().aliases().begin(), version->record().aliases().end());
    const auto add_alias = [&out](const std::string& alias) {
      if (std::find(out.aliases.begin(), out.aliases.end(), alias) == out.aliases.end()) {
        out.aliases.push_back(alias);
      }
    };
    if (out.version == entry.planned_primary) add_alias(entry.policy.primary_alias());
    if (out.version == entry.planned_candidate) add_alias(entry.policy.candidate_alias());
    out.state = version->state();
    out.failure_reason = version->failure_reason();
    out.load_time = version->load_time();
    out.device = version->device();
    out.module_sha256 = version->module_sha256();
    out.queued_rows = version->queued_rows();
  }
  return status;
}

}  // namespace fabrique::serving
