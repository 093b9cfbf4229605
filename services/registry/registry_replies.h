#ifndef FABRIQUE_SERVICES_REGISTRY_REGISTRY_REPLIES_H_
#define FABRIQUE_SERVICES_REGISTRY_REGISTRY_REPLIES_H_

// How the registry's adapter answers, shared by the files that implement its methods (models and
// versions, promotion, transfers, audit and watch): a bad argument, and the permission a method
// needs, named in refusals (a domain result becomes a reply through services/answer.h).

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"
#include "libs/core/grpc_status.h"
#include "services/access_checks.h"
#include "services/answer.h"
#include "services/registry/model_registry_service.h"

namespace fabrique::services::registry_replies {

inline grpc::Status Invalid(std::string message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::move(message));
}

// The permission a method of this service needs, for messages.
inline std::string Permission(absl::string_view method) {
  return PermissionOf(v1::ModelRegistry::service_full_name(), method);
}

// Refuses a list filtered on a squad the caller cannot see.
inline grpc::Status CheckListedSquad(const server::Caller& caller, const std::string& squad,
                                     absl::string_view method) {
  if (squad.empty() || caller.Sees(squad)) return grpc::Status::OK;
  return core::ToGrpcStatus(absl::PermissionDeniedError(
      absl::StrCat(caller.principal.subject(), " lacks ", Permission(method), " in squad ", squad,
                   ", so it may not list what that squad owns")));
}

}  // namespace fabrique::services::registry_replies

#endif  // FABRIQUE_SERVICES_REGISTRY_REGISTRY_REPLIES_H_
