#ifndef FABRIQUE_LIBS_SERVING_LOOKUP_MERGE_H_
#define FABRIQUE_LIBS_SERVING_LOOKUP_MERGE_H_

// Joining the online lookups of concurrent requests into one call to the feature store and
// handing each request its own rows back: the plain-data half of the FeatureLookupBatcher.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fabrique/v1/features.pb.h"

namespace fabrique::serving {

// Lookups with the same key can be merged: the same features in the same order, the same entity
// names in the same order, and the same include_event_times.
std::string LookupMergeKey(const v1::LookupOnlineRequest& request);

// The rows `request` asks. INVALID_ARGUMENT when it has no entity keys, no rows, or entity key
// columns of different lengths (naming both entities).
absl::StatusOr<int64_t> LookupRows(const v1::LookupOnlineRequest& request);

// One request asking the rows of every part, in order: each entity's keys concatenated. The parts
// must share one LookupMergeKey.
v1::LookupOnlineRequest MergeLookups(const std::vector<const v1::LookupOnlineRequest*>& parts);

// OK when `response` answers `request` with `rows` rows: one column per feature asked, in order,
// each with one status and one value per row. INTERNAL otherwise, naming the feature (the store
// broke its contract; retrying would not help).
absl::Status CheckLookupAnswer(const v1::LookupOnlineRequest& request,
                               const v1::LookupOnlineResponse& response, int64_t rows);

// Rows [begin, begin + count) of an answer that passed CheckLookupAnswer, every column (values,
// null flags, statuses, event times) sliced alike.
v1::LookupOnlineResponse SliceLookup(const v1::LookupOnlineResponse& response, int64_t begin,
                                     int64_t count);

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_LOOKUP_MERGE_H_
