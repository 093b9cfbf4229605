// Entity-keyed Predict through the real binaries: fabrique-features holding a customer's
// features, fabrique-registry holding a tabular TorchScript module (the trainer's calling
// convention) whose signature names them, and fabrique-inference reading them online: values as
// the module computes them, a supplied override, MISSING reported, skew refused once the group's
// schema moves, and the feature store down refusing Predict while ModelInfer still answers.

#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/features.grpc.pb.h"
#include "tests/integration/inference_harness.h"

namespace fabrique::testing::inference {
namespace {

// Entity customer and group profile (tenure DOUBLE, plan STRING, and `extra` features), risk's.
void ApplyProfile(v1::FeatureStore::Stub& store, const std::vector<std::string>& extra = {}) {
  v1::ApplyEntityRequest entity;
  entity.mutable_entity()->set_name("customer");
  entity.mutable_entity()->set_join_key("customer_id");
  entity.mutable_entity()->set_owner_squad("risk");
  v1::Entity stored;
  REQUIRE(store.ApplyEntity(Root().get(), entity, &stored).ok());
  v1::ApplyFeatureGroupRequest apply;
  v1::FeatureGroupSpec* spec = apply.mutable_spec();
  spec->set_name("profile");
  spec->set_entity("customer");
  spec->set_owner_squad("risk");
  v1::FeatureSpec* tenure = spec->add_features();
  tenure->set_name("tenure");
  tenure->set_type(v1::FEATURE_TYPE_DOUBLE);
  v1::FeatureSpec* plan = spec->add_features();
  plan->set_name("plan");
  plan->set_type(v1::FEATURE_TYPE_STRING);
  for (const std::string& name : extra) {
    v1::FeatureSpec* more = spec->add_features();
    more->set_name(name);
    more->set_type(v1::FEATURE_TYPE_DOUBLE);
  }
  v1::ApplyFeatureGroupResponse applied;
  const grpc::Status status = store.ApplyFeatureGroup(Root().get(), apply, &applied);
  INFO(status.error_message());
  REQUIRE(status.ok());
}

// c1: tenure 2, gold; c2: tenure -1, free.
void IngestProfiles(v1::FeatureStore::Stub& store) {
  v1::IngestRequest request;
  request.set_batch_id("profiles");
  request.set_group("profile");
  v1::RowBatch* rows = request.mutable_rows();
  const int64_t now = absl::ToUnixMicros(absl::Now() - absl::Minutes(1));
  for (const char* key : {"c1", "c2"}) {
    rows->add_entity_keys(key);
    rows->add_event_time_unix_micros(now);
  }
  v1::FeatureColumn* tenure = rows->add_columns();
  tenure->mutable_feature()->set_feature("tenure");
  tenure->mutable_values()->mutable_double_values()->add_values(2.0);
  tenure->mutable_values()->mutable_double_values()->add_values(-1.0);
  v1::FeatureColumn* plan = rows->add_columns();
  plan->mutable_feature()->set_feature("plan");
  plan->mutable_values()->mutable_string_values()->add_values("gold");
  plan->mutable_values()->mutable_string_values()->add_values("free");
  v1::IngestResponse response;
  auto context = Root();
  auto writer = store.Ingest(context.get(), &response);
  REQUIRE(writer->Write(request));
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  INFO(status.error_message());
  REQUIRE(status.ok());
}

// Uploads the module at `path` and registers it as the next version of kModel, reading
// profile:tenure (FP32) and profile:plan (BYTES) under schema version 1.
int64_t RegisterTabular(v1::ModelRegistry::Stub& stub, const std::string& path) {
  v1::RegisterVersionRequest request = ModuleVersionRequest(stub, path);
  v1::ModelVersion* version = request.mutable_version();
  v1::ModelSignature* signature = version->mutable_signature();
  signature->add_class_labels("stay");
  signature->add_class_labels("churn");
  for (const auto& [name, type] :
       {std::pair{"tenure", v1::FEATURE_TYPE_DOUBLE}, std::pair{"plan", v1::FEATURE_TYPE_STRING}}) {
    v1::TensorSpec* input = signature->add_inputs();
    input->set_name(name);
    input->set_datatype(type == v1::FEATURE_TYPE_DOUBLE ? "FP32" : "BYTES");
    input->add_shape(-1);
    input->add_shape(1);
    input->set_nan_allowed(true);
    input->mutable_feature()->mutable_ref()->set_group("profile");
    input->mutable_feature()->mutable_ref()->set_feature(name);
    input->mutable_feature()->set_schema_version(1);
    input->mutable_feature()->set_type(type);
  }
  AddProbabilityOutput(*signature);
  return Register(stub, request);
}

v1::PredictRequest Predict(const std::vector<std::string>& keys) {
  v1::PredictRequest request;
  request.mutable_model()->set_model(kModel);
  v1::EntityKeys* column = request.add_entity_keys();
  column->set_entity("customer");
  for (const std::string& key : keys) column->add_keys(key);
  return request;
}

float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// The feature store with the profiles ingested, and the registry with kModel created.
struct Deployment {
  TempDir tmp;
  KillableService features{"fabrique-features", tmp.Sub("features"), tmp.Sub("features.log")};
  KillableService registry{"fabrique-registry", tmp.Sub("registry"), tmp.Sub("registry.log")};
  std::unique_ptr<v1::FeatureStore::Stub> store = v1::FeatureStore::NewStub(features.channel());
  std::unique_ptr<v1::ModelRegistry::Stub> models = v1::ModelRegistry::NewStub(registry.channel());

