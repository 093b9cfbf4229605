// fabrique-inference as deployed: beside a real registry, serving modules registered through
// the registry's API, checked through its Open Inference Protocol API and its health.

#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "catch2/catch.hpp"
#include "tests/integration/inference_harness.h"

namespace fabrique::testing::inference {
namespace {

// The version that answers kModel's policy now; 0 while none does.
int64_t Answering(InferenceServer& server) {
  ::inference::ModelInferResponse response;
  if (!server.Infer(InferRequest(1), &response).ok()) return 0;
  return std::stoll(response.model_version());
}

// The state of `version` as GetServedModel reports it.
v1::ServedVersionState StateOf(InferenceServer& server, int64_t version) {
  v1::GetServedModelRequest request;
  request.set_name(kModel);
  v1::ServedModel model;
  if (!server.served().GetServedModel(Root().get(), request, &model).ok()) {
    return v1::SERVED_VERSION_STATE_UNSPECIFIED;
  }
  for (const v1::ServedVersion& held : model.versions()) {
    if (held.version() == version) return held.state();
  }
  return v1::SERVED_VERSION_STATE_UNSPECIFIED;
}

struct Deployment {
  TempDir tmp;
  std::unique_ptr<KillableService> registry;
  std::unique_ptr<v1::ModelRegistry::Stub> models;

