// EntityInference.ValidateCapacity in-process, over fake modules, a fake registry and the real
// access guard: the refusals with their codes, one validation at a time, the evaluation recorded
// with its three metrics, and a dry run that records nothing.

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "grpcpp/client_context.h"
#include "libs/client/channel.h"
#include "libs/server/service_host.h"
#include "libs/serving/model_set.h"
#include "services/inference/capacity_validation.h"
#include "services/inference/entity_inference_service.h"
#include "services/inference/serving_view.h"
#include "tests/services/inference_test_server.h"
#include "tests/serving/fake_registry_port.h"
#include "tests/serving/model_set_fakes.h"
#include "tests/util/test_identity.h"

namespace fabrique::services::inference_test {
namespace {

using serving::testing::Eventually;

// The inference server's EntityInference with capacity validation, over InferenceAdapter's model
// set (churn 2 in production, batches of at most 8 rows) and a fake registry holding versions 2
// and 3.
struct CapacityAdapter {
  InferenceAdapter inference;
  serving::testing::FakeRegistryPort registry;
  std::unique_ptr<CapacityValidation> capacity;
  std::unique_ptr<server::ServiceHost> host;
  std::unique_ptr<EntityInferenceService> entity;
  std::unique_ptr<v1::EntityInference::Stub> stub;

  CapacityAdapter() {
    registry.PutVersion(Versioned("churn", 2));
    registry.PutVersion(Versioned("churn", 3));
    CapacityValidationOptions capacity_options;
    capacity_options.registry = &registry;
    capacity_options.models = inference.models.get();
    capacity_options.batching.max_batch_size = inference.view->MaxBatchSize("churn");
    capacity_options.saturation_duration = absl::Milliseconds(200);
    capacity = std::make_unique<CapacityValidation>(capacity_options);
    EntityPredictOptions predict;
    predict.capacity = capacity.get();
    entity = std::make_unique<EntityInferenceService>(inference.identity.guard(),
                                                      inference.view.get(), predict);
    host = LoopbackHost();
    host->AddService(entity.get(), v1::EntityInference::service_full_name(), "serving");
    REQUIRE(host->Start().ok());
    stub = v1::EntityInference::NewStub(
        client::MakePlaintextChannel(absl::StrCat("127.0.0.1:", host->port())));
    REQUIRE(inference.ApplyAndWait(ChurnPlan(1, 2), 2));
  }
  ~CapacityAdapter() { host->Shutdown(); }

  std::unique_ptr<grpc::ClientContext> As(const std::vector<std::string>& groups,
                                          const std::string& user = "dana") const {
    auto context = inference.identity.Context(user, groups);
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    return context;
  }

  // Runs one validation to its end: every message, and the call's status.
  grpc::Status Validate(const v1::ValidateCapacityRequest& request,
                        std::vector<v1::CapacityProgress>* messages,
                        const std::vector<std::string>& groups = kDana,
                        const std::string& user = "dana") {
    auto context = As(groups, user);
    auto reader = stub->ValidateCapacity(context.get(), request);
    v1::CapacityProgress progress;
    while (reader->Read(&progress)) messages->push_back(progress);
    return reader->Finish();
  }
};

v1::ValidateCapacityRequest Request(int64_t version, double qps = 50, int batch = 2,
                                    int64_t seconds = 1) {
  v1::ValidateCapacityRequest request;
  request.mutable_version()->set_model("churn");
  request.mutable_version()->set_version(version);
  request.set_qps(qps);
  request.set_batch(batch);
  request.mutable_duration()->set_seconds(seconds);
  return request;
}

bool Mentions(const grpc::Status& status, const std::string& text) {
  return absl::StrContains(status.error_message(), text);
}

TEST_CASE("bad arguments are refused with INVALID_ARGUMENT naming the flag, before any load") {
  CapacityAdapter adapter;
  std::vector<v1::CapacityProgress> messages;
  grpc::Status status = adapter.Validate(Request(3, /*qps=*/0), &messages);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Mentions(status, "--qps"));
  status = adapter.Validate(Request(3, 50, /*batch=*/0), &messages);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Mentions(status, "--batch"));
  status = adapter.Validate(Request(3, 50, /*batch=*/9), &messages);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Mentions(status, "max batch size"));
  status = adapter.Validate(Request(3, 50, 2, /*seconds=*/0), &messages);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Mentions(status, "--duration"));
  status = adapter.Validate(Request(3, 50, 2, /*seconds=*/601), &messages);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Mentions(status, "--duration"));
  status = adapter.Validate(Request(0), &messages);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(messages.empty());
  CHECK(adapter.inference.loader.loads(3) == 0);
}

TEST_CASE("an unknown version is NOT_FOUND") {
  CapacityAdapter adapter;
  std::vector<v1::CapacityProgress> messages;
  grpc::Status status = adapter.Validate(Request(9), &messages);
  CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(Mentions(status, "9"));
  CHECK(messages.empty());
}

TEST_CASE("a caller without models.evaluate in the model's squad is refused") {
  CapacityAdapter adapter;
  std::vector<v1::CapacityProgress> messages;
  grpc::Status status = adapter.Validate(Request(3), &messages, kErin, "erin");
  CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(adapter.registry.evaluations().empty());
}

