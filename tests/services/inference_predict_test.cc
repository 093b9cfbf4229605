// Entity-keyed Predict through the inference server's adapter, in-process over fake modules that
// answer with their version number and a fake feature store whose values name their key:
// features looked up and supplied, issues reported, skew refused, the store down (the Open
// Inference Protocol unaffected), routing by version, alias and canary hash, the prediction log
// and the shadow, and the refusals with the codes callers act on.

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "libs/serving/canary_router.h"
#include "libs/serving/feature_lookup_batcher.h"
#include "prometheus/registry.h"
#include "services/inference/entity_predict_rows.h"
#include "services/inference/feature_client_port.h"
#include "tests/services/inference_test_server.h"
#include "tests/serving/fake_feature_port.h"

namespace fabrique::services::inference_test {
namespace {

using serving::testing::Eventually;

const std::vector<std::string> kAdmin = {"risk:platform-admin"};

bool Mentions(const grpc::Status& status, const std::string& text) {
  return absl::StrContains(status.error_message(), text);
}

// Observations of fabrique_inference_feature_lookup_seconds for `model`.
uint64_t FeatureLookups(prometheus::Registry& registry, const std::string& model) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != "fabrique_inference_feature_lookup_seconds") continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      for (const prometheus::ClientMetric::Label& label : metric.label) {
        if (label.name == "model" && label.value == model) return metric.histogram.sample_count;
      }
    }
  }
  return 0;
}

// The fake store, with a key whose values are missing and a schema version that can move.
class EntityFeaturePort : public serving::testing::FakeFeaturePort {
 public:
  absl::StatusOr<v1::LookupOnlineResponse> LookupOnline(const v1::LookupOnlineRequest& request,
                                                        absl::Time deadline) override {
    absl::StatusOr<v1::LookupOnlineResponse> answer =
        FakeFeaturePort::LookupOnline(request, deadline);
    if (!answer.ok()) return answer;
    const auto& keys = request.entity_keys(0).keys();
    for (v1::OnlineFeatureColumn& column : *answer->mutable_columns()) {
      column.set_schema_version(schema_version.load());
      for (int row = 0; row < keys.size(); ++row) {
        if (keys[row] == "gone") column.set_statuses(row, v1::VALUE_STATUS_MISSING);
      }
    }
    return answer;
  }
  std::atomic<int> schema_version{1};
};

// Churn's versions read "city" (customer:city, a STRING, schema version 1) from the store and
// take "x" from the request.
serving::ServingPlan EntityPlan(int64_t revision, int64_t primary, int64_t candidate = 0,
                                double canary_percent = 0, bool shadow = false) {
  serving::ServingPlan plan = ChurnPlan(revision, primary, candidate, canary_percent, shadow);
  for (auto& model : plan.models) {
    for (auto& [number, record] : model.versions) {
      v1::TensorSpec* city = record.mutable_signature()->add_inputs();
      city->set_name("city");
      city->set_datatype("BYTES");
      city->add_shape(-1);
      city->add_shape(1);
      city->mutable_feature()->mutable_ref()->set_group("customer");
      city->mutable_feature()->mutable_ref()->set_feature("city");
      city->mutable_feature()->set_schema_version(1);
      city->mutable_feature()->set_type(v1::FEATURE_TYPE_STRING);
    }
  }
  return plan;
}

// Predict for churn over `keys` of customer, "x" supplied as 0.5 per row.
v1::PredictRequest Request(const std::vector<std::string>& keys) {
  v1::PredictRequest request;
  request.mutable_model()->set_model("churn");
  v1::EntityKeys* column = request.add_entity_keys();
  column->set_entity("customer");
  for (const std::string& key : keys) column->add_keys(key);
  v1::FeatureColumn* x = request.add_supplied_features();
  x->mutable_feature()->set_feature("x");
  for (size_t i = 0; i < keys.size(); ++i)
    x->mutable_values()->mutable_float_values()->add_values(0.5f);
  return request;
}

// The adapter with an entity service fed by the fake store, on a host of its own.
struct EntityAdapter {
  InferenceAdapter adapter;
  EntityFeaturePort port;
  std::unique_ptr<serving::FeatureLookupBatcher> lookups;
  std::unique_ptr<server::ServiceHost> host;
  std::unique_ptr<EntityInferenceService> service;
  std::unique_ptr<v1::EntityInference::Stub> stub;

