#ifndef FABRIQUE_LIBS_TOWER_APPROVALS_APPROVAL_RULES_H_
#define FABRIQUE_LIBS_TOWER_APPROVALS_APPROVAL_RULES_H_

// Who decides an approval of each kind, how many of them, and for how long it stays open. Until
// SetApprovalRule says otherwise:
//   USE_CASE           design-authority x1, 7 days (demand management approves use cases)
//   QUOTA_INCREASE     design-authority x1, 7 days (it validates capacity)
//   BUDGET_OVERRUN     platform-admin x1, 7 days
//   ENTITY_ONBOARDING  platform-admin x1, 7 days

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "fabrique/v1/tower.pb.h"

namespace fabrique::tower {

inline constexpr absl::Duration kDefaultApprovalTtl = absl::Hours(24 * 7);

// The kinds an approval can be, in the order rules are listed.
inline constexpr v1::ApprovalKind kApprovalKinds[] = {
    v1::APPROVAL_KIND_USE_CASE, v1::APPROVAL_KIND_QUOTA_INCREASE, v1::APPROVAL_KIND_BUDGET_OVERRUN,
    v1::APPROVAL_KIND_ENTITY_ONBOARDING};

// The rule of `kind` when none was set.
v1::ApprovalRule DefaultApprovalRule(v1::ApprovalKind kind);

// INVALID_ARGUMENT naming the field when `rule` cannot be used: no kind, no role, a negative
// number of approvals or a negative ttl.
absl::Status ValidateApprovalRule(const v1::ApprovalRule& rule);

// "use-case", "quota-increase", "budget-overrun", "entity-onboarding" (as the CLI spells them).
std::string ApprovalKindName(v1::ApprovalKind kind);

// The payload field `kind` carries; INVALID_ARGUMENT when `approval` carries another one.
absl::Status CheckPayloadMatchesKind(const v1::Approval& approval);

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_APPROVALS_APPROVAL_RULES_H_
