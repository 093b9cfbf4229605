#ifndef FABRIQUE_SERVICES_INFERENCE_ENTITY_INFERENCE_SERVICE_H_
#define FABRIQUE_SERVICES_INFERENCE_ENTITY_INFERENCE_SERVICE_H_

// The adapter of Fabrique's own entity-keyed prediction API, where the server fetches the
// online features itself. ListServedModels and GetServedModel report what this server serves
// (served_models_service_part.cc); Predict is not built yet and answers UNIMPLEMENTED saying so.

#include "fabrique/v1/inference.grpc.pb.h"
#include "libs/server/access.h"
#include "services/inference/serving_view.h"

namespace fabrique::services {

class EntityInferenceService final : public fabrique::v1::EntityInference::Service {
 public:
  // `guard` checks every call; `serving` is what is reported. Not owned; both outlive this.
  EntityInferenceService(const server::Access* guard, const ServingView* serving);

  grpc::Status ListServedModels(grpc::ServerContext* context,
                                const fabrique::v1::ListServedModelsRequest* request,
                                fabrique::v1::ListServedModelsResponse* response) override;
  grpc::Status GetServedModel(grpc::ServerContext* context,
                              const fabrique::v1::GetServedModelRequest* request,
                              fabrique::v1::ServedModel* response) override;

 private:
  const server::ServiceAccess access_;
  const ServingView* serving_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_INFERENCE_ENTITY_INFERENCE_SERVICE_H_
