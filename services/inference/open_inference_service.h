#ifndef FABRIQUE_SERVICES_INFERENCE_OPEN_INFERENCE_SERVICE_H_
#define FABRIQUE_SERVICES_INFERENCE_OPEN_INFERENCE_SERVICE_H_

// The Open Inference Protocol (KServe v2) adapter: the API Triton and KServe clients speak.
// Server liveness, readiness and metadata are answered now; model calls (ModelReady,
// ModelMetadata, ModelInfer) come with inference serving and answer UNIMPLEMENTED until then.

#include <string>

#include "inference/grpc_predict_v2.grpc.pb.h"

namespace fabrique::services {

class OpenInferenceService final : public inference::GRPCInferenceService::Service {
 public:
  explicit OpenInferenceService(std::string version) : version_(std::move(version)) {}

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
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_INFERENCE_OPEN_INFERENCE_SERVICE_H_
