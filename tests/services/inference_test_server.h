#ifndef FABRIQUE_TESTS_SERVICES_INFERENCE_TEST_SERVER_H_
#define FABRIQUE_TESTS_SERVICES_INFERENCE_TEST_SERVER_H_

// The inference server's adapters served in-process on a loopback port, wired as
// `fabrique-inference` wires them, over a model set of fake modules (each answers with its
// version number, tests/serving/model_set_fakes.h), a fake monitor, and a real access guard:
// callers present tokens for the users they play ("risk:data-scientist" may score risk's
// models).

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "grpcpp/client_context.h"
#include "libs/client/channel.h"
#include "libs/server/service_host.h"
#include "libs/serving/model_set.h"
#include "libs/serving/prediction_logger.h"
#include "services/inference/entity_inference_service.h"
#include "services/inference/inference_metrics.h"
#include "services/inference/open_inference_service.h"
#include "services/inference/serving_view.h"
#include "tests/serving/fake_monitor.h"
#include "tests/serving/model_set_fakes.h"
#include "tests/util/test_identity.h"

namespace fabrique::services::inference_test {

inline const std::vector<std::string> kDana = {"risk:data-scientist"};
inline const std::vector<std::string> kErin = {"fraud:data-scientist"};

// A version of `model` owned by risk: one FP32 input "x" [-1, 1], one FP32 output "version".
inline v1::ModelVersion Versioned(const std::string& model, int64_t version) {
  v1::ModelVersion record = serving::testing::Record(model, version);
  v1::TensorSpec* input = record.mutable_signature()->add_inputs();
  input->set_name("x");
  input->set_datatype("FP32");
  input->add_shape(-1);
  input->add_shape(1);
  v1::TensorSpec* output = record.mutable_signature()->add_outputs();
  output->set_name("version");
  output->set_datatype("FP32");
  output->add_shape(-1);
  output->add_shape(1);
  return record;
}

// A plan of "churn" (owned by risk) at `primary`, with `candidate` under the given policy.
inline serving::ServingPlan ChurnPlan(int64_t revision, int64_t primary, int64_t candidate = 0,
                                      double canary_percent = 0, bool shadow = false) {
  serving::ServedModelPlan model =
      serving::testing::ModelPlan("churn", primary, candidate, canary_percent, shadow);
  model.owner_squad = "risk";
  for (auto& [number, record] : model.versions) record = Versioned("churn", number);
  return serving::testing::Plan(revision, {model});
}

// `rows` rows of "x" for churn, typed.
inline inference::ModelInferRequest InferRequest(int rows, const std::string& version = "") {
  inference::ModelInferRequest request;
  request.set_model_name("churn");
  request.set_model_version(version);
  request.set_id("req-1");
  auto* input = request.add_inputs();
  input->set_name("x");
  input->set_datatype("FP32");
  input->add_shape(rows);
  input->add_shape(1);
  for (int i = 0; i < rows; ++i) input->mutable_contents()->add_fp32_contents(0.25f * i);
  return request;
}

// A plaintext service host on a free loopback port, without metrics, not started.
inline std::unique_ptr<server::ServiceHost> LoopbackHost() {
  server::ServiceHostOptions host_options;
  host_options.plaintext = true;
  host_options.service_name = "inference";
  host_options.listen_host = "127.0.0.1";
  host_options.metrics_port = -1;
  return *server::ServiceHost::Create(host_options);
}

struct InferenceAdapter {
  fabrique::testing::TestIdentity identity;
  serving::testing::FakeLoader loader;
  serving::testing::FakeMonitor monitor;
  std::unique_ptr<server::ServiceHost> host;
  std::unique_ptr<InferenceMetrics> metrics;
  std::unique_ptr<serving::ModelSet> models;
  std::unique_ptr<serving::PredictionLogger> logger;
  std::unique_ptr<ServingView> view;
  std::unique_ptr<OpenInferenceService> open;
  std::unique_ptr<EntityInferenceService> entity;
  std::unique_ptr<inference::GRPCInferenceService::Stub> oip;
  std::unique_ptr<v1::EntityInference::Stub> served;

  InferenceAdapter() {
    host = LoopbackHost();
    metrics = std::make_unique<InferenceMetrics>(host->metrics());
    serving::ModelSetOptions set_options;
    set_options.loader = &loader;
    set_options.fetch_module = serving::testing::FetchPath;
    set_options.observer = metrics.get();
    set_options.batching.max_batch_size = 8;
    set_options.routing_seed = 1;
    models = *serving::ModelSet::Create(set_options);
    serving::PredictionLoggerOptions log_options;
    log_options.monitor = &monitor;
    log_options.flush_interval = absl::Milliseconds(1);
    log_options.observer = metrics.get();
    logger = *serving::PredictionLogger::Create(log_options);
    view =
        std::make_unique<ServingView>(ServingViewOptions{models.get(), set_options.batching, {}});
    open = std::make_unique<OpenInferenceService>(
        OpenInferenceOptions{"1.2.3", identity.guard(), view.get(), logger.get(), metrics.get()});
    entity = std::make_unique<EntityInferenceService>(identity.guard(), view.get());
    host->AddService(open.get(), inference::GRPCInferenceService::service_full_name(), "serving");
    host->AddService(entity.get(), v1::EntityInference::service_full_name(), "serving");
    REQUIRE(host->Start().ok());
    auto channel = client::MakePlaintextChannel(absl::StrCat("127.0.0.1:", host->port()));
    oip = inference::GRPCInferenceService::NewStub(channel);
    served = v1::EntityInference::NewStub(channel);
  }
  ~InferenceAdapter() {
    host->Shutdown();
    models->Stop();
    logger->Stop(absl::Now());
  }

  // Applies `plan` and waits until the server is ready with `version` of churn READY.
  bool ApplyAndWait(const serving::ServingPlan& plan, int64_t version) {
    view->OnPlan(plan);
    return serving::testing::Eventually([&] {
      return view->Ready() &&
             serving::testing::HasState(*models, "churn", version, serving::VersionState::kReady);
    });
  }

  std::unique_ptr<grpc::ClientContext> As(const std::vector<std::string>& groups,
                                          const std::string& user = "dana") const {
    auto context = identity.Context(user, groups);
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    return context;
  }

  grpc::Status Infer(const inference::ModelInferRequest& request,
                     inference::ModelInferResponse* response,
                     const std::vector<std::string>& groups = kDana) {
    return oip->ModelInfer(As(groups).get(), request, response);
  }
};

}  // namespace fabrique::services::inference_test

#endif  // FABRIQUE_TESTS_SERVICES_INFERENCE_TEST_SERVER_H_
