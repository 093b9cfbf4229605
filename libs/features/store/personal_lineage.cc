#include "libs/features/store/personal_lineage.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"

namespace fabrique::features {
namespace {

bool IsPersonal(const GroupEntry& entry, const std::string& feature) {
  return std::binary_search(entry.personal.begin(), entry.personal.end(), feature);
}

// The groups asked about: the squad's, or the one named, each with personal features.
absl::StatusOr<std::vector<std::pair<std::string, const GroupEntry*>>> GroupsAsked(
    const CatalogState& catalog, const v1::GetPersonalDataLineageRequest& request) {
  std::vector<std::pair<std::string, const GroupEntry*>> groups;
  if (!request.group().empty()) {
    auto it = catalog.groups.find(request.group());
    if (it == catalog.groups.end()) {
      return absl::NotFoundError(
          absl::StrCat("feature group \"", request.group(), "\" does not exist"));
    }
    const std::string& owner = it->second->latest().spec().owner_squad();
    if (owner != request.owner_squad()) {
      return absl::InvalidArgumentError(absl::StrCat("feature group \"", request.group(),
                                                     "\" belongs to squad ", owner, ", not ",
                                                     request.owner_squad()));
    }
    if (!it->second->personal.empty()) groups.emplace_back(it->first, it->second.get());
    return groups;
  }
  for (const auto& [name, entry] : catalog.groups) {
    if (entry->latest().spec().owner_squad() == request.owner_squad() && !entry->personal.empty()) {
      groups.emplace_back(name, entry.get());
    }
  }
  return groups;
}

}  // namespace

absl::StatusOr<v1::PersonalDataLineage> PersonalDataLineageOf(
    const CatalogState& catalog, const LineageStore& lineage,
    const v1::GetPersonalDataLineageRequest& request) {
  if (request.owner_squad().empty()) {
    return absl::InvalidArgumentError("GetPersonalDataLineageRequest.owner_squad is required");
  }
  ASSIGN_OR_RETURN(const auto groups, GroupsAsked(catalog, request));
  // By dataset id, which sorts by creation time: reverse order is newest first.
  std::map<std::string, v1::PersonalDataset> datasets;
  std::map<std::pair<std::string, int64_t>, v1::ModelDependency> models;
  for (const auto& [name, entry] : groups) {
    ASSIGN_OR_RETURN(v1::FeatureGroupLineage group_lineage, lineage.GroupLineage(name));
    for (v1::Dataset& dataset : *group_lineage.mutable_datasets()) {
      std::vector<const v1::VersionedFeatureRef*> personal;
      for (const v1::VersionedFeatureRef& feature : dataset.features()) {
        if (feature.ref().group() == name && IsPersonal(*entry, feature.ref().feature())) {
          personal.push_back(&feature);
        }
      }
      const bool personal_label = dataset.label_feature().group() == name &&
                                  IsPersonal(*entry, dataset.label_feature().feature());
      if (personal.empty() && !personal_label) continue;
      v1::PersonalDataset& found = datasets[dataset.dataset_id()];
      for (const v1::VersionedFeatureRef* feature : personal) {
        *found.add_personal_features() = feature->ref();
      }
      if (personal_label) *found.add_personal_features() = dataset.label_feature();
      for (const v1::ModelVersionRef& user : dataset.used_by()) {
        v1::ModelDependency& dependency = models[{user.model(), user.version()}];
        *dependency.mutable_model_version() = user;
        if (std::find(dependency.dataset_ids().begin(), dependency.dataset_ids().end(),
                      dataset.dataset_id()) == dependency.dataset_ids().end()) {
          dependency.add_dataset_ids(dataset.dataset_id());
        }
        for (const v1::VersionedFeatureRef* feature : personal) {
          *dependency.add_features() = *feature;
        }
      }
      if (!found.has_dataset()) *found.mutable_dataset() = std::move(dataset);
    }
  }
  v1::PersonalDataLineage answer;
  answer.set_owner_squad(request.owner_squad());
  for (auto it = datasets.rbegin(); it != datasets.rend(); ++it) {
    *answer.add_datasets() = std::move(it->second);
  }
  for (auto& [key, dependency] : models) *answer.add_models() = std::move(dependency);
  return answer;
}

}  // namespace fabrique::features
