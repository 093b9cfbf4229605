#ifndef FABRIQUE_LIBS_FEATURES_STORE_PERSONAL_LINEAGE_H_
#define FABRIQUE_LIBS_FEATURES_STORE_PERSONAL_LINEAGE_H_

// "Which models were trained on personal data": the datasets that joined a feature classified
// PERSONAL_DATA (as a feature or as the label) of a squad's groups, and the model versions
// recorded as trained on them. The classification asked about is the current one: data that is
// personal now was personal when it was read, whenever it was classified.

#include "absl/status/statusor.h"
#include "fabrique/v1/features.pb.h"
#include "libs/features/catalog/catalog_state.h"
#include "libs/features/lineage/lineage_store.h"

namespace fabrique::features {

// The personal-data lineage of `request.owner_squad()`'s groups (only `request.group()` when
// set), datasets newest first and model versions in (model, version) order. INVALID_ARGUMENT
// without a squad, or for a group of another squad; NOT_FOUND for a group that does not exist.
absl::StatusOr<v1::PersonalDataLineage> PersonalDataLineageOf(
    const CatalogState& catalog, const LineageStore& lineage,
    const v1::GetPersonalDataLineageRequest& request);

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORE_PERSONAL_LINEAGE_H_
