#ifndef FABRIQUE_LIBS_TOWER_PORTFOLIO_FUNNEL_H_
#define FABRIQUE_LIBS_TOWER_PORTFOLIO_FUNNEL_H_

// The use-case funnel: IDEA -> QUALIFIED -> APPROVED -> BUILDING -> IN_PRODUCTION -> RETIRED.
//
// Moves allowed:
// - one step forward;
// - one step back, so that a use case can be sent back for more work (a qualified idea back to
//   IDEA, a build paused back to APPROVED, a model withdrawn from production back to BUILDING).
//   Going back to APPROVED needs no new approval: it was funded already;
// - RETIRED from any status. RETIRED is final: nothing leaves it.
// Skipping a stage is FAILED_PRECONDITION naming the statuses allowed next. The move forward to
// APPROVED is the only one that needs a USE_CASE approval (NeedsApproval).

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "fabrique/v1/tower.pb.h"

namespace fabrique::tower {

// Statuses a use case in `from` may move to, in funnel order.
std::vector<v1::UseCaseStatus> AllowedNext(v1::UseCaseStatus from);

// OK when `from` -> `to` is allowed; FAILED_PRECONDITION naming the allowed next statuses, or
// INVALID_ARGUMENT for UNSPECIFIED or an unknown status.
absl::Status CheckMove(v1::UseCaseStatus from, v1::UseCaseStatus to);

bool NeedsApproval(v1::UseCaseStatus from, v1::UseCaseStatus to);

// Every status in funnel order, IDEA first.
std::vector<v1::UseCaseStatus> FunnelOrder();

// "QUALIFIED" for USE_CASE_STATUS_QUALIFIED.
std::string StatusName(v1::UseCaseStatus status);

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_PORTFOLIO_FUNNEL_H_
