// EntityInferenceService::Predict: one entity request from its check to its answer, without a
// gRPC thread waiting on the feature store or a model (their callbacks carry the call on).

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "libs/core/grpc_status.h"
#include "services/inference/entity_inference_service.h"
#include "services/inference/entity_predict_call.h"
#include "services/inference/entity_predict_rows.h"
#include "services/inference/entity_predict_shadow.h"
#include "services/inference/prediction_records.h"

namespace fabrique::services {
namespace {

// The call's deadline; none when the client set none.
absl::Time CallDeadline(const grpc::CallbackServerContext& context) {
  const auto deadline = context.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return absl::InfiniteFuture();
  return absl::FromChrono(deadline);
}

// The permission that keeps a request out of the prediction log: the one that feeds it.
constexpr char kSkipLogging[] = "predictions.log";

}  // namespace

EntityInferenceService::EntityInferenceService(const server::Access* guard,
                                               const ServingView* serving,
                                               EntityPredictOptions predict)
    : EntityInferenceService(guard, serving) {
  predict_ = predict;
  messages_ = std::make_unique<PredictMessagePool>();
  SetMessageAllocatorFor_Predict(messages_.get());
}

grpc::ServerUnaryReactor* EntityInferenceService::Predict(grpc::CallbackServerContext* context,
                                                          const v1::PredictRequest* request,
                                                          v1::PredictResponse* response) {
  auto call = std::make_shared<PredictCall>();
  call->reactor = context->DefaultReactor();
  call->request = request;
  call->response = response;
  call->model = request->model().model();
  call->start = predict_.clock->Now();
  call->deadline = CallDeadline(*context);
  absl::Status status = access_.Check(*context, "Predict", *request).status();
  if (status.ok()) {
    status = PlanPredictCall(serving_->models(), serving_->MaxBatchSize(call->model), *call);
  }
  if (!status.ok()) {
    Fail(*call, status);
    return call->reactor;
  }
  call->logging = predict_.logger != nullptr && predict_.logger->enabled() &&
                  !(request->skip_logging() && MaySkipLogging(*context, call->model));
  call->request_id =
      request->request_id().empty() ? serving::NewPredictionId() : request->request_id();
  LookUp(call);
  return call->reactor;
}

void EntityInferenceService::LookUp(const std::shared_ptr<PredictCall>& call) {
  std::vector<size_t> looked_up;
  for (size_t i = 0; i < call->feeds.size(); ++i) {
    if (call->feeds[i].plan.lookup->features_size() > 0) looked_up.push_back(i);
  }
  if (looked_up.empty()) {
    StartPredictions(*call);
    return Score(call);
  }
  if (predict_.features == nullptr) {
    return Fail(*call, absl::UnavailableError(absl::StrCat(
                           "the feature store is unavailable: this server reads no features; "
                           "supply every input of model '",
                           call->model, "' in supplied_features")));
  }
  call->lookup_start = predict_.clock->Now();
  // The answer's per-row part (ids, versions) is made on this thread while the lookups are out,
  // off the request's path: it counts as one more thing to wait for.
  call->Expect(static_cast<int>(looked_up.size()) + 1);
  call->lookups_out = static_cast<int>(looked_up.size());
  for (size_t i : looked_up) {
    predict_.features->Lookup(call->feeds[i].plan.lookup, call->deadline,
                              [this, call, i](absl::StatusOr<serving::LookupAnswer> answer) {
                                if (answer.ok()) call->feeds[i].answer = *std::move(answer);
                                if (--call->lookups_out == 0 && predict_.metrics != nullptr) {
                                  predict_.metrics->OnFeatureLookup(
                                      call->model, predict_.clock->Now() - call->lookup_start);
                                }
                                if (call->Done(answer.status())) LookedUp(call);
                              });
  }
  StartPredictions(*call);
  if (call->Done(absl::OkStatus())) LookedUp(call);
}

void EntityInferenceService::LookedUp(const std::shared_ptr<PredictCall>& call) {
  if (absl::Status failed = call->Failure(); !failed.ok()) return Fail(*call, failed);
  Score(call);
}

void EntityInferenceService::Score(const std::shared_ptr<PredictCall>& call) {
  for (PredictFeed& feed : call->feeds) {
    absl::StatusOr<serving::EntityRows> rows = serving::AssembleEntityRows(
        *feed.signature, feed.plan,
        feed.answer != nullptr ? *feed.answer : v1::LookupOnlineResponse::default_instance(),
        call->request->supplied_features());
    if (!rows.ok()) return Fail(*call, rows.status());
    feed.rows = *std::move(rows);
  }
  // A request answered by one version (the usual case) hands it the feed's rows whole: no slice
  // copied, unless return_features still reads the feed's rows when answering.
  const bool whole = call->parts.size() == 1 && !call->request->return_features();
  for (PredictPart& part : call->parts) {
    if (whole) {
      part.inputs = std::move(call->feeds[part.feed].rows.inputs);
      continue;
    }
    absl::StatusOr<serving::TensorBatch> inputs =
        GatherRows(call->feeds[part.feed].rows.inputs, part.rows);
    if (!inputs.ok()) return Fail(*call, inputs.status());
    part.inputs = *std::move(inputs);
  }
  call->Expect(static_cast<int>(call->parts.size()));
  for (size_t i = 0; i < call->parts.size(); ++i) {
    if (call->parts[i].route.shadow != nullptr) SubmitShadow(call, i);
    PredictPart& part = call->parts[i];
    // Only the prediction log reads the inputs after scoring (the shadow has its copy already):
    // without it they move to the batcher rather than being copied.
    serving::TensorBatch inputs = call->logging ? part.inputs : std::move(part.inputs);
    part.route.version->Submit(std::move(inputs), call->deadline,
                               [this, call, &part](absl::StatusOr<serving::TensorBatch> outputs,
                                                   const serving::BatchStats& stats) {
                                 const absl::Status status = outputs.status();
                                 part.answer = std::move(outputs);
                                 part.stats = stats;
                                 if (call->Done(status)) Answer(*call);
                               });
  }
}

void EntityInferenceService::Answer(PredictCall& call) {
  absl::Status status = call.Failure();
  if (status.ok()) status = BuildPredictions(call);
  const absl::Time now = predict_.clock->Now();
  const absl::Duration took = now - call.start;
  if (status.ok()) {
    call.response->set_request_id(call.request_id);
  } else {
    call.response->Clear();
  }
  // The answer goes first: the prediction log's records and the metrics are built off the
  // request path. From here on the call's request and response belong to gRPC; what follows
  // reads only the call's own copies (ids, inputs, outputs).
  call.reactor->Finish(core::ToGrpcStatus(status));
  for (const PredictPart& part : call.parts) {
    const serving::ServedVersion& version = *part.route.version;
    if (status.ok() && call.logging) {  // StartPredictions kept the ids for the log.
      std::vector<std::string> ids;
      for (int64_t row : part.rows) ids.push_back(call.prediction_ids[row]);
      RecordContext context{version.model(),
                            version.version(),
                            part.route.alias,
                            part.route.canary,
                            false,
                            call.request_id,
                            now,
                            took};
      for (v1::PredictionRecord& record : RowRecords(context, part.inputs, *part.answer, ids, {})) {
        predict_.logger->Log(std::move(record));
      }
    }
    if (predict_.metrics != nullptr) {
      predict_.metrics->OnRequest(version.model(), version.version(),
                                  absl::StatusCodeToString(status.code()), took, part.answer.ok(),
                                  part.stats, static_cast<int64_t>(part.rows.size()));
    }
  }
}

void EntityInferenceService::Fail(PredictCall& call, const absl::Status& status) {
  if (predict_.metrics != nullptr) {
    predict_.metrics->OnRequest(call.model, 0, absl::StatusCodeToString(status.code()),
                                predict_.clock->Now() - call.start, false, {}, 0);
  }
  call.response->Clear();
  call.reactor->Finish(core::ToGrpcStatus(status));
}

bool EntityInferenceService::MaySkipLogging(const grpc::CallbackServerContext& context,
                                            const std::string& model) const {
  absl::StatusOr<server::Authentication> who = access_.guard().Authenticate(context);
  absl::StatusOr<std::string> owner = serving_->OwnerOf(model);
  if (!who.ok() || !owner.ok()) return false;
  return access_.guard().Decide(*who, kSkipLogging, *owner).allowed;
}

void EntityInferenceService::SubmitShadow(const std::shared_ptr<PredictCall>& call, size_t index) {
  const PredictPart& part = call->parts[index];
  ShadowScoring scoring{part.route.shadow, part.inputs,    {},           call->request_id,
                        call->start,       call->deadline, call->logging};
  for (int64_t row : part.rows) scoring.primary_ids.push_back(call->prediction_ids[row]);
  ScoreShadow(std::move(scoring), predict_.logger, predict_.metrics, predict_.clock);
}

}  // namespace fabrique::services
