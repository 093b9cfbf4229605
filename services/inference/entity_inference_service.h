#ifndef FABRIQUE_SERVICES_INFERENCE_ENTITY_INFERENCE_SERVICE_H_
#define FABRIQUE_SERVICES_INFERENCE_ENTITY_INFERENCE_SERVICE_H_

// The adapter of Fabrique's own entity-keyed prediction API, where the server fetches the
// online features itself. ListServedModels and GetServedModel report what this server serves
// (served_models_service_part.cc); ValidateCapacity measures a version's latency and throughput
// on this server and records them in the registry (capacity_service_part.cc). Predict
// (entity_predict.cc) is on gRPC's callback API, the others stay synchronous: Predict looks
// features up on the FeatureLookupBatcher's threads and scores on the versions' batchers, and
// answers from their callbacks, so no gRPC thread waits for the feature store or a model.

#include <memory>

#include "absl/status/status.h"
#include "fabrique/v1/inference.grpc.pb.h"
#include "libs/core/clock.h"
#include "libs/server/access.h"
#include "libs/serving/feature_lookup_batcher.h"
#include "libs/serving/prediction_logger.h"
#include "services/inference/entity_predict_messages.h"
#include "services/inference/inference_metrics.h"
#include "services/inference/serving_view.h"

namespace fabrique::services {

struct PredictCall;        // One Predict in flight (entity_predict_call.h).
class CapacityValidation;  // ValidateCapacity's core (capacity_validation.h).

// What Predict needs besides the guard and the served models.
struct EntityPredictOptions {
  // Online features for the models' store inputs. Not owned; may be null: then only requests
  // that supply every input are scored, the others are UNAVAILABLE.
  serving::FeatureLookupBatcher* features = nullptr;
  serving::PredictionLogger* logger = nullptr;  // Every scored row is logged here; may be null.
  InferenceMetrics* metrics = nullptr;          // May be null.
  core::Clock* clock = core::Clock::Real();     // Latencies and record times. Not owned.
  // ValidateCapacity's core. Not owned; may be null: then ValidateCapacity is UNIMPLEMENTED.
  CapacityValidation* capacity = nullptr;
};

class EntityInferenceService final
    : public fabrique::v1::EntityInference::WithCallbackMethod_Predict<
          fabrique::v1::EntityInference::Service> {
 public:
  // `guard` checks every call; `serving` is what is reported and scored. Not owned; both outlive
  // this. Without `predict` options, Predict scores only fully supplied rows and logs nothing.
  EntityInferenceService(const server::Access* guard, const ServingView* serving);
  // Every pointer in `predict` must outlive the service.
  EntityInferenceService(const server::Access* guard, const ServingView* serving,
                         EntityPredictOptions predict);

  grpc::Status ListServedModels(grpc::ServerContext* context,
                                const fabrique::v1::ListServedModelsRequest* request,
                                fabrique::v1::ListServedModelsResponse* response) override;
  grpc::Status GetServedModel(grpc::ServerContext* context,
                              const fabrique::v1::GetServedModelRequest* request,
                              fabrique::v1::ServedModel* response) override;

  // Checks the caller (models.evaluate in the model's squad), then runs a capacity validation,
  // streaming its progress and, last, its report (capacity_service_part.cc).
  grpc::Status ValidateCapacity(
      grpc::ServerContext* context, const fabrique::v1::ValidateCapacityRequest* request,
      grpc::ServerWriter<fabrique::v1::CapacityProgress>* writer) override;

  // Checks the caller (inference.predict in the model's squad), routes every row (a version or
  // alias asks exactly that; none, the traffic policy with the canary share by entity hash, so
  // one request's rows may go to two versions), plans the rows of each signature, looks their
  // store features up, assembles them (training/serving skew: FAILED_PRECONDITION naming the
  // feature), scores each version's rows on its batcher and answers in row order. The candidate
  // also scores shadowed rows off the request path. Every row is logged unless skip_logging is
  // set by a caller who holds predictions.log in the model's squad.
  grpc::ServerUnaryReactor* Predict(grpc::CallbackServerContext* context,
                                    const fabrique::v1::PredictRequest* request,
                                    fabrique::v1::PredictResponse* response) override;

 private:
  // Looks up every feed's store features and starts the predictions meanwhile, then scores (or
  // fails the call).
  void LookUp(const std::shared_ptr<PredictCall>& call);
  // Every lookup answered and the predictions started: scores, or fails the call.
  void LookedUp(const std::shared_ptr<PredictCall>& call);
  // Assembles every feed's rows and submits each part to its version (and shadow).
  void Score(const std::shared_ptr<PredictCall>& call);
  void SubmitShadow(const std::shared_ptr<PredictCall>& call, size_t part);
  // Every part answered: builds the predictions, logs them, finishes the call.
  void Answer(PredictCall& call);
  // Finishes `call` with `status`, counted under version 0.
  void Fail(PredictCall& call, const absl::Status& status);
  // Whether the caller may keep this request out of the prediction log.
  bool MaySkipLogging(const grpc::CallbackServerContext& context, const std::string& model) const;

  const server::ServiceAccess access_;
  const ServingView* serving_;
  EntityPredictOptions predict_;
  // Predict's request and response, on arenas (with `predict` options). Outlives every call: the
  // server is shut down before the service is destroyed.
  std::unique_ptr<PredictMessagePool> messages_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_INFERENCE_ENTITY_INFERENCE_SERVICE_H_
