#ifndef FABRIQUE_SERVICES_FEATURES_FEATURE_OWNERS_H_
#define FABRIQUE_SERVICES_FEATURES_FEATURE_OWNERS_H_

// Which squad owns what the feature store keeps, for the access guard's rules
// (libs/auth/tables/features.cc) and for the lists it filters. Entities and feature groups name
// their owner squad; a dataset belongs to the squad owning the group of its first feature, the
// data it was built from. Answered from the catalog's in-memory snapshot (a dataset costs one
// read of its record).

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/features.pb.h"
#include "libs/auth/method_table.h"
#include "libs/features/catalog/catalog_state.h"
#include "libs/features/store/feature_store.h"

namespace fabrique::services {

// The owner squad of feature group `name`; NOT_FOUND naming it.
absl::StatusOr<std::string> GroupOwner(const features::CatalogState& catalog,
                                       absl::string_view name);

// The owner squad of `dataset`; NOT_FOUND when its first feature's group is gone.
absl::StatusOr<std::string> DatasetOwner(const features::CatalogState& catalog,
                                         const v1::Dataset& dataset);

// The guard's owner lookup over `store` (not owned; must outlive it): entity, feature group and
// dataset; INTERNAL for another kind.
auth::OwnerLookup FeatureOwners(features::FeatureStore* store);

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_FEATURES_FEATURE_OWNERS_H_
