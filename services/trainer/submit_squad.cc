#include "services/trainer/submit_squad.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/auth/policy.h"
#include "libs/auth/policy_syntax.h"
#include "libs/core/status_macros.h"

namespace fabrique::services {
namespace {

constexpr absl::string_view kNameIt =
    ": name the one the run trains for with --squad (SubmitRunRequest.squad)";

}  // namespace

absl::StatusOr<std::string> SubmitSquad(const server::Access& guard,
                                        const grpc::ServerContextBase& context,
                                        absl::string_view asked) {
  if (!asked.empty()) return std::string(asked);
  ASSIGN_OR_RETURN(const server::Authentication who, guard.Authenticate(context));
  if (guard.insecure()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the trainer runs with --insecure, so every caller may submit in every squad", kNameIt));
  }
  std::vector<std::string> squads = guard.policy()->SquadsWith(who.subject, kSubmitPermission);
  if (squads.empty()) {
    return absl::PermissionDeniedError(
        absl::StrCat(who.subject.name, " lacks ", kSubmitPermission, " in any squad"));
  }
  // A service acting for the user narrows them to where it may act too; Decide asks both, and
  // says why the service may not when it may act nowhere the user may.
  std::string refused;
  squads.erase(std::remove_if(squads.begin(), squads.end(),
                              [&](const std::string& squad) {
                                if (squad == auth::kAllSquads) return false;
                                auth::Decision d = guard.Decide(who, kSubmitPermission, squad);
                                if (!d.allowed && refused.empty()) refused = std::move(d.reason);
                                return !d.allowed;
                              }),
               squads.end());
  if (squads.empty()) return absl::PermissionDeniedError(refused);
  if (squads.front() == auth::kAllSquads) {
    return absl::InvalidArgumentError(
        absl::StrCat(who.subject.name, " holds ", kSubmitPermission, " in every squad", kNameIt));
  }
  if (squads.size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat(who.subject.name, " holds ", kSubmitPermission,
                                                   " in several squads (",
                                                   absl::StrJoin(squads, ", "), ")", kNameIt));
  }
  return squads.front();
}

}  // namespace fabrique::services
