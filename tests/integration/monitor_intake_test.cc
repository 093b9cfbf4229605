// The prediction log through the real binaries: fabrique-inference serving a model of the
// registry logs every scored row (ModelInfer and entity Predict) to fabrique-monitor, which
// counts them on /metrics and stores them with their request id, row and alias (read back from
// its data dir once it has stopped); outcomes for those predictions are then matched. A monitor
// killed mid-traffic fails no prediction: the inference server counts what it drops.

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/features.grpc.pb.h"
#include "fabrique/v1/monitor.grpc.pb.h"
#include "libs/monitoring/intake/intake_store.h"
#include "tests/integration/inference_harness.h"

namespace fabrique::testing::inference {
namespace {

// Entity customer and group profile (tenure DOUBLE), risk's: what the model's input names.
void ApplyTenure(v1::FeatureStore::Stub& store) {
  v1::ApplyEntityRequest entity;
  entity.mutable_entity()->set_name("customer");
  entity.mutable_entity()->set_join_key("customer_id");
  entity.mutable_entity()->set_owner_squad("risk");
  v1::Entity stored;
  REQUIRE(store.ApplyEntity(Root().get(), entity, &stored).ok());
  v1::ApplyFeatureGroupRequest apply;
  apply.mutable_spec()->set_name("profile");
  apply.mutable_spec()->set_entity("customer");
  apply.mutable_spec()->set_owner_squad("risk");
  v1::FeatureSpec* tenure = apply.mutable_spec()->add_features();
  tenure->set_name("tenure");
  tenure->set_type(v1::FEATURE_TYPE_DOUBLE);
  v1::ApplyFeatureGroupResponse applied;
  const grpc::Status status = store.ApplyFeatureGroup(Root().get(), apply, &applied);
  INFO(status.error_message());
  REQUIRE(status.ok());
}

// Creates kModel (risk's, binary classification) and registers the module at `path` as its
// production version: input tenure (profile:tenure), output probability.
int64_t RegisterScoring(v1::ModelRegistry::Stub& stub, const std::string& path) {
  v1::CreateModelRequest create;
  create.mutable_model()->set_name(kModel);
  create.mutable_model()->set_owner_squad("risk");
  create.mutable_model()->set_task(v1::TASK_BINARY_CLASSIFICATION);
  v1::Model model;
  REQUIRE(stub.CreateModel(Root().get(), create, &model).ok());
  v1::RegisterVersionRequest request = ModuleVersionRequest(stub, path);
  v1::ModelVersion* version = request.mutable_version();
  v1::ModelSignature* signature = version->mutable_signature();
  signature->add_class_labels("stay");
  signature->add_class_labels("churn");
  v1::TensorSpec* input = signature->add_inputs();
  input->set_name("tenure");
  input->set_datatype("FP32");
  input->add_shape(-1);
  input->add_shape(1);
  input->mutable_feature()->mutable_ref()->set_group("profile");
  input->mutable_feature()->mutable_ref()->set_feature("tenure");
  input->mutable_feature()->set_schema_version(1);
  input->mutable_feature()->set_type(v1::FEATURE_TYPE_DOUBLE);
  AddProbabilityOutput(*signature);
  const int64_t number = Register(stub, request);
  SetProduction(stub, number);
  return number;
}

// Predict for customers `keys`, their tenure supplied.
v1::PredictRequest PredictTenure(const std::vector<std::string>& keys, const std::string& id) {
  v1::PredictRequest request;
  request.mutable_model()->set_model(kModel);
  request.set_request_id(id);
  v1::EntityKeys* column = request.add_entity_keys();
  column->set_entity("customer");
  v1::FeatureColumn* tenure = request.add_supplied_features();
  tenure->mutable_feature()->set_group("profile");
  tenure->mutable_feature()->set_feature("tenure");
  for (size_t i = 0; i < keys.size(); ++i) {
    column->add_keys(keys[i]);
    tenure->mutable_values()->mutable_double_values()->add_values(static_cast<double>(i));
  }
  return request;
}

::inference::ModelInferRequest InferTenure(int rows, const std::string& id) {
  ::inference::ModelInferRequest request = InferRequest(rows, "", "tenure");
  request.set_id(id);
  return request;
}

// The sum of the samples of `name` whose labels include `label` on the server's /metrics.
double Scrape(int port, const std::string& name, const std::string& label) {
  absl::StatusOr<std::string> body = HttpGet("127.0.0.1", port, "/metrics");
  if (!body.ok()) return -1;
  double total = 0;
  for (absl::string_view line : absl::StrSplit(*body, '\n')) {
    if (!absl::StartsWith(line, name) || !absl::StrContains(line, label)) continue;
    double value = 0;
    if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &value)) total += value;
  }
  return total;
}

// The deployment: features, registry, monitor and inference, each its real binary.
struct Deployment {
  TempDir tmp;
  KillableService features{"fabrique-features", tmp.Sub("features"), tmp.Sub("features.log")};
  KillableService registry{"fabrique-registry", tmp.Sub("registry"), tmp.Sub("registry.log")};
  std::unique_ptr<KillableService> monitor = std::make_unique<KillableService>(
      "fabrique-monitor", tmp.Sub("monitor"), tmp.Sub("monitor.log"),
      std::vector<std::string>{absl::StrCat("--registry_target=", registry.target())});
  std::unique_ptr<v1::ModelRegistry::Stub> models = v1::ModelRegistry::NewStub(registry.channel());
  int64_t version = 0;
  std::unique_ptr<KillableService> inference;