TEST_CASE("a second validation while one runs is RESOURCE_EXHAUSTED") {
  CapacityAdapter adapter;
  adapter.inference.loader.Block(3);
  auto context = adapter.As(kDana);
  auto first = adapter.stub->ValidateCapacity(context.get(), Request(3, 50, 2));
  v1::CapacityProgress progress;
  REQUIRE(first->Read(&progress));
  CHECK(progress.phase() == "loading");

  std::vector<v1::CapacityProgress> messages;
  grpc::Status second = adapter.Validate(Request(2), &messages);
  CHECK(second.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(Mentions(second, "a capacity validation is already running"));

  adapter.inference.loader.Unblock(3);
  while (first->Read(&progress)) {
  }
  CHECK(first->Finish().ok());
  CHECK(progress.phase() == "done");
  // The server takes the next one once the first is over.
  messages.clear();
  v1::ValidateCapacityRequest dry = Request(2);
  dry.set_dry_run(true);
  CHECK(adapter.Validate(dry, &messages).ok());
}

TEST_CASE("a client that cancels stops the load and frees the server for the next validation") {
  CapacityAdapter adapter;
  auto context = adapter.As(kDana);
  auto call = adapter.stub->ValidateCapacity(context.get(), Request(3, 50, 2, /*seconds=*/300));
  v1::CapacityProgress progress;
  while (call->Read(&progress) && progress.phase() != "load") {
  }
  REQUIRE(progress.phase() == "load");
  const absl::Time cancelled = absl::Now();
  context->TryCancel();
  while (call->Read(&progress)) {
  }
  CHECK(call->Finish().error_code() == grpc::StatusCode::CANCELLED);
  // The server stops within a poll or so, far before the 300 s asked for.
  v1::ValidateCapacityRequest dry = Request(2);
  dry.set_dry_run(true);
  std::vector<v1::CapacityProgress> messages;
  CHECK(Eventually([&] {
    messages.clear();
    return adapter.Validate(dry, &messages).error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED;
  }));
  CHECK(absl::Now() - cancelled < absl::Seconds(30));
  CHECK(adapter.registry.evaluations().empty());
}

TEST_CASE("a validation streams its phases and records the three metrics in the registry") {
  CapacityAdapter adapter;
  std::vector<v1::CapacityProgress> messages;
  grpc::Status status = adapter.Validate(Request(3, /*qps=*/100, /*batch=*/4), &messages);
  REQUIRE(status.ok());
  REQUIRE(messages.size() >= 4);
  CHECK(messages.front().phase() == "loading");
  std::vector<std::string> phases;
  for (const v1::CapacityProgress& m : messages) {
    if (phases.empty() || phases.back() != m.phase()) phases.push_back(m.phase());
  }
  CHECK(phases == std::vector<std::string>{"loading", "load", "saturation", "recording", "done"});
  for (size_t i = 0; i + 1 < messages.size(); ++i) CHECK_FALSE(messages[i].has_report());

  const v1::CapacityReport& report = messages.back().report();
  CHECK(report.model() == "churn");
  CHECK(report.version() == 3);
  CHECK(report.device() == "cpu");
  CHECK(report.batch() == 4);
  CHECK(report.offered_qps() == 100);
  CHECK(report.achieved_qps() >= 90);
  CHECK(report.achieved_qps() <= 110);
  CHECK(report.p50_ms() > 0);
  CHECK(report.p99_ms() >= report.p50_ms());
  CHECK(report.max_qps() > 0);
  CHECK(report.failed() == 0);
  REQUIRE(report.has_recorded());
  REQUIRE(report.recorded().evaluations_size() == 1);

  const auto evaluations = adapter.registry.evaluations();
  REQUIRE(evaluations.size() == 1);
  CHECK(evaluations[0].first.model() == "churn");
  CHECK(evaluations[0].first.version() == 3);
  const v1::VersionEvaluation& evaluation = evaluations[0].second;
  CHECK(evaluation.kind() == "capacity");
  REQUIRE(evaluation.metrics_size() == 3);
  CHECK(evaluation.metrics(0).name() == "serving_p50_ms");
  CHECK(evaluation.metrics(0).value() == report.p50_ms());
  CHECK_FALSE(evaluation.metrics(0).higher_is_better());
  CHECK(evaluation.metrics(1).name() == "serving_p99_ms");
  CHECK(evaluation.metrics(1).value() == report.p99_ms());
  CHECK_FALSE(evaluation.metrics(1).higher_is_better());
  CHECK(evaluation.metrics(2).name() == "serving_max_qps");
  CHECK(evaluation.metrics(2).value() == report.max_qps());
  CHECK(evaluation.metrics(2).higher_is_better());
  for (const v1::Metric& metric : evaluation.metrics()) CHECK(metric.split() == "capacity");
  const auto& params = evaluation.params();
  CHECK(params.at("qps") == "100");
  CHECK(params.at("batch") == "4");
  CHECK(params.at("duration") == "1s");
  CHECK(params.at("device") == "cpu");
  CHECK(absl::StrContains(params.at("requested_by"), "dana"));
  CHECK(params.at("max_batch_size") == "8");
  CHECK(params.at("instances") == "1");
  // The validated copy is released: the production version alone stays served.
  CHECK(Eventually([&] { return adapter.inference.loader.destroyed(3) == 1; }));
  CHECK(adapter.inference.loader.destroyed(2) == 0);
}

TEST_CASE("a dry run measures and records nothing") {
  CapacityAdapter adapter;
  v1::ValidateCapacityRequest request = Request(3);
  request.set_dry_run(true);
  std::vector<v1::CapacityProgress> messages;
  REQUIRE(adapter.Validate(request, &messages).ok());
  REQUIRE_FALSE(messages.empty());
  const v1::CapacityProgress& done = messages.back();
  CHECK(done.phase() == "done");
  CHECK(done.report().p50_ms() > 0);
  CHECK_FALSE(done.report().has_recorded());
  for (const v1::CapacityProgress& m : messages) CHECK(m.phase() != "recording");
  CHECK(adapter.registry.evaluations().empty());
}

}  // namespace
}  // namespace fabrique::services::inference_test
