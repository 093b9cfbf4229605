// The Open Inference Protocol adapter and the served-model listing, in-process over fake modules
// that answer with their version number: readiness, scoring (typed and raw), the refusals with
// their codes, metadata, the prediction log, the shadow, and the access guard.

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "tests/services/inference_test_server.h"

namespace fabrique::services::inference_test {
namespace {

using serving::testing::Eventually;

bool Mentions(const grpc::Status& status, const std::string& text) {
  return absl::StrContains(status.error_message(), text);
}

TEST_CASE("ServerReady is false until a plan is applied and the primary is READY") {
  InferenceAdapter adapter;
  inference::ServerReadyResponse ready;
  REQUIRE(adapter.oip->ServerReady(adapter.As(kDana).get(), {}, &ready).ok());
  CHECK_FALSE(ready.ready());
  adapter.loader.Block(1);
  adapter.view->OnPlan(ChurnPlan(1, 1));
  REQUIRE(adapter.oip->ServerReady(adapter.As(kDana).get(), {}, &ready).ok());
  CHECK_FALSE(ready.ready());  // Applied, but version 1 is still loading.
  adapter.loader.Unblock(1);
  REQUIRE(Eventually([&] { return adapter.view->Ready(); }));
  REQUIRE(adapter.oip->ServerReady(adapter.As(kDana).get(), {}, &ready).ok());
  CHECK(ready.ready());
  CHECK_FALSE(adapter.view->FromCache());
}

TEST_CASE("A cached plan makes the server ready and says it came from the cache") {
  InferenceAdapter adapter;
  serving::ServingPlan plan = ChurnPlan(4, 1);
  plan.from_cache = true;
  REQUIRE(adapter.ApplyAndWait(plan, 1));
  CHECK(adapter.view->FromCache());
}

TEST_CASE("ModelInfer answers typed and raw requests with the version that scored them") {
  InferenceAdapter adapter;
  REQUIRE(adapter.ApplyAndWait(ChurnPlan(1, 2), 2));
  inference::ModelInferResponse response;
  grpc::Status status = adapter.Infer(InferRequest(3), &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(response.model_name() == "churn");
  CHECK(response.model_version() == "2");
  CHECK(response.id() == "req-1");
  REQUIRE(response.outputs_size() == 1);
  CHECK(response.outputs(0).name() == "version");
  REQUIRE(response.outputs(0).contents().fp32_contents_size() == 3);
  CHECK(response.outputs(0).contents().fp32_contents(2) == 2.0f);
  CHECK(response.parameters().at("fabrique_alias").string_param() == "production");
  CHECK_FALSE(response.parameters().at("fabrique_canary").bool_param());

  // Raw in, raw out.
  inference::ModelInferRequest raw = InferRequest(2);
  raw.mutable_inputs(0)->clear_contents();
  const float values[2] = {1.5f, 2.5f};
  raw.add_raw_input_contents(std::string(reinterpret_cast<const char*>(values), sizeof(values)));
  inference::ModelInferResponse raw_response;
  status = adapter.Infer(raw, &raw_response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  REQUIRE(raw_response.raw_output_contents_size() == 1);
  float answered[2];
  REQUIRE(raw_response.raw_output_contents(0).size() == sizeof(answered));
  std::memcpy(answered, raw_response.raw_output_contents(0).data(), sizeof(answered));
  CHECK(answered[1] == 2.0f);
}

TEST_CASE("ModelInfer by version number, and its refusals with the codes callers act on") {
  InferenceAdapter adapter;
  REQUIRE(adapter.ApplyAndWait(ChurnPlan(1, 2), 2));
  inference::ModelInferResponse response;

  SECTION("a version number asks exactly that version") {
    grpc::Status status = adapter.Infer(InferRequest(1, "2"), &response);
    REQUIRE(status.ok());
    CHECK(response.model_version() == "2");
    CHECK(response.parameters().count("fabrique_alias") == 0);
  }
  SECTION("a version not served is NOT_FOUND") {
    grpc::Status status = adapter.Infer(InferRequest(1, "7"), &response);
    CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
  }
  SECTION("a version that is not a number is INVALID_ARGUMENT naming model_version") {
    grpc::Status status = adapter.Infer(InferRequest(1, "latest"), &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(Mentions(status, "model_version"));
  }
  SECTION("an unknown model is NOT_FOUND naming it") {
    inference::ModelInferRequest request = InferRequest(1);
    request.set_model_name("ghost");
    grpc::Status status = adapter.Infer(request, &response);
    CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(Mentions(status, "ghost"));
  }
  SECTION("a wrong input is INVALID_ARGUMENT naming it") {
    inference::ModelInferRequest request = InferRequest(1);
    request.mutable_inputs(0)->set_name("y");
    grpc::Status status = adapter.Infer(request, &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(Mentions(status, "'y'"));
  }
  SECTION("more rows than the maximum batch size is INVALID_ARGUMENT") {
    grpc::Status status = adapter.Infer(InferRequest(9), &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  }
  SECTION("a version still loading is UNAVAILABLE") {
    adapter.loader.Block(3);
    adapter.view->OnPlan(ChurnPlan(2, 2, 3, 0, false));
    REQUIRE(Eventually([&] {
      return serving::testing::HasState(*adapter.models, "churn", 3,
                                        serving::VersionState::kLoading);
    }));
    grpc::Status status = adapter.Infer(InferRequest(1, "3"), &response);
    CHECK(status.error_code() == grpc::StatusCode::UNAVAILABLE);
    adapter.loader.Unblock(3);
  }
  SECTION("a caller of another squad is refused") {
    grpc::Status status = adapter.Infer(InferRequest(1), &response, kErin);
    CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  }
  SECTION("a deadline already past is DEADLINE_EXCEEDED") {
    auto context = adapter.As(kDana);
    context->set_deadline(absl::ToChronoTime(absl::Now() - absl::Seconds(1)));
    grpc::Status status = adapter.oip->ModelInfer(context.get(), InferRequest(1), &response);
    CHECK(status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  }
}

TEST_CASE("Every scored row is logged with its own prediction id; shadow rows name the primary's") {
  InferenceAdapter adapter;
  REQUIRE(adapter.ApplyAndWait(ChurnPlan(1, 1, 2, 0, true), 1));
  REQUIRE(Eventually([&] {
    return serving::testing::HasState(*adapter.models, "churn", 2, serving::VersionState::kReady);
  }));
  inference::ModelInferResponse response;
  REQUIRE(adapter.Infer(InferRequest(2), &response).ok());
  CHECK(response.model_version() == "1");
  std::vector<v1::PredictionRecord> records;
  REQUIRE(Eventually([&] {
    records.clear();
    for (const auto& request : adapter.monitor.requests()) {
      for (const auto& record : request.predictions()) records.push_back(record);
    }
    return records.size() >= 4;
  }));
  std::map<std::string, v1::PredictionRecord> primary;
  for (const auto& record : records) {
    if (!record.shadow()) primary[record.prediction_id()] = record;
  }
  REQUIRE(primary.size() == 2);
  for (const auto& record : records) {
    CHECK(record.request_id() == "req-1");
    if (!record.shadow()) {
      CHECK(record.model_version().version() == 1);
      CHECK(record.alias() == "production");
      REQUIRE(record.outputs_size() == 1);
      CHECK(record.outputs(0).values(0) == 1.0f);
      continue;
    }
    CHECK(record.model_version().version() == 2);
    REQUIRE(primary.count(record.primary_prediction_id()) == 1);
    CHECK(primary[record.primary_prediction_id()].row() == record.row());
    REQUIRE(record.inputs_size() == 1);
    CHECK(record.inputs(0).float_value() == 0.25f * record.row());
  }
}

TEST_CASE("ModelReady and ModelMetadata report the served versions and the signature") {
  InferenceAdapter adapter;
  REQUIRE(adapter.ApplyAndWait(ChurnPlan(1, 2), 2));
  inference::ModelReadyRequest ready_request;
  ready_request.set_name("churn");
  inference::ModelReadyResponse ready;
  REQUIRE(adapter.oip->ModelReady(adapter.As(kDana).get(), ready_request, &ready).ok());
  CHECK(ready.ready());
  ready_request.set_version("5");
  REQUIRE(adapter.oip->ModelReady(adapter.As(kDana).get(), ready_request, &ready).ok());
  CHECK_FALSE(ready.ready());
  ready_request.set_name("ghost");
  CHECK(adapter.oip->ModelReady(adapter.As(kDana).get(), ready_request, &ready).error_code() ==
        grpc::StatusCode::NOT_FOUND);

  inference::ModelMetadataRequest metadata_request;
  metadata_request.set_name("churn");
  inference::ModelMetadataResponse metadata;
  grpc::Status status =
      adapter.oip->ModelMetadata(adapter.As(kDana).get(), metadata_request, &metadata);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(metadata.name() == "churn");
  REQUIRE(metadata.versions_size() == 1);
  CHECK(metadata.versions(0) == "2");
  REQUIRE(metadata.inputs_size() == 1);
  CHECK(metadata.inputs(0).name() == "x");
  CHECK(metadata.inputs(0).datatype() == "FP32");
  REQUIRE(metadata.outputs_size() == 1);
  CHECK(metadata.outputs(0).name() == "version");

  inference::ServerMetadataResponse server;
  REQUIRE(adapter.oip->ServerMetadata(adapter.As(kDana).get(), {}, &server).ok());
  CHECK(server.version() == "1.2.3");
}

TEST_CASE("ListServedModels and GetServedModel report versions, states and the policy") {
  InferenceAdapter adapter;
  adapter.loader.Fail(3, absl::InvalidArgumentError("forward takes (a, b), the signature x"));
  REQUIRE(adapter.ApplyAndWait(ChurnPlan(1, 2), 2));
  adapter.view->OnPlan(ChurnPlan(2, 3));
  REQUIRE(Eventually([&] {
    return serving::testing::HasState(*adapter.models, "churn", 3, serving::VersionState::kFailed);
  }));
  v1::ListServedModelsResponse list;
  REQUIRE(adapter.served->ListServedModels(adapter.As(kDana).get(), {}, &list).ok());
  REQUIRE(list.models_size() == 1);
  const v1::ServedModel& churn = list.models(0);
  CHECK(churn.name() == "churn");
  CHECK(churn.primary_version() == 2);  // The failed version did not take over.
  CHECK(churn.metadata().inputs(0).name() == "x");
  bool saw_failed = false;
  for (const v1::ServedVersion& version : churn.versions()) {
    if (version.version() != 3) continue;
    saw_failed = true;
    CHECK(version.state() == v1::SERVED_VERSION_STATE_FAILED);
    CHECK(absl::StrContains(version.failure_reason(), "forward takes"));
  }
  CHECK(saw_failed);
  CHECK(adapter.view->Ready());  // The previous version keeps the server in rotation.

  // Erin reads only fraud's models: churn is not listed to her.
  v1::ListServedModelsResponse erin;
  REQUIRE(adapter.served->ListServedModels(adapter.As(kErin, "erin").get(), {}, &erin).ok());
  CHECK(erin.models_size() == 0);

  v1::GetServedModelRequest get;
  get.set_name("churn");
  v1::ServedModel model;
  REQUIRE(adapter.served->GetServedModel(adapter.As(kDana).get(), get, &model).ok());
  CHECK(model.primary_version() == 2);
  get.set_name("ghost");
  grpc::Status status = adapter.served->GetServedModel(adapter.As(kDana).get(), get, &model);
  CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(Mentions(status, "ghost"));
}

}  // namespace
}  // namespace fabrique::services::inference_test