  explicit Deployment(const std::vector<int>& versions, const std::vector<int>& broken = {}) {
    WriteModules(tmp.path(), versions, broken);
    registry = std::make_unique<KillableService>("fabrique-registry", tmp.Sub("registry"),
                                                 tmp.Sub("registry.log"));
    models = v1::ModelRegistry::NewStub(registry->channel());
    CreateModel(*models);
    for (int n : versions) {
      REQUIRE(RegisterModule(*models, tmp.Sub(absl::StrCat("v", n, ".pt"))) == n);
    }
  }
  std::unique_ptr<InferenceServer> StartInference(const std::string& log) {
    return std::make_unique<InferenceServer>(tmp.Sub("inference"), registry->target(),
                                             tmp.Sub(log));
  }
};

TEST_CASE("The server scores registered modules, answers metadata, and follows the alias") {
  Deployment deployment({1, 2});
  SetProduction(*deployment.models, 1);
  auto server = deployment.StartInference("inference.log");
  server->AwaitReady();

  ::inference::ModelInferResponse response;
  grpc::Status status = server->Infer(InferRequest(3), &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(response.model_version() == "1");
  REQUIRE(response.outputs_size() == 1);
  CHECK(response.outputs(0).name() == "y");
  REQUIRE(response.outputs(0).contents().fp32_contents_size() == 3);
  CHECK(response.outputs(0).contents().fp32_contents(2) == 1.0f);

  // Raw in, raw out.
  ::inference::ModelInferRequest raw = InferRequest(2);
  raw.mutable_inputs(0)->clear_contents();
  const float values[2] = {4, 5};
  raw.add_raw_input_contents(std::string(reinterpret_cast<const char*>(values), sizeof(values)));
  REQUIRE(server->Infer(raw, &response).ok());
  REQUIRE(response.raw_output_contents_size() == 1);
  CHECK(response.raw_output_contents(0).size() == 2 * sizeof(float));

  ::inference::ModelMetadataRequest metadata_request;
  metadata_request.set_name(kModel);
  ::inference::ModelMetadataResponse metadata;
  REQUIRE(server->oip().ModelMetadata(Root().get(), metadata_request, &metadata).ok());
  CHECK(metadata.platform() == "pytorch_torchscript");
  REQUIRE(metadata.inputs_size() == 1);
  CHECK(metadata.inputs(0).name() == "x");

  ::inference::ModelReadyRequest ready_request;
  ready_request.set_name(kModel);
  ::inference::ModelReadyResponse ready;
  REQUIRE(server->oip().ModelReady(Root().get(), ready_request, &ready).ok());
  CHECK(ready.ready());

  ::inference::ModelInferRequest wrong = InferRequest(1);
  wrong.mutable_inputs(0)->set_name("z");
  status = server->Infer(wrong, &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StrContains(status.error_message(), "z"));
  ::inference::ModelInferRequest ghost = InferRequest(1);
  ghost.set_model_name("ghost");
  CHECK(server->Infer(ghost, &response).error_code() == grpc::StatusCode::NOT_FOUND);

  // The alias moves: the new version answers within a second.
  const absl::Time moved = absl::Now();
  SetProduction(*deployment.models, 2);
  REQUIRE(PollUntil([&] { return Answering(*server) == 2; }, kPatience));
  CHECK(absl::Now() - moved < absl::Seconds(1));

  // SIGTERM: a clean stop.
  const std::optional<int> code = server->Terminate();
  REQUIRE(code.has_value());
  CHECK(*code == 0);
}

TEST_CASE("The alias moves 20 times under steady load, once to a broken module: no request fails") {
  Deployment deployment({1, 2, 3, 4}, {3});
  SetProduction(*deployment.models, 1);
  auto server = deployment.StartInference("inference.log");
  server->AwaitReady();

  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  absl::Mutex mu;
  std::vector<std::string> failures;
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      while (!stop.load()) {
        ::inference::ModelInferResponse response;
        grpc::Status status = server->Infer(InferRequest(2), &response);
        std::string failure;
        if (!status.ok()) {
          failure = status.error_message();
        } else if (response.outputs(0).contents().fp32_contents(0) !=
                   std::stof(response.model_version())) {
          failure = absl::StrCat("version ", response.model_version(), " answered ",
                                 response.outputs(0).contents().fp32_contents(0));
        }
        if (!failure.empty()) {
          absl::MutexLock lock(&mu);
          failures.push_back(failure);
        }
        answered.fetch_add(1);
      }
    });
  }
  const int64_t order[] = {2, 1, 3, 4, 2};
  int64_t serving = 1;
  for (int move = 0; move < 20; ++move) {
    const int64_t target = order[move % 5];
    SetProduction(*deployment.models, target);
    if (target == 3) {  // Broken: it fails to load and the previous version keeps answering.
      REQUIRE(PollUntil([&] { return StateOf(*server, 3) == v1::SERVED_VERSION_STATE_FAILED; },
                        kPatience));
      CHECK(Answering(*server) == serving);
      continue;
    }
    REQUIRE(PollUntil([&] { return Answering(*server) == target; }, kPatience));
    serving = target;
  }
  stop.store(true);
  for (std::thread& client : clients) client.join();
  absl::MutexLock lock(&mu);
  INFO((failures.empty() ? "" : failures.front()));
  CHECK(failures.empty());
  CHECK(answered.load() > 20);
}

TEST_CASE("Restarted with the registry down, the server serves its cached plan and says so") {
  Deployment deployment({1});
  SetProduction(*deployment.models, 1);
  {
    auto first = deployment.StartInference("first.log");
    first->AwaitReady();
    REQUIRE(Answering(*first) == 1);
    REQUIRE(first->Terminate() == std::optional<int>(0));
  }
  deployment.registry->Kill();
  auto second = deployment.StartInference("second.log");
  second->AwaitReady();
  CHECK(Answering(*second) == 1);
  ::inference::ServerReadyResponse ready;
  REQUIRE(second->oip().ServerReady(Root().get(), {}, &ready).ok());
  CHECK(ready.ready());
  v1::ListServedModelsResponse list;
  REQUIRE(second->served().ListServedModels(Root().get(), {}, &list).ok());
  CHECK_FALSE(list.registry_connected());
  absl::StatusOr<std::string> metrics = HttpGet("127.0.0.1", second->metrics_port(), "/metrics");
  REQUIRE(metrics.ok());
  CHECK(absl::StrContains(*metrics, "fabrique_inference_serving_from_cache 1"));
  CHECK(absl::StrContains(cli::TailFile(second->log_path(), 200), "\"from_cache\":true"));
}

}  // namespace
}  // namespace fabrique::testing::inference
