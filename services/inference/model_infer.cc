// OpenInferenceService::ModelInfer: one request from its check to its answer, without a gRPC
// thread waiting on the model (the batcher's callback finishes the call).

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "libs/core/grpc_status.h"
#include "libs/serving/oip_codec.h"
#include "services/inference/entity_predict_shadow.h"
#include "services/inference/open_inference_service.h"
#include "services/inference/prediction_records.h"
#include "services/inference/served_models.h"

namespace fabrique::services {

// One call in flight: what its answer needs, kept until the batcher calls back.
struct InferCall {
  grpc::ServerUnaryReactor* reactor = nullptr;
  const inference::ModelInferRequest* request = nullptr;
  inference::ModelInferResponse* response = nullptr;
  serving::Route route;  // Holds the versions until answered.
  serving::DecodedRequest decoded;
  serving::TensorBatch logged_inputs;  // A copy for the log; empty when not logging.
  std::vector<std::string> prediction_ids;
  std::string request_id;
  absl::Time start;
};

namespace {

// The call's deadline; none when the client set none.
absl::Time DeadlineOf(const grpc::CallbackServerContext& context) {
  const auto deadline = context.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return absl::InfiniteFuture();
  return absl::FromChrono(deadline);
}

void SetParameters(const serving::Route& route, inference::ModelInferResponse* response) {
  auto& parameters = *response->mutable_parameters();
  if (!route.alias.empty()) parameters["fabrique_alias"].set_string_param(route.alias);
  parameters["fabrique_canary"].set_bool_param(route.canary);
}

}  // namespace

grpc::ServerUnaryReactor* OpenInferenceService::ModelInfer(
    grpc::CallbackServerContext* context, const inference::ModelInferRequest* request,
    inference::ModelInferResponse* response) {
  auto call = std::make_shared<InferCall>();
  call->reactor = context->DefaultReactor();
  call->request = request;
  call->response = response;
  call->start = options_.clock->Now();
  const std::string& model = request->model_name();
  // Refused before a version was chosen: counted under version 0.
  auto refuse = [&](const absl::Status& status) {
    if (options_.metrics != nullptr) {
      options_.metrics->OnRequest(model, 0, absl::StatusCodeToString(status.code()),
                                  options_.clock->Now() - call->start, false, {}, 0);
    }
    call->reactor->Finish(core::ToGrpcStatus(status));
    return call->reactor;
  };
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "ModelInfer", *request);
  if (!caller.ok()) return refuse(caller.status());
  absl::StatusOr<int64_t> number = ParseModelVersion(request->model_version(), "model_version");
  if (!number.ok()) return refuse(number.status());
  // No entity in the protocol: the canary share is drawn at random.
  absl::StatusOr<serving::Route> route = options_.serving->models().Resolve(model, *number, "", "");
  if (!route.ok()) return refuse(route.status());
  call->route = *std::move(route);
  const v1::ModelSignature& signature = call->route.version->record().signature();
  absl::StatusOr<serving::DecodedRequest> decoded =
      serving::DecodeInferRequest(*request, signature, {options_.serving->MaxBatchSize(model)});
  if (!decoded.ok()) return refuse(decoded.status());
  call->decoded = *std::move(decoded);

  const bool logging = options_.logger != nullptr && options_.logger->enabled();
  call->request_id = request->id().empty() ? serving::NewPredictionId() : request->id();
  if (logging || call->route.shadow != nullptr) call->logged_inputs = call->decoded.inputs;
  if (logging) {
    for (int64_t row = 0; row < call->decoded.inputs.rows; ++row) {
      call->prediction_ids.push_back(serving::NewPredictionId());
    }
  }
  const absl::Time deadline = DeadlineOf(*context);
  if (call->route.shadow != nullptr) SubmitShadow(call, deadline, logging);
  serving::TensorBatch inputs = call->decoded.inputs;
  std::shared_ptr<serving::ServedVersion> version = call->route.version;
  version->Submit(std::move(inputs), deadline,
                  [this, call, logging](absl::StatusOr<serving::TensorBatch> outputs,
                                        const serving::BatchStats& stats) {
                    Answered(*call, std::move(outputs), stats, logging);
                  });
  return call->reactor;
}

void OpenInferenceService::Answered(InferCall& call, absl::StatusOr<serving::TensorBatch> outputs,
                                    const serving::BatchStats& stats, bool logging) {
  const serving::ServedVersion& version = *call.route.version;
  absl::Status status = outputs.status();
  if (status.ok()) {
    status = serving::EncodeInferResponse(call.decoded, *outputs, version.record().signature(),
                                          version.model(), absl::StrCat(version.version()),
                                          call.request->id(), call.response);
  }
  const absl::Duration took = options_.clock->Now() - call.start;
  if (status.ok()) {
    SetParameters(call.route, call.response);
    if (logging) {
      RecordContext context{
          version.model(), version.version(), call.route.alias,      call.route.canary,
          false,           call.request_id,   options_.clock->Now(), took};
      for (v1::PredictionRecord& record :
           RowRecords(context, call.logged_inputs, *outputs, call.prediction_ids, {})) {
        options_.logger->Log(std::move(record));
      }
    }
  }
  if (options_.metrics != nullptr) {
    options_.metrics->OnRequest(version.model(), version.version(),
                                absl::StatusCodeToString(status.code()), took, outputs.ok(), stats,
                                call.decoded.inputs.rows);
  }
  call.reactor->Finish(core::ToGrpcStatus(status));
}

void OpenInferenceService::SubmitShadow(const std::shared_ptr<InferCall>& call, absl::Time deadline,
                                        bool logging) {
  ScoreShadow({call->route.shadow, call->logged_inputs, call->prediction_ids, call->request_id,
               call->start, deadline, logging},
              options_.logger, options_.metrics, options_.clock);
}

}  // namespace fabrique::services