  EntityAdapter() {
    lookups = *serving::FeatureLookupBatcher::Create({&port});
    server::ServiceHostOptions host_options;
    host_options.plaintext = true;
    host_options.service_name = "inference";
    host_options.listen_host = "127.0.0.1";
    host_options.metrics_port = -1;
    host = *server::ServiceHost::Create(host_options);
    service = std::make_unique<EntityInferenceService>(
        adapter.identity.guard(), adapter.view.get(),
        EntityPredictOptions{lookups.get(), adapter.logger.get(), adapter.metrics.get()});
    host->AddService(service.get(), v1::EntityInference::service_full_name(), "serving");
    REQUIRE(host->Start().ok());
    stub = v1::EntityInference::NewStub(
        client::MakePlaintextChannel(absl::StrCat("127.0.0.1:", host->port())));
  }
  ~EntityAdapter() {
    host->Shutdown();
    lookups->Stop();
  }

  grpc::Status Predict(const v1::PredictRequest& request, v1::PredictResponse* response,
                       const std::vector<std::string>& groups = kDana) {
    return stub->Predict(adapter.As(groups).get(), request, response);
  }
  // Every record the fake monitor holds.
  std::vector<v1::PredictionRecord> Records() {
    std::vector<v1::PredictionRecord> records;
    for (const auto& request : adapter.monitor.requests()) {
      for (const auto& record : request.predictions()) records.push_back(record);
    }
    return records;
  }
};

