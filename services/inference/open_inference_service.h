#ifndef FABRIQUE_SERVICES_INFERENCE_OPEN_INFERENCE_SERVICE_H_
#define FABRIQUE_SERVICES_INFERENCE_OPEN_INFERENCE_SERVICE_H_

// The Open Inference Protocol (KServe v2) adapter: the API Triton and KServe clients speak.
// Server liveness, readiness and metadata are answered now, to callers the access guard allows
// (libs/auth/tables/inference.cc: inference.read in some squad); model calls (ModelReady,
// ModelMetadata, ModelInfer) come with inference serving and answer UNIMPLEMENTED until then.
// Kubernetes probes ask grpc.health.v1, which gRPC serves without a credential, not these.

#include <string>

#include "inference/grpc_predict_v2.grpc.pb.h"
#include "libs/server/access.h"

namespace fabrique::services {

class OpenInferenceService final : public inference::GRPCInferenceService::Service {
 public:
  // `guard` checks every call; not owned, outlives the service.
  OpenInferenceService(std::string version, const server::Access* guard);

  grpc::Status ServerLive(grpc::ServerContext* context, const inference::ServerLiveRequest* request,
                          inference::ServerLiveResponse* response) override;
  grpc::Status ServerReady(grpc::ServerContext* context,
                           const inference::ServerReadyRequest* request,
                           inference::ServerReadyResponse* response) override;
  grpc::Status ServerMetadata(grpc::ServerContext* context,
                              const inference::ServerMetadataRequest* request,
                              inference::ServerMetadataResponse* response) override;

 private:
  std::string version_;
  const server::ServiceAccess access_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_INFERENCE_OPEN_INFERENCE_SERVICE_H_
