#ifndef FABRIQUE_LIBS_FEATURES_CATALOG_CATALOG_LISTING_H_
#define FABRIQUE_LIBS_FEATURES_CATALOG_CATALOG_LISTING_H_

// The catalog's List calls, over one immutable snapshot (see catalog_state.h). Entities and
// groups come in name order; catalog entries by group name, then in the group's feature order.
// Pages follow catalog_pagination.h; a next_page_token is only returned when another matching
// item exists, so the last page never comes back empty.

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/features.pb.h"
#include "libs/features/catalog/catalog_state.h"

namespace fabrique::features {

// Whether the caller may see what `owner_squad` owns. Lists skip the rest before paging, so a
// page is full whenever more visible items exist.
using SquadFilter = absl::FunctionRef<bool(absl::string_view owner_squad)>;
inline bool AnySquad(absl::string_view) { return true; }

absl::StatusOr<v1::ListEntitiesResponse> ListEntitiesIn(const CatalogState& state,
                                                        const v1::ListEntitiesRequest& request,
                                                        SquadFilter visible = AnySquad);

// Filters: entity and owner_squad by equality, tags on the group's tags (all must match).
absl::StatusOr<v1::ListFeatureGroupsResponse> ListFeatureGroupsIn(
    const CatalogState& state, const v1::ListFeatureGroupsRequest& request,
    SquadFilter visible = AnySquad);

// Catalog search. `query` matches, ignoring case, a substring of the feature's name or
// description, or of its group's name or description. entity and owner_squad filter on the
// group; type on the feature; tags on the feature's tags, falling back to its group's tags for
// keys the feature does not set. used_by_models is left empty: lineage fills it.
absl::StatusOr<v1::ListFeaturesResponse> ListFeaturesIn(const CatalogState& state,
                                                        const v1::ListFeaturesRequest& request,
                                                        SquadFilter visible = AnySquad);

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_CATALOG_CATALOG_LISTING_H_