TEST_CASE("Predict looks the store features up, takes the supplied ones, and answers per row") {
  EntityAdapter entity;
  REQUIRE(entity.adapter.ApplyAndWait(EntityPlan(1, 2), 2));
  v1::PredictRequest request = Request({"c1", "gone", "c3"});
  request.set_request_id("req-9");
  request.set_return_features(true);
  v1::PredictResponse response;
  const grpc::Status status = entity.Predict(request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(response.request_id() == "req-9");
  REQUIRE(response.predictions_size() == 3);
  std::set<std::string> ids;
  for (int row = 0; row < 3; ++row) {
    const v1::EntityPrediction& prediction = response.predictions(row);
    CHECK(prediction.row() == row);
    CHECK(prediction.served_by().model() == "churn");
    CHECK(prediction.served_by().version() == 2);
    CHECK(prediction.served_alias() == "production");
    CHECK_FALSE(prediction.canary());
    REQUIRE(prediction.outputs_size() == 1);
    CHECK(prediction.outputs(0).name() == "version");
    CHECK(prediction.outputs(0).values(0) == 2.0f);
    REQUIRE(prediction.features_size() == 2);
    CHECK(prediction.features(0).float_value() == 0.5f);
    ids.insert(prediction.prediction_id());
  }
  CHECK(ids.size() == 3);
  CHECK(response.predictions(0).features(1).string_value() == "customer:city/c1");
  // The missing value is fed as "" and reported.
  CHECK(response.predictions(1).features(1).string_value().empty());
  REQUIRE(response.predictions(1).feature_issues_size() == 1);
  CHECK(response.predictions(1).feature_issues(0).feature().feature() == "city");
  CHECK(response.predictions(1).feature_issues(0).status() == v1::VALUE_STATUS_MISSING);
  CHECK(response.predictions(0).feature_issues_size() == 0);
  // One lookup, of the store feature only, for the request's keys.
  const std::vector<v1::LookupOnlineRequest> calls = entity.port.calls();
  REQUIRE(calls.size() == 1);
  REQUIRE(calls[0].features_size() == 1);
  CHECK(calls[0].features(0).group() == "customer");
  CHECK(calls[0].entity_keys(0).keys_size() == 3);
  CHECK(FeatureLookups(entity.adapter.host->metrics(), "churn") == 1);
}

TEST_CASE("Predict with every input supplied skips the store; outputs can be chosen") {
  EntityAdapter entity;
  REQUIRE(entity.adapter.ApplyAndWait(EntityPlan(1, 1), 1));
  v1::PredictRequest request = Request({"c1"});
  v1::FeatureColumn* city = request.add_supplied_features();
  city->mutable_feature()->set_group("customer");
  city->mutable_feature()->set_feature("city");
  city->mutable_values()->mutable_string_values()->add_values("Lyon");
  request.set_return_features(true);
  request.add_outputs("version");
  v1::PredictResponse response;
  const grpc::Status status = entity.Predict(request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(entity.port.calls().empty());
  REQUIRE(response.predictions_size() == 1);
  CHECK(response.predictions(0).features(1).string_value() == "Lyon");
  CHECK(response.predictions(0).outputs_size() == 1);

  request.set_outputs(0, "score");
  const grpc::Status unknown = entity.Predict(request, &response);
  CHECK(unknown.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Mentions(unknown, "score"));
}

TEST_CASE("Predict refuses with the codes callers act on") {
  EntityAdapter entity;
  REQUIRE(entity.adapter.ApplyAndWait(EntityPlan(1, 1), 1));
  v1::PredictResponse response;
  SECTION("an unknown model is NOT_FOUND naming it") {
    v1::PredictRequest request = Request({"c1"});
    request.mutable_model()->set_model("attrition");
    const grpc::Status status = entity.Predict(request, &response);
    CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(Mentions(status, "attrition"));
  }
  SECTION("a version not served is NOT_FOUND") {
    v1::PredictRequest request = Request({"c1"});
    request.mutable_model()->set_version(7);
    CHECK(entity.Predict(request, &response).error_code() == grpc::StatusCode::NOT_FOUND);
  }
  SECTION("a version still loading is UNAVAILABLE") {
    entity.adapter.loader.Block(3);
    entity.adapter.view->OnPlan(EntityPlan(2, 1, 3));
    REQUIRE(Eventually([&] {
      return serving::testing::HasState(*entity.adapter.models, "churn", 3,
                                        serving::VersionState::kLoading);
    }));
    v1::PredictRequest request = Request({"c1"});
    request.mutable_model()->set_version(3);
    const grpc::Status status = entity.Predict(request, &response);
    CHECK(status.error_code() == grpc::StatusCode::UNAVAILABLE);
    CHECK(Mentions(status, "LOADING"));
    entity.adapter.loader.Unblock(3);
  }
  SECTION("no entity keys is INVALID_ARGUMENT naming entity_keys") {
    v1::PredictRequest request = Request({});
    const grpc::Status status = entity.Predict(request, &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(Mentions(status, "entity_keys"));
  }
  SECTION("more rows than the maximum batch is INVALID_ARGUMENT") {
    const grpc::Status status =
        entity.Predict(Request(std::vector<std::string>(9, "c")), &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(Mentions(status, "9 rows"));
  }
  SECTION("a supplied feature the model does not use is INVALID_ARGUMENT naming it") {
    v1::PredictRequest request = Request({"c1"});
    v1::FeatureColumn* extra = request.add_supplied_features();
    extra->mutable_feature()->set_feature("tenure");
    extra->mutable_values()->mutable_float_values()->add_values(1);
    const grpc::Status status = entity.Predict(request, &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(Mentions(status, "tenure"));
  }
  SECTION("a caller of another squad is PERMISSION_DENIED") {
    CHECK(entity.Predict(Request({"c1"}), &response, kErin).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
  }
  SECTION("a deadline already past is DEADLINE_EXCEEDED") {
    auto context = entity.adapter.As(kDana);
    context->set_deadline(absl::ToChronoTime(absl::Now() - absl::Seconds(1)));
    CHECK(entity.stub->Predict(context.get(), Request({"c1"}), &response).error_code() ==
          grpc::StatusCode::DEADLINE_EXCEEDED);
  }
}

TEST_CASE("A feature served under another schema version than trained on is refused") {
  EntityAdapter entity;
  REQUIRE(entity.adapter.ApplyAndWait(EntityPlan(1, 1), 1));
  entity.port.schema_version = 2;
  v1::PredictResponse response;
  const grpc::Status status = entity.Predict(Request({"c1"}), &response);
  CHECK(status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(Mentions(status, "customer:city"));
}

TEST_CASE("The feature store down makes Predict UNAVAILABLE saying so; ModelInfer still answers") {
  EntityAdapter entity;
  REQUIRE(entity.adapter.ApplyAndWait(EntityPlan(1, 1), 1));
  entity.port.Fail(absl::UnavailableError("the feature store is unavailable: connection refused"));
  v1::PredictResponse response;
  const grpc::Status status = entity.Predict(Request({"c1"}), &response);
  CHECK(status.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(Mentions(status, "the feature store is unavailable"));

  inference::ModelInferRequest infer = InferRequest(1);
  auto* city = infer.add_inputs();
  city->set_name("city");
  city->set_datatype("BYTES");
  city->add_shape(1);
  city->add_shape(1);
  city->mutable_contents()->add_bytes_contents("Lyon");
  inference::ModelInferResponse answer;
  const grpc::Status oip = entity.adapter.Infer(infer, &answer);
  INFO(oip.error_message());
  CHECK(oip.ok());
}

TEST_CASE("The canary share splits a request's rows by entity hash, the same way every time") {
  EntityAdapter entity;
  REQUIRE(entity.adapter.ApplyAndWait(EntityPlan(1, 1, 2, 50), 1));
  REQUIRE(Eventually([&] {
    return serving::testing::HasState(*entity.adapter.models, "churn", 2,
                                      serving::VersionState::kReady);
  }));
  std::vector<std::string> keys;
  for (int i = 0; i < 8; ++i) keys.push_back(absl::StrCat("customer-", i));
  std::set<int64_t> versions;
  for (int attempt = 0; attempt < 2; ++attempt) {
    v1::PredictResponse response;
    const grpc::Status status = entity.Predict(Request(keys), &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    REQUIRE(response.predictions_size() == 8);
    for (int row = 0; row < 8; ++row) {
      const v1::EntityPrediction& prediction = response.predictions(row);
      const bool canary = serving::CanaryRouter::ByEntity("churn", keys[row], 50);
      CHECK(prediction.row() == row);
      CHECK(prediction.canary() == canary);
      CHECK(prediction.served_by().version() == (canary ? 2 : 1));
      CHECK(prediction.served_alias() == (canary ? "candidate" : "production"));
      CHECK(prediction.outputs(0).values(0) == (canary ? 2.0f : 1.0f));
      versions.insert(prediction.served_by().version());
    }
  }
  CHECK(versions.size() == 2);  // These keys meet both versions.

  // An alias asks exactly that version, without canary.
  v1::PredictRequest request = Request(keys);
  request.mutable_model()->set_alias("candidate");
  v1::PredictResponse response;
  REQUIRE(entity.Predict(request, &response).ok());
  for (const v1::EntityPrediction& prediction : response.predictions()) {
    CHECK(prediction.served_by().version() == 2);
    CHECK_FALSE(prediction.canary());
  }
}

TEST_CASE("Every row is logged under its prediction id; shadow rows name the primary's") {
  EntityAdapter entity;
  REQUIRE(entity.adapter.ApplyAndWait(EntityPlan(1, 1, 2, 0, true), 1));
  REQUIRE(Eventually([&] {
    return serving::testing::HasState(*entity.adapter.models, "churn", 2,
                                      serving::VersionState::kReady);
  }));
  v1::PredictRequest request = Request({"c1", "c2"});
  request.set_skip_logging(true);  // Not honoured: dana does not hold predictions.log.
  v1::PredictResponse response;
  REQUIRE(entity.Predict(request, &response).ok());
  std::vector<v1::PredictionRecord> records;
  REQUIRE(Eventually([&] {
    records = entity.Records();
    return records.size() >= 4;
  }));
  std::map<std::string, int64_t> answered;
  for (const auto& prediction : response.predictions()) {
    answered[prediction.prediction_id()] = prediction.row();
  }
  int shadows = 0;
  for (const auto& record : records) {
    if (record.shadow()) {
      ++shadows;
      CHECK(record.model_version().version() == 2);
      REQUIRE(answered.count(record.primary_prediction_id()) == 1);
      CHECK(answered[record.primary_prediction_id()] == record.row());
      continue;
    }
    REQUIRE(answered.count(record.prediction_id()) == 1);
    CHECK(record.model_version().version() == 1);
    REQUIRE(record.inputs_size() == 2);
    CHECK(record.inputs(1).string_value() ==
          absl::StrCat("customer:city/c", answered[record.prediction_id()] + 1));
  }
  CHECK(shadows == 2);
}

TEST_CASE("skip_logging keeps the rows out of the log for a caller holding predictions.log") {
  EntityAdapter entity;
  REQUIRE(entity.adapter.ApplyAndWait(EntityPlan(1, 1), 1));
  v1::PredictRequest skipped = Request({"c1"});
  skipped.set_skip_logging(true);
  skipped.set_request_id("skipped");
  v1::PredictResponse response;
  REQUIRE(entity.Predict(skipped, &response, kAdmin).ok());
  v1::PredictRequest logged = Request({"c2"});
  logged.set_request_id("logged");
  REQUIRE(entity.Predict(logged, &response, kAdmin).ok());
  std::vector<v1::PredictionRecord> records;
  REQUIRE(Eventually([&] {
    records = entity.Records();
    return !records.empty();
  }));
  for (const auto& record : records) CHECK(record.request_id() == "logged");
}

TEST_CASE("A version's rows are gathered from the request's in the order asked") {
  serving::TensorBatch batch;
  batch.rows = 4;
  serving::Tensor& x = batch.tensors.emplace_back();
  x.name = "x";
  x.shape = {4, 2};
  x.fp32 = {0, 1, 10, 11, 20, 21, 30, 31};
  serving::Tensor& city = batch.tensors.emplace_back();
  city.name = "city";
  city.type = serving::DataType::kBytes;
  city.shape = {4, 1};
  city.bytes = {"a", "b", "c", "d"};
  absl::StatusOr<serving::TensorBatch> gathered = GatherRows(batch, {0, 2, 3});
  REQUIRE(gathered.ok());
  CHECK(gathered->rows == 3);
  CHECK(gathered->tensors[0].fp32 == std::vector<float>{0, 1, 20, 21, 30, 31});
  CHECK(gathered->tensors[1].bytes == std::vector<std::string>{"a", "c", "d"});
  v1::ModelOutput numbers;
  FillRowOutput(gathered->tensors[0], 1, numbers);
  CHECK(numbers.name() == "x");
  CHECK(numbers.values(1) == 21.0f);
  v1::ModelOutput text;
  FillRowOutput(gathered->tensors[1], 1, text);
  CHECK(text.values_size() == 0);  // Text has no float form.
  CHECK(GatherRows(batch, {5}).status().code() == absl::StatusCode::kOutOfRange);
}

TEST_CASE("The outputs asked for are found by name; an unknown one is refused naming it") {
  v1::ModelSignature signature;
  signature.add_outputs()->set_name("probability");
  signature.add_outputs()->set_name("embedding");
  google::protobuf::RepeatedPtrField<std::string> wanted;
  CHECK(*WantedOutputs(signature, wanted, "churn") == std::vector<int>{0, 1});
  *wanted.Add() = "embedding";
  CHECK(*WantedOutputs(signature, wanted, "churn") == std::vector<int>{1});
  *wanted.Add() = "score";
  const absl::Status unknown = WantedOutputs(signature, wanted, "churn").status();
  CHECK(unknown.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(unknown.message(), "'score'"));
  CHECK(absl::StrContains(unknown.message(), "probability, embedding"));
}

TEST_CASE("The feature store port says the store is unavailable when nothing answers") {
  // A port nothing listens on: connection refused at once.
  FeatureClientPort port(client::MakePlaintextChannel("127.0.0.1:1"), "127.0.0.1:1");
  v1::LookupOnlineRequest request;
  request.add_features()->set_feature("city");
  request.add_entity_keys()->add_keys("c1");
  const absl::Status status = port.LookupOnline(request, absl::Now() + absl::Seconds(10)).status();
  CHECK(status.code() == absl::StatusCode::kUnavailable);
  CHECK(absl::StartsWith(status.message(), "the feature store is unavailable: "));
  CHECK(absl::StrContains(status.message(), "127.0.0.1:1"));
}

}  // namespace
}  // namespace fabrique::services::inference_test
