#include "libs/auth/authorizer.h"

#include <algorithm>
#include <iterator>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/core/status_macros.h"

namespace fabrique::auth {
namespace {

constexpr absl::string_view kDelegate = "auth.delegate";

// The squads in both lists; "*" in one stands for all of the other.
std::vector<std::string> Intersect(const std::vector<std::string>& a,
                                   const std::vector<std::string>& b) {
  if (a.size() == 1 && a[0] == kAllSquads) return b;
  if (b.size() == 1 && b[0] == kAllSquads) return a;
  std::vector<std::string> both;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
  return both;
}

// Checks one subject for `permission` in `squad`, or in any squad when `squad` is empty; narrows
// `access->squads` to where it holds it.
absl::Status CheckSubject(const Policy& policy, const Subject& subject,
                          absl::string_view permission, absl::string_view squad, Access* access) {
  if (squad.empty()) {
    const std::vector<std::string> squads = policy.SquadsWith(subject, permission);
    if (squads.empty()) {
      return absl::PermissionDeniedError(
          absl::StrCat(subject.name, " lacks ", permission, " in any squad"));
    }
    std::vector<std::string> narrowed = Intersect(access->squads, squads);
    if (narrowed.empty()) {
      return absl::PermissionDeniedError(
          absl::StrCat(subject.name, " holds ", permission, " only in squads where the service ",
                       "acting for it may not act: ", absl::StrJoin(squads, ", ")));
    }
    access->squads = std::move(narrowed);
    access->reasons.push_back(
        absl::StrCat(subject.name, " holds ", permission, " in ", absl::StrJoin(squads, ", ")));
    return absl::OkStatus();
  }
  Decision decision = policy.Decide(subject, permission, squad);
  if (!decision.allowed) return absl::PermissionDeniedError(decision.reason);
  access->reasons.push_back(std::move(decision.reason));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Access> Authorizer::Check(const Caller& caller, absl::string_view grpc_method_path,
                                         const google::protobuf::Message& request,
                                         const OwnerLookup& owner_of) const {
  Access access;
  access.rule = FindRuleForPath(grpc_method_path);
  if (access.rule == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat(grpc_method_path, " has no access rule, so no one may call it"));
  }
  if (access.rule->squad_from != SquadFrom::kAnyOwnSquad) {
    ASSIGN_OR_RETURN(access.squad, SquadOf(*access.rule, request, owner_of));
    access.squads = {access.squad};
  } else {
    access.squads = {std::string(kAllSquads)};
  }
  const std::shared_ptr<const Policy> policy = policy_();
  const std::string& permission = access.rule->permission;
  if (caller.on_behalf_of.has_value()) {
    if (!absl::StartsWith(caller.subject.name, "service:")) {
      return absl::PermissionDeniedError(
          absl::StrCat(caller.subject.name, " may not act on behalf of ", caller.on_behalf_of->name,
                       ": only services delegate"));
    }
    RETURN_IF_ERROR(CheckSubject(*policy, caller.subject, kDelegate, access.squad, &access));
  }
  RETURN_IF_ERROR(CheckSubject(*policy, caller.subject, permission, access.squad, &access));
  if (caller.on_behalf_of.has_value()) {
    RETURN_IF_ERROR(CheckSubject(*policy, *caller.on_behalf_of, permission, access.squad, &access));
  }
  return access;
}

}  // namespace fabrique::auth
