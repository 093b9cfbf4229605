#include "libs/tower/portfolio/funnel.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace fabrique::tower {

std::vector<v1::UseCaseStatus> FunnelOrder() {
  return {v1::USE_CASE_STATUS_IDEA,          v1::USE_CASE_STATUS_QUALIFIED,
          v1::USE_CASE_STATUS_APPROVED,      v1::USE_CASE_STATUS_BUILDING,
          v1::USE_CASE_STATUS_IN_PRODUCTION, v1::USE_CASE_STATUS_RETIRED};
}

std::string StatusName(v1::UseCaseStatus status) {
  std::string name = v1::UseCaseStatus_Name(status);
  constexpr absl::string_view kPrefix = "USE_CASE_STATUS_";
  if (absl::StartsWith(name, kPrefix)) name = name.substr(kPrefix.size());
  return name;
}

std::vector<v1::UseCaseStatus> AllowedNext(v1::UseCaseStatus from) {
  if (from == v1::USE_CASE_STATUS_RETIRED) return {};
  std::vector<v1::UseCaseStatus> next;
  if (from > v1::USE_CASE_STATUS_IDEA) next.push_back(static_cast<v1::UseCaseStatus>(from - 1));
  if (from < v1::USE_CASE_STATUS_IN_PRODUCTION) {
    next.push_back(static_cast<v1::UseCaseStatus>(from + 1));
  }
  next.push_back(v1::USE_CASE_STATUS_RETIRED);
  return next;
}

absl::Status CheckMove(v1::UseCaseStatus from, v1::UseCaseStatus to) {
  if (to == v1::USE_CASE_STATUS_UNSPECIFIED || !v1::UseCaseStatus_IsValid(to)) {
    return absl::InvalidArgumentError(
        absl::StrCat("status ", static_cast<int>(to), " is not a funnel status"));
  }
  const std::vector<v1::UseCaseStatus> allowed = AllowedNext(from);
  for (v1::UseCaseStatus next : allowed) {
    if (next == to) return absl::OkStatus();
  }
  if (allowed.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("a RETIRED use case stays retired; create a new one instead of moving it to ",
                     StatusName(to)));
  }
  return absl::FailedPreconditionError(
      absl::StrCat("a use case cannot move from ", StatusName(from), " to ", StatusName(to),
                   " (stages are not skipped); allowed next: ",
                   absl::StrJoin(allowed, ", ", [](std::string* out, v1::UseCaseStatus status) {
                     out->append(StatusName(status));
                   })));
}

bool NeedsApproval(v1::UseCaseStatus from, v1::UseCaseStatus to) {
  return from == v1::USE_CASE_STATUS_QUALIFIED && to == v1::USE_CASE_STATUS_APPROVED;
}

}  // namespace fabrique::tower