  Deployment() {
    ApplyProfile(*store);
    IngestProfiles(*store);
    WriteTabularModule(tmp.Sub("tabular.pt"));
    CreateModel(*models);
  }
  int64_t Register() { return RegisterTabular(*models, tmp.Sub("tabular.pt")); }
  // fabrique-inference serving kModel, once ready (its production version loaded).
  std::unique_ptr<KillableService> StartInference() {
    return std::make_unique<KillableService>(
        "fabrique-inference", tmp.Sub("inference"), tmp.Sub("inference.log"),
        std::vector<std::string>{absl::StrCat("--registry_target=", registry.target()),
                                 absl::StrCat("--features_target=", features.target()),
                                 "--monitor_target=", absl::StrCat("--models=", kModel),
                                 "--device=cpu", "--intra_op_threads=1"});
  }
};

TEST_CASE("Predict by entity through features, registry and inference") {
  Deployment d;
  const int64_t version = d.Register();
  SetProduction(*d.models, version);
  std::unique_ptr<KillableService> inference = d.StartInference();
  auto entity = v1::EntityInference::NewStub(inference->channel());
  auto oip = ::inference::GRPCInferenceService::NewStub(inference->channel());

  v1::PredictResponse response;
  grpc::Status status = entity->Predict(Root().get(), Predict({"c1", "c2", "c9"}), &response);
  INFO(status.error_message() << "\n" << cli::TailFile(inference->log_path(), 20));
  REQUIRE(status.ok());
  REQUIRE(response.predictions_size() == 3);
  const float expected[3] = {Sigmoid(2.0f), Sigmoid(-1.0f), 0.5f};
  for (int row = 0; row < 3; ++row) {
    const v1::EntityPrediction& prediction = response.predictions(row);
    CHECK(prediction.served_by().version() == version);
    CHECK(prediction.served_alias() == "production");
    REQUIRE(prediction.outputs_size() == 1);
    CHECK(std::abs(prediction.outputs(0).values(0) - expected[row]) < 1e-5f);
  }
  CHECK(response.predictions(0).predicted_label() == "churn");
  CHECK(response.predictions(1).predicted_label() == "stay");
  CHECK(response.predictions(0).feature_issues_size() == 0);
  REQUIRE(response.predictions(2).feature_issues_size() == 2);
  CHECK(response.predictions(2).feature_issues(0).status() == v1::VALUE_STATUS_MISSING);

  // A supplied value takes precedence over the store's.
  v1::PredictRequest overridden = Predict({"c1"});
  v1::FeatureColumn* tenure = overridden.add_supplied_features();
  tenure->mutable_feature()->set_group("profile");
  tenure->mutable_feature()->set_feature("tenure");
  tenure->mutable_values()->mutable_double_values()->add_values(0.0);
  status = entity->Predict(Root().get(), overridden, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(std::abs(response.predictions(0).outputs(0).values(0) - 0.5f) < 1e-6f);

  // The feature store down: Predict says so; the Open Inference Protocol still answers.
  d.features.Kill();
  status = entity->Predict(Root().get(), Predict({"c1"}), &response);
  CHECK(status.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(absl::StrContains(status.error_message(), "the feature store is unavailable"));
  ::inference::ModelInferRequest infer;
  infer.set_model_name(kModel);
  auto* numeric = infer.add_inputs();
  numeric->set_name("tenure");
  numeric->set_datatype("FP32");
  numeric->add_shape(1);
  numeric->add_shape(1);
  numeric->mutable_contents()->add_fp32_contents(2.0f);
  auto* text = infer.add_inputs();
  text->set_name("plan");
  text->set_datatype("BYTES");
  text->add_shape(1);
  text->add_shape(1);
  text->mutable_contents()->add_bytes_contents("gold");
  ::inference::ModelInferResponse answer;
  status = oip->ModelInfer(Root().get(), infer, &answer);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(std::abs(answer.outputs(0).contents().fp32_contents(0) - Sigmoid(2.0f)) < 1e-5f);
}

TEST_CASE("A group whose schema moved after training is refused as skew, naming the feature") {
  Deployment d;
  ApplyProfile(*d.store, {"visits"});  // Schema version 2.
  SetProduction(*d.models, d.Register());
  std::unique_ptr<KillableService> inference = d.StartInference();
  auto entity = v1::EntityInference::NewStub(inference->channel());
  v1::PredictResponse response;
  const grpc::Status status = entity->Predict(Root().get(), Predict({"c1"}), &response);
  INFO(status.error_message());
  CHECK(status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(status.error_message(), "profile:tenure"));
}

TEST_CASE("With a 50% canary by entity hash, an entity always meets the same version") {
  Deployment d;
  SetProduction(*d.models, d.Register());
  const int64_t candidate = d.Register();
  v1::SetAliasRequest alias;
  alias.set_model(kModel);
  alias.set_alias("candidate");
  alias.set_version(candidate);
  v1::Alias moved;
  REQUIRE(d.models->SetAlias(Root().get(), alias, &moved).ok());
  v1::SetTrafficPolicyRequest policy;
  policy.mutable_policy()->set_model(kModel);
  policy.mutable_policy()->set_canary_percent(50);
  policy.mutable_policy()->set_canary_routing(v1::CANARY_ROUTING_ENTITY_HASH);
  v1::TrafficPolicy set;
  const grpc::Status policed = d.models->SetTrafficPolicy(Root().get(), policy, &set);
  INFO(policed.error_message());
  REQUIRE(policed.ok());
  std::unique_ptr<KillableService> inference = d.StartInference();
  auto entity = v1::EntityInference::NewStub(inference->channel());
  // The candidate may still be loading when the primary makes the server ready.
  REQUIRE(PollUntil(
      [&] {
        v1::ListServedModelsResponse served;
        if (!entity->ListServedModels(Root().get(), {}, &served).ok()) return false;
        return served.models_size() == 1 && served.models(0).candidate_version() == candidate;
      },
      kPatience));
  std::vector<std::string> keys;
  for (int i = 0; i < 8; ++i) keys.push_back(absl::StrCat("customer-", i));
  std::map<std::string, int64_t> met;
  for (int attempt = 0; attempt < 3; ++attempt) {
    v1::PredictResponse response;
    const grpc::Status status = entity->Predict(Root().get(), Predict(keys), &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    for (const v1::EntityPrediction& prediction : response.predictions()) {
      const std::string& key = keys[prediction.row()];
      const int64_t version = prediction.served_by().version();
      CHECK(prediction.canary() == (version == candidate));
      if (attempt == 0) met[key] = version;
      CHECK(met[key] == version);
    }
  }
  std::set<int64_t> versions;
  for (const auto& [key, version] : met) versions.insert(version);
  CHECK(versions.size() == 2);  // These keys meet both versions.
}

}  // namespace
}  // namespace fabrique::testing::inference
