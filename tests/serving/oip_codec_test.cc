#include "libs/serving/oip_codec.h"

#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "tests/serving/tensor_test_util.h"

namespace fabrique::serving {
namespace {

using testing::AllTypesBatch;
using testing::AllTypesRequest;
using testing::AllTypesSignature;
using testing::CheckSameBatch;
using testing::RawOf;
using testing::Spec;
using testing::Values;

// What a module answers for AllTypesSignature: "p" [rows, 1], "label" [rows, 1], "k" [rows, 2].
TensorBatch Answers(int64_t rows) {
  TensorBatch outputs;
  outputs.rows = rows;
  outputs.tensors.push_back(Values("p", DataType::kFp32, rows));
  outputs.tensors.push_back(Values("label", DataType::kBytes, rows));
  outputs.tensors.push_back(Values("k", DataType::kInt64, rows));
  for (int t = 0; t < 2; ++t) {
    Tensor& narrow = outputs.tensors[t];
    narrow.shape = {rows, 1};
    narrow.fp32.resize(narrow.type == DataType::kFp32 ? rows : 0);
    narrow.bytes.resize(narrow.type == DataType::kBytes ? rows : 0);
  }
  return outputs;
}

// The signature whose inputs are `signature`'s outputs: decoding a response against it reads
// the answers back as a client would.
v1::ModelSignature OutputsAsInputs(const v1::ModelSignature& signature) {
  v1::ModelSignature echo;
  *echo.mutable_inputs() = signature.outputs();
  return echo;
}

// The response as a request: each output an input, raw_output_contents as raw_input_contents.
inference::ModelInferRequest ResponseAsRequest(const inference::ModelInferResponse& response) {
  inference::ModelInferRequest request;
  for (const auto& output : response.outputs()) {
    auto* input = request.add_inputs();
    input->set_name(output.name());
    input->set_datatype(output.datatype());
    *input->mutable_shape() = output.shape();
    *input->mutable_contents() = output.contents();
  }
  *request.mutable_raw_input_contents() = response.raw_output_contents();
  return request;
}

TEST_CASE("Every datatype decodes from typed contents and from raw bytes, in signature order") {
  const bool raw = GENERATE(false, true);
  INFO((raw ? "raw" : "typed"));
  absl::StatusOr<DecodedRequest> decoded =
      DecodeInferRequest(AllTypesRequest(3, raw), AllTypesSignature(), DecodeOptions{});
  REQUIRE(decoded.ok());
  CHECK(decoded->raw == raw);
  CheckSameBatch(decoded->inputs, AllTypesBatch(3));
  CHECK(decoded->outputs == std::vector<int>{0, 1, 2});
}

TEST_CASE("Raw BOOL reads any non-zero byte as true") {
  v1::ModelSignature signature;
  *signature.add_inputs() = Spec("flags", "BOOL", {-1, 3});
  inference::ModelInferRequest request;
  auto* input = request.add_inputs();
  input->set_name("flags");
  input->set_datatype("BOOL");
  input->add_shape(1);
  input->add_shape(3);
  request.add_raw_input_contents(std::string("\x00\x01\xff", 3));
  absl::StatusOr<DecodedRequest> decoded = DecodeInferRequest(request, signature, {});
  REQUIRE(decoded.ok());
  CHECK(decoded->inputs.tensors[0].boolean == std::vector<uint8_t>{0, 1, 1});
}

TEST_CASE("A signature without a shape takes any shape with rows first") {
  v1::ModelSignature signature;
  *signature.add_inputs() = Spec("image", "FP32", {});
  inference::ModelInferRequest request;
  Tensor image = Values("image", DataType::kFp32, 2);
  image.shape = {2, 1, 2};
  testing::AddInput(image, false, &request);
  absl::StatusOr<DecodedRequest> decoded = DecodeInferRequest(request, signature, {});
  REQUIRE(decoded.ok());
  CHECK(decoded->inputs.tensors[0].shape == std::vector<int64_t>{2, 1, 2});
}

TEST_CASE("Requested outputs are answered in request order; none requested answers all") {
  inference::ModelInferRequest request = AllTypesRequest(1, false);
  request.add_outputs()->set_name("k");
  request.add_outputs()->set_name("p");
  absl::StatusOr<DecodedRequest> decoded = DecodeInferRequest(request, AllTypesSignature(), {});
  REQUIRE(decoded.ok());
  CHECK(decoded->outputs == std::vector<int>{2, 0});

  inference::ModelInferResponse response;
  REQUIRE(EncodeInferResponse(*decoded, Answers(1), AllTypesSignature(), "churn", "4", "req-1",
                              &response)
              .ok());
  REQUIRE(response.outputs_size() == 2);
  CHECK(response.outputs(0).name() == "k");
  CHECK(response.outputs(1).name() == "p");
}

TEST_CASE("A response names the model, version and request, with typed contents for typed input") {
  const v1::ModelSignature signature = AllTypesSignature();
  absl::StatusOr<DecodedRequest> decoded =
      DecodeInferRequest(AllTypesRequest(2, false), signature, {});
  REQUIRE(decoded.ok());
  inference::ModelInferResponse response;
  response.set_id("stale");
  REQUIRE(
      EncodeInferResponse(*decoded, Answers(2), signature, "churn", "4", "req-1", &response).ok());
  CHECK(response.model_name() == "churn");
  CHECK(response.model_version() == "4");
  CHECK(response.id() == "req-1");
  CHECK(response.raw_output_contents().empty());
  REQUIRE(response.outputs_size() == 3);
  const auto& p = response.outputs(0);
  CHECK(p.datatype() == "FP32");
  CHECK(std::vector<int64_t>(p.shape().begin(), p.shape().end()) == std::vector<int64_t>{2, 1});
  CHECK(std::vector<float>(p.contents().fp32_contents().begin(),
                           p.contents().fp32_contents().end()) == Answers(2).tensors[0].fp32);
  CHECK(response.outputs(1).contents().bytes_contents_size() == 2);
  CHECK(response.outputs(2).contents().int64_contents_size() == 4);
}

TEST_CASE("A raw request is answered in raw_output_contents, little-endian and length-prefixed") {
  const v1::ModelSignature signature = AllTypesSignature();
  absl::StatusOr<DecodedRequest> decoded =
      DecodeInferRequest(AllTypesRequest(2, true), signature, {});
  REQUIRE(decoded.ok());
  inference::ModelInferResponse response;
  const TensorBatch answers = Answers(2);
  REQUIRE(EncodeInferResponse(*decoded, answers, signature, "churn", "4", "", &response).ok());
  REQUIRE(response.raw_output_contents_size() == 3);
  for (int i = 0; i < 3; ++i) {
    INFO("output " << i);
    CHECK(response.raw_output_contents(i) == RawOf(answers.tensors[i]));
    CHECK(response.outputs(i).contents().ByteSizeLong() == 0);
  }
}

TEST_CASE("Every datatype round-trips through a response, typed and raw") {
  const bool raw = GENERATE(false, true);
  INFO((raw ? "raw" : "typed"));
  v1::ModelSignature signature = AllTypesSignature();
  *signature.mutable_outputs() = signature.inputs();  // A module that echoes its inputs.
  absl::StatusOr<DecodedRequest> decoded =
      DecodeInferRequest(AllTypesRequest(3, raw), signature, {});
  REQUIRE(decoded.ok());
  inference::ModelInferResponse response;
  REQUIRE(
      EncodeInferResponse(*decoded, decoded->inputs, signature, "echo", "1", "r", &response).ok());
  absl::StatusOr<DecodedRequest> back =
      DecodeInferRequest(ResponseAsRequest(response), OutputsAsInputs(signature), {});
  REQUIRE(back.ok());
  CHECK(back->raw == raw);
  CheckSameBatch(back->inputs, AllTypesBatch(3));
}

TEST_CASE("Encoding refuses answers that break the signature with INTERNAL naming the output") {
  const v1::ModelSignature signature = AllTypesSignature();
  absl::StatusOr<DecodedRequest> decoded =
      DecodeInferRequest(AllTypesRequest(2, false), signature, {});
  REQUIRE(decoded.ok());
  inference::ModelInferResponse response;
  auto refusal = [&](const TensorBatch& answers) {
    absl::Status status =
        EncodeInferResponse(*decoded, answers, signature, "churn", "4", "", &response);
    CHECK(status.code() == absl::StatusCode::kInternal);
    return std::string(status.message());
  };

  TensorBatch fewer = Answers(2);
  fewer.tensors.pop_back();
  CHECK_THAT(refusal(fewer), Catch::Contains("2 outputs") && Catch::Contains("has 3"));

  TensorBatch retyped = Answers(2);
  retyped.tensors[2] = Values("k", DataType::kFp64, 2);
  CHECK_THAT(refusal(retyped), Catch::Contains("output 'k' is FP64"));

  TensorBatch longer = Answers(3);
  CHECK_THAT(refusal(longer), Catch::Contains("output 'p' has 3 rows"));

  TensorBatch short_of_elements = Answers(2);
  short_of_elements.tensors[1].bytes.pop_back();
  CHECK_THAT(refusal(short_of_elements), Catch::Contains("output 'label' holds 1 elements"));
}

}  // namespace
}  // namespace fabrique::serving
