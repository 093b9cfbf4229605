#ifndef FABRIQUE_LIBS_TOWER_PORTFOLIO_FUNNEL_STATS_H_
#define FABRIQUE_LIBS_TOWER_PORTFOLIO_FUNNEL_STATS_H_

// The funnel's figures from use cases' histories: how many use cases stand in each stage now,
// and the median lead time of each stage, the time a use case spent in it before leaving it
// (entered at one history entry, left at the next). A stage left several times (back and forth)
// counts each stay. Stays not finished yet do not count, so a stage nobody has left has no
// median (0).

#include <vector>

#include "absl/time/time.h"
#include "fabrique/v1/tower.pb.h"

namespace fabrique::tower {

// Every stage in funnel order (IDEA first), with its count and median lead time.
std::vector<v1::FunnelStage> FunnelStages(const std::vector<v1::UseCase>& use_cases);

// The median of `durations` (the mean of the middle two for an even count); 0 when empty.
absl::Duration MedianDuration(std::vector<absl::Duration> durations);

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_PORTFOLIO_FUNNEL_STATS_H_
