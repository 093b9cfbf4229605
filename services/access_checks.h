#ifndef FABRIQUE_SERVICES_ACCESS_CHECKS_H_
#define FABRIQUE_SERVICES_ACCESS_CHECKS_H_

// What the adapters add to the access guard's one check per call (libs/server/access.h): a call
// allowed only with the caller, a permission needed in a second squad (moving a resource to
// another squad), and the refusal of a resource a call spanning squads may not touch.
//
//   return Guarded(access_, *context, "GetModel", *request, [&](const server::Caller& caller) {
//     return Answer(store_->GetModel(request->name()), response);
//   });

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"
#include "libs/auth/method_table.h"
#include "libs/core/grpc_status.h"
#include "libs/server/access.h"

namespace fabrique::services {

// Runs `call(caller)` once the guard allows `method` for `request`; its refusal, mapped, otherwise.
template <typename Request, typename Call>
grpc::Status Guarded(const server::ServiceAccess& access, const grpc::ServerContextBase& context,
                     absl::string_view method, const Request& request, Call call) {
  absl::StatusOr<server::Caller> caller = access.Check(context, method, request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  return call(*caller);
}

// The permission `method` of `service_full_name` needs, for messages; "" when it has no rule.
inline std::string PermissionOf(absl::string_view service_full_name, absl::string_view method) {
  const auth::MethodRule* rule = auth::FindRule(service_full_name, method);
  return rule == nullptr ? std::string() : rule->permission;
}

// Whether the caller of `context` also holds `permission` in `squad`, beyond what its call was
// checked for: PERMISSION_DENIED naming subject, permission and squad when not.
inline absl::Status AlsoAllowed(const server::ServiceAccess& access,
                                const grpc::ServerContextBase& context,
                                absl::string_view permission, absl::string_view squad) {
  absl::StatusOr<server::Authentication> who = access.guard().Authenticate(context);
  if (!who.ok()) return who.status();
  auth::Decision decision = access.guard().Decide(*who, permission, squad);
  if (decision.allowed) return absl::OkStatus();
  return absl::PermissionDeniedError(decision.reason);
}

// The refusal of `what` (e.g. "feature group 'tx'"), owned by `squad`, to a caller whose
// `permission` holds only in other squads.
inline absl::Status NotVisible(const server::Caller& caller, absl::string_view what,
                               absl::string_view permission, absl::string_view squad) {
  return absl::PermissionDeniedError(
      absl::StrCat(what, " belongs to squad '", squad, "', where ", caller.principal.subject(),
                   " lacks ", permission, " (held in: ", absl::StrJoin(caller.squads, ", "), ")"));
}

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_ACCESS_CHECKS_H_
