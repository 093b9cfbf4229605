#include "services/inference/open_inference_service.h"

namespace fabrique::services {

grpc::Status OpenInferenceService::ServerLive(grpc::ServerContext* context,
                                              const inference::ServerLiveRequest* request,
                                              inference::ServerLiveResponse* response) {
  // Answering at all proves the process is live.
  response->set_live(true);
  return grpc::Status::OK;
}

grpc::Status OpenInferenceService::ServerReady(grpc::ServerContext* context,
                                               const inference::ServerReadyRequest* request,
                                               inference::ServerReadyResponse* response) {
  // Ready to accept calls; whether a given model is ready is ModelReady's question.
  response->set_ready(true);
  return grpc::Status::OK;
}

grpc::Status OpenInferenceService::ServerMetadata(grpc::ServerContext* context,
                                                  const inference::ServerMetadataRequest* request,
                                                  inference::ServerMetadataResponse* response) {
  response->set_name("fabrique-inference");
  response->set_version(version_);
  // No protocol extensions (model repository, statistics, ...) are offered yet.
  return grpc::Status::OK;
}

}  // namespace fabrique::services
