// ModelRegistryService's governance calls: evaluations appended to versions, and the design
// authority's standards. Thin: the access guard checks the caller (standards.write in every
// squad to change a standard), the registry's store does the rest.

#include "absl/strings/str_cat.h"
#include "libs/core/grpc_status.h"
#include "services/registry/model_registry_service.h"

namespace fabrique::services {
namespace {

using core::ToGrpcStatus;

grpc::Status Invalid(std::string message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::move(message));
}

}  // namespace

grpc::Status ModelRegistryService::AppendEvaluation(grpc::ServerContext* context,
                                                    const v1::AppendEvaluationRequest* request,
                                                    v1::ModelVersion* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "AppendEvaluation", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->version().model().empty() || request->version().version() <= 0) {
    return Invalid(
        "AppendEvaluationRequest.version needs a model and a version number (1, 2, ...)");
  }
  return Mutated("version.evaluate",
                 store_->AppendEvaluation(request->version().model(), request->version().version(),
                                          request->evaluation(), caller->principal),
                 response);
}

grpc::Status ModelRegistryService::SetStandard(grpc::ServerContext* context,
                                               const v1::SetStandardRequest* request,
                                               v1::Standard* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "SetStandard", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return Mutated("standard.set", store_->SetStandard(request->standard(), caller->principal),
                 response);
}

grpc::Status ModelRegistryService::GetStandard(grpc::ServerContext* context,
                                               const v1::GetStandardRequest* request,
                                               v1::Standard* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "GetStandard", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->name().empty()) return Invalid("GetStandardRequest.name is required");
  absl::StatusOr<v1::Standard> standard = store_->GetStandard(request->name());
  if (!standard.ok()) return ToGrpcStatus(standard.status());
  *response = *std::move(standard);
  return grpc::Status::OK;
}

grpc::Status ModelRegistryService::ListStandards(grpc::ServerContext* context,
                                                 const v1::ListStandardsRequest* request,
                                                 v1::ListStandardsResponse* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "ListStandards", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<std::vector<v1::Standard>> standards =
      store_->ListStandards(request->entity(), request->alias());
  if (!standards.ok()) return ToGrpcStatus(standards.status());
  for (v1::Standard& standard : *standards) *response->add_standards() = std::move(standard);
  return grpc::Status::OK;
}

grpc::Status ModelRegistryService::DeleteStandard(grpc::ServerContext* context,
                                                  const v1::DeleteStandardRequest* request,
                                                  google::protobuf::Empty* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "DeleteStandard", *request);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->name().empty()) return Invalid("DeleteStandardRequest.name is required");
  absl::Status deleted =
      store_->DeleteStandard(request->name(), caller->principal, request->reason());
  if (!deleted.ok()) return ToGrpcStatus(deleted);
  CountMutation("standard.delete");
  return grpc::Status::OK;
}

}  // namespace fabrique::services
