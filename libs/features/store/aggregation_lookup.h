#ifndef FABRIQUE_LIBS_FEATURES_STORE_AGGREGATION_LOOKUP_H_
#define FABRIQUE_LIBS_FEATURES_STORE_AGGREGATION_LOOKUP_H_

// Online lookup of a request that names aggregation features: the plain features are read in
// one call of the online reader, the aggregation features are computed from the tiles as of the
// clock's now (the window slides with the clock, with no write), and the columns come back in
// request order. An aggregation value is PRESENT with its window's value, or MISSING when the
// window is empty (COUNT: PRESENT 0); its event time, when asked for, is the as-of time.

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "fabrique/v1/features.pb.h"
#include "libs/features/catalog/catalog_state.h"
#include "libs/features/store/aggregation_groups.h"

namespace fabrique::features {

using PlainLookup =
    absl::FunctionRef<absl::Status(const v1::LookupOnlineRequest&, v1::LookupOnlineResponse*)>;

// Every group named must be in `state`. NOT_FOUND for an unknown aggregation feature;
// INVALID_ARGUMENT for entity keys that do not fit; `plain`'s errors; with `memory_only`, the
// tile reads fail rather than read the disk (see FeatureStore::LookupOnline).
absl::Status LookupWithAggregations(const v1::LookupOnlineRequest& request,
                                    const CatalogState& state,
                                    const AggregationGroups& aggregations, PlainLookup plain,
                                    v1::LookupOnlineResponse* response, bool memory_only = false);

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORE_AGGREGATION_LOOKUP_H_
