// EntityInferenceService's calls that report what this server serves (served_models.h).

#include "libs/core/grpc_status.h"
#include "services/access_checks.h"
#include "services/inference/entity_inference_service.h"
#include "services/inference/served_models.h"

namespace fabrique::services {

EntityInferenceService::EntityInferenceService(const server::Access* guard,
                                               const ServingView* serving)
    : access_(guard, fabrique::v1::EntityInference::service_full_name(), serving->Owners()),
      serving_(serving) {}

grpc::Status EntityInferenceService::ListServedModels(
    grpc::ServerContext* context, const fabrique::v1::ListServedModelsRequest* request,
    fabrique::v1::ListServedModelsResponse* response) {
  return Guarded(access_, *context, "ListServedModels", *request,
                 [&](const server::Caller& caller) {
                   *response = services::ListServedModels(*serving_, caller);
                   return grpc::Status::OK;
                 });
}

grpc::Status EntityInferenceService::GetServedModel(
    grpc::ServerContext* context, const fabrique::v1::GetServedModelRequest* request,
    fabrique::v1::ServedModel* response) {
  return Guarded(access_, *context, "GetServedModel", *request, [&](const server::Caller&) {
    absl::StatusOr<v1::ServedModel> model = services::GetServedModel(*serving_, request->name());
    if (!model.ok()) return core::ToGrpcStatus(model.status());
    *response = *std::move(model);
    return grpc::Status::OK;
  });
}

}  // namespace fabrique::services
