#include "services/inference/open_inference_service.h"

#include "services/access_checks.h"

namespace fabrique::services {

// The server-wide calls need no resource's owner. The model calls, checked in the squad owning
// their model, come with serving, and with them the lookup of a model's squad in the registry.
OpenInferenceService::OpenInferenceService(std::string version, const server::Access* guard)
    : version_(std::move(version)),
      access_(guard, inference::GRPCInferenceService::service_full_name(), nullptr) {}

grpc::Status OpenInferenceService::ServerLive(grpc::ServerContext* context,
                                              const inference::ServerLiveRequest* request,
                                              inference::ServerLiveResponse* response) {
  return Guarded(access_, *context, "ServerLive", *request, [&](const server::Caller&) {
    // Answering at all proves the process is live.
    response->set_live(true);
    return grpc::Status::OK;
  });
}

grpc::Status OpenInferenceService::ServerReady(grpc::ServerContext* context,
                                               const inference::ServerReadyRequest* request,
                                               inference::ServerReadyResponse* response) {
  return Guarded(access_, *context, "ServerReady", *request, [&](const server::Caller&) {
    // Ready to accept calls; whether a given model is ready is ModelReady's question.
    response->set_ready(true);
    return grpc::Status::OK;
  });
}

grpc::Status OpenInferenceService::ServerMetadata(grpc::ServerContext* context,
                                                  const inference::ServerMetadataRequest* request,
                                                  inference::ServerMetadataResponse* response) {
  return Guarded(access_, *context, "ServerMetadata", *request, [&](const server::Caller&) {
    response->set_name("fabrique-inference");
    response->set_version(version_);
    // No protocol extensions (model repository, statistics, ...) are offered yet.
    return grpc::Status::OK;
  });
}

}  // namespace fabrique::services
