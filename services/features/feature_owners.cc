#include "services/features/feature_owners.h"

#include "absl/strings/str_cat.h"
#include "libs/auth/policy_syntax.h"
#include "libs/core/status_macros.h"

namespace fabrique::services {
namespace {

// A resource created before squads owned everything belongs to the platform: only a caller
// holding the permission in every squad reaches it, and may give it an owner.
std::string OrPlatform(std::string owner) {
  return owner.empty() ? std::string(auth::kAllSquads) : owner;
}

}  // namespace

absl::StatusOr<std::string> GroupOwner(const features::CatalogState& catalog,
                                       absl::string_view name) {
  auto it = catalog.groups.find(name);
  if (it == catalog.groups.end()) {
    return absl::NotFoundError(absl::StrCat("feature group '", name, "' does not exist"));
  }
  return OrPlatform(it->second->latest().spec().owner_squad());
}

absl::StatusOr<std::string> DatasetOwner(const features::CatalogState& catalog,
                                         const v1::Dataset& dataset) {
  if (dataset.features_size() == 0) {
    return absl::NotFoundError(
        absl::StrCat("dataset '", dataset.dataset_id(), "' reads no feature group"));
  }
  return GroupOwner(catalog, dataset.features(0).ref().group());
}

auth::OwnerLookup FeatureOwners(features::FeatureStore* store) {
  return [store](absl::string_view kind, absl::string_view name) -> absl::StatusOr<std::string> {
    if (kind == auth::kEntity) {
      ASSIGN_OR_RETURN(v1::Entity entity, store->catalog().GetEntity(name));
      return OrPlatform(entity.owner_squad());
    }
    if (kind == auth::kFeatureGroup) return GroupOwner(*store->catalog().Snapshot(), name);
    if (kind == auth::kDataset) {
      ASSIGN_OR_RETURN(v1::Dataset dataset, store->lineage().GetDataset(name));
      return DatasetOwner(*store->catalog().Snapshot(), dataset);
    }
    return absl::InternalError(absl::StrCat("the feature store owns no ", kind));
  };
}

}  // namespace fabrique::services
