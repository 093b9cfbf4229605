// The registry's adapter: promotion policies, traffic policies and promotion requests.

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "libs/core/grpc_status.h"
#include "services/access_checks.h"
#include "services/registry/model_owners.h"
#include "services/registry/model_registry_service.h"
#include "services/registry/registry_replies.h"

namespace fabrique::services {
namespace {

using core::ToGrpcStatus;
using registry_replies::Invalid;
using registry_replies::Permission;

}  // namespace

grpc::Status ModelRegistryService::SetPromotionPolicy(grpc::ServerContext* context,
                                                      const v1::SetPromotionPolicyRequest* request,
                                                      v1::PromotionPolicy* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "SetPromotionPolicy", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->policy().model().empty()) {
    return Invalid("SetPromotionPolicyRequest.policy needs a model and an alias");
  }
  return Mutated("policy.set", store_->SetPromotionPolicy(request->policy(), caller->principal),
                 response);
}

grpc::Status ModelRegistryService::GetPromotionPolicy(grpc::ServerContext* context,
                                                      const v1::GetPromotionPolicyRequest* request,
                                                      v1::PromotionPolicy* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "GetPromotionPolicy", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->model().empty() || request->alias().empty()) {
    return Invalid("GetPromotionPolicyRequest needs a model and an alias");
  }
  if (absl::Status model = store_->GetModel(request->model()).status(); !model.ok()) {
    return ToGrpcStatus(model);
  }
  // With notes on the standards that override or are tightened by its gates.
  return Answer(store_->DescribePromotionPolicy(request->model(), request->alias()), response);
}

grpc::Status ModelRegistryService::ListPromotionPolicies(
    grpc::ServerContext* context, const v1::ListPromotionPoliciesRequest* request,
    v1::ListPromotionPoliciesResponse* response) {
  absl::StatusOr<server::Caller> caller =
      access_.Check(*context, "ListPromotionPolicies", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->model().empty()) return Invalid("ListPromotionPoliciesRequest.model is required");
  absl::StatusOr<std::vector<v1::PromotionPolicy>> policies =
      store_->ListPromotionPolicies(request->model());
  if (!policies.ok()) return ToGrpcStatus(policies.status());
  for (v1::PromotionPolicy& policy : *policies) *response->add_policies() = std::move(policy);
  return grpc::Status::OK;
}

grpc::Status ModelRegistryService::ListPromotionRequests(
    grpc::ServerContext* context, const v1::ListPromotionRequestsRequest* request,
    v1::ListPromotionRequestsResponse* response) {
  absl::StatusOr<server::Caller> caller =
      access_.Check(*context, "ListPromotionRequests", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (!request->model().empty()) {
    ModelOwnerCache owners(store_);
    const std::string& owner = owners.OwnerOf(request->model());
    if (!owner.empty() && !caller->Sees(owner)) {
      return ToGrpcStatus(NotVisible(*caller, absl::StrCat("model '", request->model(), "'"),
                                     Permission("ListPromotionRequests"), owner));
    }
  }
  return Answer(store_->ListPromotionRequests(
                    *request, [&](absl::string_view squad) { return caller->Sees(squad); }),
                response);
}

grpc::Status ModelRegistryService::SetTrafficPolicy(grpc::ServerContext* context,
                                                    const v1::SetTrafficPolicyRequest* request,
                                                    v1::TrafficPolicy* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "SetTrafficPolicy", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->policy().model().empty()) {
    return Invalid("SetTrafficPolicyRequest.policy.model is required");
  }
  return Mutated("traffic.set", store_->SetTrafficPolicy(request->policy(), caller->principal),
                 response);
}

grpc::Status ModelRegistryService::GetTrafficPolicy(grpc::ServerContext* context,
                                                    const v1::GetTrafficPolicyRequest* request,
                                                    v1::TrafficPolicy* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "GetTrafficPolicy", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->model().empty()) return Invalid("GetTrafficPolicyRequest.model is required");
  return Answer(store_->GetTrafficPolicy(request->model()), response);
}

grpc::Status ModelRegistryService::RequestPromotion(grpc::ServerContext* context,
                                                    const v1::RequestPromotionRequest* request,
                                                    v1::PromotionRequest* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "RequestPromotion", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->model().empty() || request->version() <= 0) {
    return Invalid("RequestPromotionRequest needs a model, an alias and a version number >= 1");
  }
  grpc::Status status =
      Answer(store_->RequestPromotion(request->model(), request->alias(), request->version(),
                                      request->comment(), caller->principal, request->dry_run(),
                                      request->request_id()),
             response);
  // A refused request is stored too (REFUSED): a mutation, though the call fails.
  if (!request->dry_run() &&
      (status.ok() || status.error_code() == grpc::StatusCode::FAILED_PRECONDITION)) {
    CountMutation("promotion.request");
  }
  return status;
}

grpc::Status ModelRegistryService::GetPromotionRequest(
    grpc::ServerContext* context, const v1::GetPromotionRequestRequest* request,
    v1::PromotionRequest* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "GetPromotionRequest", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->id().empty()) return Invalid("GetPromotionRequestRequest.id is required");
  return Answer(store_->GetPromotionRequest(request->id()), response);
}

grpc::Status ModelRegistryService::ApprovePromotion(grpc::ServerContext* context,
                                                    const v1::ApprovePromotionRequest* request,
                                                    v1::PromotionRequest* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "ApprovePromotion", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->id().empty()) return Invalid("ApprovePromotionRequest.id is required");
  return Mutated("promotion.approve",
                 store_->DecidePromotion(request->id(), /*approve=*/true, request->comment(),
                                         caller->principal),
                 response);
}

grpc::Status ModelRegistryService::RejectPromotion(grpc::ServerContext* context,
                                                   const v1::RejectPromotionRequest* request,
                                                   v1::PromotionRequest* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "RejectPromotion", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->id().empty()) return Invalid("RejectPromotionRequest.id is required");
  return Mutated("promotion.reject",
                 store_->DecidePromotion(request->id(), /*approve=*/false, request->comment(),
                                         caller->principal),
                 response);
}

}  // namespace fabrique::services
