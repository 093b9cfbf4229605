#ifndef FABRIQUE_SERVICES_INFERENCE_OPEN_INFERENCE_SERVICE_H_
#define FABRIQUE_SERVICES_INFERENCE_OPEN_INFERENCE_SERVICE_H_

// The Open Inference Protocol (KServe v2) adapter: the API Triton and KServe clients speak.
// Every call is checked by the access guard (libs/auth/tables/inference.cc): server-wide
// questions need inference.read in some squad, model calls the permission in the model's squad.
// On gRPC's callback API: ModelInfer queues its rows on the version's batcher and answers from
// the batcher's callback, so no gRPC thread waits for a model. Kubernetes probes ask
// grpc.health.v1, which gRPC serves without a credential; ServerReady answers the same truth.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "inference/grpc_predict_v2.grpc.pb.h"
#include "libs/core/clock.h"
#include "libs/server/access.h"
#include "libs/serving/prediction_logger.h"
#include "services/inference/inference_metrics.h"
#include "services/inference/serving_view.h"

namespace fabrique::services {

struct InferCall;  // One ModelInfer in flight (model_infer.cc).

struct OpenInferenceOptions {
  std::string version;                          // Of this server, for ServerMetadata.
  const server::Access* guard = nullptr;        // Checks every call. Required; not owned.
  const ServingView* serving = nullptr;         // Required; not owned.
  serving::PredictionLogger* logger = nullptr;  // Every scored row is logged here; may be null.
  InferenceMetrics* metrics = nullptr;          // May be null.
  core::Clock* clock = core::Clock::Real();     // Latencies and record times.
};

class OpenInferenceService final : public inference::GRPCInferenceService::CallbackService {
 public:
  // Every pointer in `options` must outlive the service.
  explicit OpenInferenceService(OpenInferenceOptions options);

  grpc::ServerUnaryReactor* ServerLive(grpc::CallbackServerContext* context,
                                       const inference::ServerLiveRequest* request,
                                       inference::ServerLiveResponse* response) override;
  grpc::ServerUnaryReactor* ServerReady(grpc::CallbackServerContext* context,
                                        const inference::ServerReadyRequest* request,
                                        inference::ServerReadyResponse* response) override;
  grpc::ServerUnaryReactor* ServerMetadata(grpc::CallbackServerContext* context,
                                           const inference::ServerMetadataRequest* request,
                                           inference::ServerMetadataResponse* response) override;
  grpc::ServerUnaryReactor* ModelReady(grpc::CallbackServerContext* context,
                                       const inference::ModelReadyRequest* request,
                                       inference::ModelReadyResponse* response) override;
  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* context,
                                          const inference::ModelMetadataRequest* request,
                                          inference::ModelMetadataResponse* response) override;
  // Resolves the version (model_version "" = the traffic policy, its canary share drawn at
  // random: the protocol carries no entity), decodes the request against its signature, queues
  // it with the call's deadline and answers with the version that scored it; the candidate also
  // scores it off the request path when the policy shadows. Every row is logged.
  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* context,
                                       const inference::ModelInferRequest* request,
                                       inference::ModelInferResponse* response) override;

 private:
  // ModelInfer's answer, from the batcher's callback: encodes, logs the rows, finishes the call.
  void Answered(InferCall& call, absl::StatusOr<serving::TensorBatch> outputs,
                const serving::BatchStats& stats, bool logging);
  // Scores a copy of the call's rows on the shadow version; its answer is only logged.
  void SubmitShadow(const std::shared_ptr<InferCall>& call, absl::Time deadline, bool logging);

  const OpenInferenceOptions options_;
  const server::ServiceAccess access_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_INFERENCE_OPEN_INFERENCE_SERVICE_H_
