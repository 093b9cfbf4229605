// Capacity validation through the real binaries: fabrique-inference measures a version that is
// not in production and appends its figures to the version in fabrique-registry; a promotion
// policy gating on serving_p99_ms then refuses a version without figures and lets the measured
// one through.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "tests/integration/inference_harness.h"

namespace fabrique::testing::inference {
namespace {

struct CapacityDeployment {
  TempDir tmp;
  std::unique_ptr<KillableService> registry;
  std::unique_ptr<v1::ModelRegistry::Stub> models;
  std::unique_ptr<InferenceServer> server;

  CapacityDeployment() {
    WriteModules(tmp.path(), {1, 2, 3});
    registry = std::make_unique<KillableService>("fabrique-registry", tmp.Sub("registry"),
                                                 tmp.Sub("registry.log"));
    models = v1::ModelRegistry::NewStub(registry->channel());
    CreateModel(*models);
    for (int n : {1, 2, 3}) {
      REQUIRE(RegisterModule(*models, tmp.Sub(absl::StrCat("v", n, ".pt"))) == n);
    }
    SetProduction(*models, 1);
    server = std::make_unique<InferenceServer>(tmp.Sub("inference"), registry->target(),
                                               tmp.Sub("inference.log"));
    server->AwaitReady();
  }

  grpc::Status Validate(int64_t version, bool dry_run, std::vector<v1::CapacityProgress>* out) {
    v1::ValidateCapacityRequest request;
    request.mutable_version()->set_model(kModel);
    request.mutable_version()->set_version(version);
    request.set_qps(40);
    request.set_batch(4);
    request.mutable_duration()->set_seconds(1);
    request.set_dry_run(dry_run);
    auto context = Root(absl::Minutes(2));
    auto reader = server->served().ValidateCapacity(context.get(), request);
    v1::CapacityProgress progress;
    while (reader->Read(&progress)) out->push_back(progress);
    return reader->Finish();
  }

  v1::ModelVersion Version(int64_t number) {
    v1::GetVersionRequest request;
    request.mutable_ref()->set_model(kModel);
    request.mutable_ref()->set_version(number);
    v1::ModelVersion version;
    REQUIRE(models->GetVersion(Root().get(), request, &version).ok());
    return version;
  }

  grpc::Status Promote(int64_t version, v1::PromotionRequest* answer) {
    v1::RequestPromotionRequest ask;
    ask.set_model(kModel);
    ask.set_alias("production");
    ask.set_version(version);
    return models->RequestPromotion(Root().get(), ask, answer);
  }
};

TEST_CASE("a non-production version is measured, recorded, and then passes a p99 gate") {
  CapacityDeployment d;
  std::vector<v1::CapacityProgress> messages;
  grpc::Status status = d.Validate(2, /*dry_run=*/false, &messages);
  INFO(status.error_message() << "\n" << cli::TailFile(d.server->log_path(), 30));
  REQUIRE(status.ok());
  REQUIRE_FALSE(messages.empty());
  CHECK(messages.front().phase() == "loading");
  const v1::CapacityReport& report = messages.back().report();
  CHECK(messages.back().phase() == "done");
  CHECK(report.device() == "cpu");
  CHECK(report.failed() == 0);
  CHECK(report.p50_ms() > 0);
  CHECK(report.p99_ms() >= report.p50_ms());
  CHECK(report.max_qps() > 0);
  CHECK(report.achieved_qps() >= 36);
  CHECK(report.achieved_qps() <= 44);

  // The registry shows the evaluation, by the inference server, for root.
  const v1::ModelVersion measured = d.Version(2);
  REQUIRE(measured.evaluations_size() == 1);
  const v1::VersionEvaluation& evaluation = measured.evaluations(0);
  CHECK(evaluation.kind() == "capacity");
  CHECK(absl::StrContains(evaluation.evaluated_by().subject(), "inference"));
  CHECK(absl::StrContains(evaluation.params().at("requested_by"), "root"));
  std::vector<std::string> names;
  for (const v1::Metric& metric : evaluation.metrics()) names.push_back(metric.name());
  CHECK(names == std::vector<std::string>{"serving_p50_ms", "serving_p99_ms", "serving_max_qps"});
  // Production still answers with version 1: the measured copy was never routed to.
  ::inference::ModelInferResponse response;
  REQUIRE(d.server->Infer(InferRequest(1), &response).ok());
  CHECK(response.model_version() == "1");

  // A dry run records nothing more.
  messages.clear();
  REQUIRE(d.Validate(2, /*dry_run=*/true, &messages).ok());
  CHECK(d.Version(2).evaluations_size() == 1);

  // Production is gated on serving_p99_ms <= 10 s: version 3 has no figures and is refused,
  // version 2 has them and moves the alias.
  v1::SetPromotionPolicyRequest set_policy;
  set_policy.mutable_policy()->set_model(kModel);
  set_policy.mutable_policy()->set_alias("production");
  v1::MetricThreshold* gate = set_policy.mutable_policy()->add_metric_gates();
  gate->set_metric("serving_p99_ms");
  gate->set_op(v1::COMPARISON_OP_LESS_OR_EQUAL);
  gate->set_value(10000);
  v1::PromotionPolicy policy;
  REQUIRE(d.models->SetPromotionPolicy(Root().get(), set_policy, &policy).ok());
  v1::PromotionRequest answer;
  const grpc::Status refused = d.Promote(3, &answer);
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(refused.error_message(), "serving_p99_ms"));
  const grpc::Status allowed = d.Promote(2, &answer);
  INFO(allowed.error_message());
  REQUIRE(allowed.ok());
  CHECK(answer.state() == v1::PROMOTION_STATE_COMPLETED);
}

TEST_CASE("an unknown version is NOT_FOUND and a batch above the server's is INVALID_ARGUMENT") {
  CapacityDeployment d;
  std::vector<v1::CapacityProgress> messages;
  CHECK(d.Validate(9, false, &messages).error_code() == grpc::StatusCode::NOT_FOUND);
  v1::ValidateCapacityRequest request;
  request.mutable_version()->set_model(kModel);
  request.mutable_version()->set_version(2);
  request.set_qps(10);
  request.set_batch(9);  // The server runs with --max_batch_size=8.
  request.mutable_duration()->set_seconds(1);
  auto context = Root();
  auto reader = d.server->served().ValidateCapacity(context.get(), request);
  v1::CapacityProgress progress;
  while (reader->Read(&progress)) {
  }
  const grpc::Status status = reader->Finish();
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StrContains(status.error_message(), "--batch"));
  CHECK(d.Version(2).evaluations_size() == 0);
}

}  // namespace
}  // namespace fabrique::testing::inference
