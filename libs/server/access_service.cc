#include "libs/server/access_service.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "libs/auth/permissions.h"
#include "libs/auth/policy_syntax.h"
#include "libs/core/grpc_status.h"

namespace fabrique::server {

grpc::Status AccessService::WhoAmI(grpc::ServerContext* context, const v1::WhoAmIRequest*,
                                   v1::WhoAmIResponse* response) {
  absl::StatusOr<Authentication> who = access_->Authenticate(*context);
  if (!who.ok()) return core::ToGrpcStatus(who.status());
  v1::Principal* caller = response->mutable_caller();
  caller->set_subject(absl::StartsWith(who->subject.name, "user:") ? who->subject.name.substr(5)
                                                                   : who->subject.name);
  caller->set_service(who->delegating_service);
  for (const std::string& group : who->subject.groups) {
    caller->add_groups(group);
    response->add_groups(group);
  }
  response->set_authenticated_by(who->method);
  if (who->expires != absl::InfiniteFuture()) {
    *response->mutable_expires() =
        google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(who->expires));
  }
  if (access_->insecure()) {
    v1::RoleGrant* grant = response->add_roles();
    grant->set_squad(std::string(auth::kAllSquads));
    grant->set_role("anonymous (every permission: the server runs with --insecure)");
    return grpc::Status::OK;
  }
  for (const auto& [squad, role] : access_->policy()->RolesHeld(who->subject)) {
    v1::RoleGrant* grant = response->add_roles();
    grant->set_squad(squad);
    grant->set_role(role);
  }
  return grpc::Status::OK;
}

grpc::Status AccessService::CanI(grpc::ServerContext* context, const v1::CanIRequest* request,
                                 v1::CanIResponse* response) {
  absl::StatusOr<Authentication> who = access_->Authenticate(*context);
  if (!who.ok()) return core::ToGrpcStatus(who.status());
  if (auth::FindPermission(request->permission()) == nullptr) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("unknown permission '", request->permission(),
                                     "'; `fabrique auth permissions` lists them"));
  }
  const std::string squad =
      request->squad().empty() ? std::string(auth::kAllSquads) : request->squad();
  auth::Decision decision = access_->Decide(*who, request->permission(), squad);
  response->set_allowed(decision.allowed);
  response->set_reason(decision.reason);
  return grpc::Status::OK;
}

}  // namespace fabrique::server