  Deployment() {
    auto store = v1::FeatureStore::NewStub(features.channel());
    ApplyTenure(*store);
    WriteTabularModule(tmp.Sub("scoring.pt"));
    version = RegisterScoring(*models, tmp.Sub("scoring.pt"));
    inference = std::make_unique<KillableService>(
        "fabrique-inference", tmp.Sub("inference"), tmp.Sub("inference.log"),
        std::vector<std::string>{absl::StrCat("--registry_target=", registry.target()),
                                 absl::StrCat("--features_target=", features.target()),
                                 absl::StrCat("--monitor_target=", monitor->target()),
                                 absl::StrCat("--models=", kModel), "--device=cpu",
                                 "--intra_op_threads=1"});
    const absl::Status serving = client::WaitUntilServing(
        inference->channel(), ::inference::GRPCInferenceService::service_full_name(), kPatience);
    INFO(serving.message() << "\n" << cli::TailFile(inference->log_path(), 30));
    REQUIRE(serving.ok());
  }
  double Accepted() {
    return Scrape(monitor->metrics_port(), "fabrique_monitor_predictions_total",
                  "outcome=\"accepted\"");
  }
};

TEST_CASE("Predictions served end up in the monitor, and their outcomes are matched") {
  Deployment d;
  auto entity = v1::EntityInference::NewStub(d.inference->channel());
  auto oip = ::inference::GRPCInferenceService::NewStub(d.inference->channel());
  v1::PredictResponse predicted;
  grpc::Status status =
      entity->Predict(Root().get(), PredictTenure({"c1", "c2"}, "req-p"), &predicted);
  INFO(status.error_message() << "\n" << cli::TailFile(d.inference->log_path(), 20));
  REQUIRE(status.ok());
  REQUIRE(predicted.predictions_size() == 2);
  ::inference::ModelInferResponse inferred;
  status = oip->ModelInfer(Root().get(), InferTenure(3, "req-i"), &inferred);
  INFO(status.error_message());
  REQUIRE(status.ok());

  // Five rows reach the monitor's counters.
  REQUIRE(PollUntil([&] { return d.Accepted() >= 5; }, kPatience));
  CHECK(d.Accepted() == 5);

  // Outcomes for the entity predictions, by id, as a risk data scientist: both matched.
  auto monitor = v1::Monitor::NewStub(d.monitor->channel());
  v1::LogOutcomesRequest outcomes;
  outcomes.set_batch_id("truth-1");
  for (const v1::EntityPrediction& prediction : predicted.predictions()) {
    REQUIRE_FALSE(prediction.prediction_id().empty());
    v1::Outcome* outcome = outcomes.add_outcomes();
    outcome->set_prediction_id(prediction.prediction_id());
    outcome->mutable_label()->set_bool_value(true);
    outcome->mutable_observe_time()->set_seconds(absl::ToUnixSeconds(absl::Now()));
  }
  v1::LogOutcomesResponse logged;
  auto context = TokenContext(LocalIdentity(), "dana", {"risk:data-scientist"}, kPatience);
  auto writer = monitor->LogOutcomes(context.get(), &logged);
  REQUIRE(writer->Write(outcomes));
  writer->WritesDone();
  status = writer->Finish();
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(logged.matched() == 2);
  CHECK(Scrape(d.monitor->metrics_port(), "fabrique_monitor_outcomes_total",
               "outcome=\"matched\"") == 2);

  // The monitor stops; its data dir holds every row with its request, row and alias.
  d.monitor->Kill();
  monitoring::IntakeOptions options;
  options.dir = d.tmp.Sub("monitor/intake");
  auto store = monitoring::IntakeStore::Open(std::move(options));
  INFO(store.status().ToString());
  REQUIRE(store.ok());
  std::map<std::string, std::vector<int64_t>> rows_by_request;
  const absl::Time now = absl::Now();
  REQUIRE((*store)
              ->ScanPredictions(kModel, d.version, now - absl::Hours(1), now + absl::Hours(1),
                                [&](const monitoring::StoredPrediction& stored) {
                                  const v1::PredictionRecord& record = stored.record;
                                  CHECK(record.alias() == "production");
                                  CHECK_FALSE(stored.unknown_version);
                                  rows_by_request[record.request_id()].push_back(record.row());
                                  return true;
                                })
              .ok());
  for (auto& [request, rows] : rows_by_request) std::sort(rows.begin(), rows.end());
  CHECK(rows_by_request["req-p"] == std::vector<int64_t>{0, 1});
  CHECK(rows_by_request["req-i"] == std::vector<int64_t>{0, 1, 2});
  int joined = 0;
  REQUIRE((*store)
              ->ScanJoined(kModel, d.version, now - absl::Hours(1), now + absl::Hours(1),
                           [&](const monitoring::JoinedPrediction&) { return ++joined > 0; })
              .ok());
  CHECK(joined == 2);
}

TEST_CASE("A monitor killed mid-traffic fails no prediction; the inference server counts drops") {
  Deployment d;
  auto oip = ::inference::GRPCInferenceService::NewStub(d.inference->channel());
  ::inference::ModelInferResponse inferred;
  REQUIRE(oip->ModelInfer(Root().get(), InferTenure(1, "before"), &inferred).ok());
  REQUIRE(PollUntil([&] { return d.Accepted() >= 1; }, kPatience));
  d.monitor->Kill();
  for (int i = 0; i < 5; ++i) {
    const grpc::Status status = oip->ModelInfer(Root().get(), InferTenure(2, "after"), &inferred);
    INFO(status.error_message());
    CHECK(status.ok());
  }
  const int port = d.inference->metrics_port();
  CHECK(PollUntil(
      [&] {
        return Scrape(port, "fabrique_inference_log_records_dropped_total", "send_failed") >= 10;
      },
      kPatience));
}

}  // namespace
}  // namespace fabrique::testing::inference
