// Every request the Open Inference Protocol codec refuses: the code, and that the message names
// the input (or output) at fault.

#include <cmath>
#include <limits>
#include <string>

#include "catch2/catch.hpp"
#include "libs/serving/oip_codec.h"
#include "libs/serving/oip_elements.h"
#include "tests/serving/tensor_test_util.h"

namespace fabrique::serving {
namespace {

using testing::AddInput;
using testing::AllTypesRequest;
using testing::AllTypesSignature;
using testing::InputName;
using testing::Spec;
using testing::Values;

// Decodes `request` against AllTypesSignature (or `signature`), expecting INVALID_ARGUMENT;
// returns the message.
std::string Refusal(const inference::ModelInferRequest& request,
                    const v1::ModelSignature& signature = AllTypesSignature(),
                    DecodeOptions options = {}) {
  absl::StatusOr<DecodedRequest> decoded = DecodeInferRequest(request, signature, options);
  INFO(decoded.status().ToString());
  CHECK(decoded.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(decoded.status().message());
}

// The request input named `name` in AllTypesRequest.
inference::ModelInferRequest::InferInputTensor* Input(inference::ModelInferRequest* request,
                                                      DataType type) {
  for (auto& input : *request->mutable_inputs()) {
    if (input.name() == InputName(type)) return &input;
  }
  FAIL("no input " << InputName(type));
  return nullptr;
}

// A one-input signature and a typed request for it, one row of `values`.
struct OneInput {
  v1::ModelSignature signature;
  inference::ModelInferRequest request;
};
OneInput FloatInput(std::vector<float> values, bool nan_allowed) {
  OneInput one;
  *one.signature.add_inputs() = Spec("amount", "FP32", {-1, int64_t(values.size())}, nan_allowed);
  Tensor tensor = Values("amount", DataType::kFp32, 1);
  tensor.shape = {1, int64_t(values.size())};
  tensor.fp32 = std::move(values);
  AddInput(tensor, false, &one.request);
  return one;
}

TEST_CASE("Inputs that are unknown, missing or given twice are refused by name") {
  inference::ModelInferRequest request = AllTypesRequest(1, false);
  request.mutable_inputs(0)->set_name("colour");
  CHECK_THAT(Refusal(request),
             Catch::Contains("input 'colour' is not an input") && Catch::Contains("in_FP32"));

  request = AllTypesRequest(1, false);
  request.mutable_inputs()->DeleteSubrange(1, 1);  // in_FP64 (inputs are in reverse order).
  CHECK_THAT(Refusal(request), Catch::Contains("input 'in_FP64' is missing"));

  request = AllTypesRequest(1, false);
  *request.add_inputs() = request.inputs(0);
  CHECK_THAT(Refusal(request), Catch::Contains("input 'in_BYTES' is given twice"));
}

TEST_CASE("A datatype other than the signature's is refused by name") {
  inference::ModelInferRequest request = AllTypesRequest(1, false);
  Input(&request, DataType::kFp64)->set_datatype("FP32");
  CHECK_THAT(Refusal(request),
             Catch::Contains("input 'in_FP64' is 'FP32'") && Catch::Contains("takes FP64"));
}

TEST_CASE("Shapes of another rank, other non-batch dimensions, or none are refused by name") {
  inference::ModelInferRequest request = AllTypesRequest(2, false);
  Input(&request, DataType::kInt32)->set_shape(1, 4);
  Input(&request, DataType::kInt32)->set_shape(0, 1);
  CHECK_THAT(Refusal(request),
             Catch::Contains("input 'in_INT32' has shape [1, 4]") && Catch::Contains("[-1, 2]"));

  request = AllTypesRequest(2, false);
  Input(&request, DataType::kInt64)->add_shape(1);
  CHECK_THAT(Refusal(request), Catch::Contains("input 'in_INT64' has shape [2, 2, 1]"));

  request = AllTypesRequest(2, false);
  Input(&request, DataType::kBool)->clear_shape();
  CHECK_THAT(Refusal(request), Catch::Contains("input 'in_BOOL' has shape []"));
}

TEST_CASE("Negative dimensions and overflowing shapes are refused without allocating") {
  const int64_t huge = std::numeric_limits<int64_t>::max() / 2;
  const bool raw = GENERATE(false, true);
  INFO((raw ? "raw" : "typed"));
  v1::ModelSignature signature = AllTypesSignature();
  for (auto& spec : *signature.mutable_inputs()) spec.set_shape(1, -1);

  inference::ModelInferRequest request = AllTypesRequest(1, raw);
  Input(&request, DataType::kFp32)->set_shape(1, -2);
  CHECK_THAT(Refusal(request, signature), Catch::Contains("input 'in_FP32': dimension -2"));

  request = AllTypesRequest(1, raw);
  Input(&request, DataType::kFp32)->set_shape(1, huge);
  Input(&request, DataType::kFp32)->add_shape(4);
  Input(&request, DataType::kFp32)->set_shape(0, 1);
  v1::ModelSignature rank3 = signature;
  rank3.mutable_inputs(3)->add_shape(-1);
  CHECK_THAT(Refusal(request, rank3),
             Catch::Contains("input 'in_FP32'") && Catch::Contains("does not fit"));

  // Counts that fit in 64 bits but that the contents cannot hold are refused by their length.
  for (DataType type : {DataType::kFp64, DataType::kBytes}) {
    request = AllTypesRequest(1, raw);
    Input(&request, type)->set_shape(1, huge / 8);
    CHECK_THAT(Refusal(request, signature), Catch::Contains("input '" + InputName(type) + "'"));
  }
  request = AllTypesRequest(1, raw);
  Input(&request, DataType::kFp64)->set_shape(0, huge);
  CHECK_THAT(Refusal(request, signature, {0}), Catch::Contains("input 'in_FP64'"));
}

TEST_CASE("Zero rows, too many rows and inputs of different rows are refused by name") {
  inference::ModelInferRequest request = AllTypesRequest(1, false);
  Input(&request, DataType::kBytes)->set_shape(0, 0);
  Input(&request, DataType::kBytes)->mutable_contents()->clear_bytes_contents();
  CHECK_THAT(Refusal(request), Catch::Contains("input 'in_BYTES' has zero rows"));

  request = AllTypesRequest(5, false);
  CHECK_THAT(Refusal(request, AllTypesSignature(), {4}),
             Catch::Contains("'in_BOOL' has 5 rows") && Catch::Contains("at most 4"));
  CHECK(DecodeInferRequest(request, AllTypesSignature(), {5}).ok());
  CHECK(DecodeInferRequest(request, AllTypesSignature(), {0}).ok());  // No limit.

  request = AllTypesRequest(2, false);
  auto* fp32 = Input(&request, DataType::kFp32);
  fp32->set_shape(0, 1);
  fp32->mutable_contents()->mutable_fp32_contents()->Truncate(2);
  CHECK_THAT(Refusal(request),
             Catch::Contains("input 'in_FP32' has 1 rows") && Catch::Contains("has 2"));
}

TEST_CASE("Typed contents in another field, of another count, or absent are refused by name") {
  inference::ModelInferRequest request = AllTypesRequest(1, false);
  auto* int64 = Input(&request, DataType::kInt64);
  int64->mutable_contents()->clear_int64_contents();
  int64->mutable_contents()->add_int_contents(1);
  int64->mutable_contents()->add_int_contents(2);
  CHECK_THAT(Refusal(request), Catch::Contains("input 'in_INT64' is INT64") &&
                                   Catch::Contains("int64_contents, not int_contents"));

  request = AllTypesRequest(2, false);
  Input(&request, DataType::kFp64)->mutable_contents()->add_fp64_contents(1.0);
  CHECK_THAT(Refusal(request), Catch::Contains("input 'in_FP64' has 5 elements in fp64_contents") &&
                                   Catch::Contains("holds 4"));

  request = AllTypesRequest(2, false);
  Input(&request, DataType::kBool)->clear_contents();
  CHECK_THAT(Refusal(request),
             Catch::Contains("input 'in_BOOL' has neither contents nor raw_input_contents"));
}

TEST_CASE(
    "Typed contents and raw_input_contents together, or raw of the wrong count, are refused") {
  inference::ModelInferRequest request = AllTypesRequest(1, true);
  Input(&request, DataType::kFp32)->mutable_contents()->add_fp32_contents(1.0f);
  CHECK_THAT(Refusal(request), Catch::Contains("input 'in_FP32' has both contents and raw"));

  request = AllTypesRequest(1, true);
  request.mutable_raw_input_contents()->RemoveLast();
  CHECK_THAT(Refusal(request), Catch::Contains("raw_input_contents has 5 entries for 6 inputs"));
}

TEST_CASE("Raw contents whose length does not match the shape are refused by name") {
  for (DataType type : testing::kAllTypes) {
    inference::ModelInferRequest request = AllTypesRequest(2, true);
    int index = 0;
    while (request.inputs(index).name() != InputName(type)) ++index;
    std::string* raw = request.mutable_raw_input_contents(index);
    INFO(InputName(type));
    raw->pop_back();
    CHECK_THAT(Refusal(request), Catch::Contains("input '" + InputName(type) + "'"));
    raw->append("xy");
    CHECK_THAT(Refusal(request), Catch::Contains("input '" + InputName(type) + "'"));
  }
}

TEST_CASE("Raw BYTES with a length prefix past the end or a cut prefix are refused by name") {
  inference::ModelInferRequest request = AllTypesRequest(1, true);
  int index = 0;
  while (request.inputs(index).name() != "in_BYTES") ++index;
  request.set_raw_input_contents(index,
                                 testing::LengthPrefixed({"ok"}) + std::string("\xff\x00\x00\x00"
                                                                               "ab",
                                                                               6));
  CHECK_THAT(Refusal(request), Catch::Contains("input 'in_BYTES': raw BYTES element 1 says 255"));

  request.set_raw_input_contents(index,
                                 testing::LengthPrefixed({"ok"}) + std::string("\x01\x00", 2));
  CHECK_THAT(Refusal(request), Catch::Contains("input 'in_BYTES': raw contents of 8 bytes"));
}

TEST_CASE("NaN is refused where the signature forbids missing values, and passes where allowed") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  OneInput forbidden = FloatInput({1.0f, nan}, false);
  CHECK_THAT(Refusal(forbidden.request, forbidden.signature),
             Catch::Contains("input 'amount' has NaN at element 1") &&
                 Catch::Contains("nan_allowed is false"));

  OneInput allowed = FloatInput({1.0f, nan}, true);
  absl::StatusOr<DecodedRequest> decoded =
      DecodeInferRequest(allowed.request, allowed.signature, {});
  REQUIRE(decoded.ok());
  CHECK(std::isnan(decoded->inputs.tensors[0].fp32[1]));

  OneInput infinite = FloatInput({std::numeric_limits<float>::infinity(), 0.0f}, false);
  CHECK(DecodeInferRequest(infinite.request, infinite.signature, {}).ok());

  inference::ModelInferRequest raw = AllTypesRequest(1, true);
  int index = 0;
  while (raw.inputs(index).name() != "in_FP64") ++index;
  raw.set_raw_input_contents(index, testing::LittleEndian(std::vector<double>{0.0, std::nan("")}));
  CHECK_THAT(Refusal(raw), Catch::Contains("input 'in_FP64' has NaN at element 1"));
}

TEST_CASE("BYTES that are not valid UTF-8 are refused by name, typed and raw") {
  const bool raw = GENERATE(false, true);
  inference::ModelInferRequest request;
  v1::ModelSignature signature;
  *signature.add_inputs() = Spec("city", "BYTES", {-1, 1});
  Tensor city = Values("city", DataType::kBytes, 3);
  city.shape = {3, 1};
  city.bytes = {"Z\xC3\xBCrich", "\xE6\x9D\xB1\xE4\xBA\xAC", "bad \xC3("};
  AddInput(city, raw, &request);
  CHECK_THAT(Refusal(request, signature),
             Catch::Contains("input 'city' element 2 is not valid UTF-8"));

  request.Clear();
  city.bytes[2] = "\xF0\x9F\x98\x80";  // An emoji: four bytes, valid.
  AddInput(city, raw, &request);
  CHECK(DecodeInferRequest(request, signature, {}).ok());
}

TEST_CASE("UTF-8 validation refuses overlong forms, surrogates, stray and cut sequences") {
  CHECK(IsValidUtf8(""));
  CHECK(IsValidUtf8("plain"));
  CHECK(IsValidUtf8("\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF\xF0\x90\x80\x80\xF4\x8F\xBF\xBF"));
  CHECK_FALSE(IsValidUtf8("\x80"));              // A continuation byte alone.
  CHECK_FALSE(IsValidUtf8("\xC0\xAF"));          // Overlong '/'.
  CHECK_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // Overlong, three bytes.
  CHECK_FALSE(IsValidUtf8("\xF0\x80\x80\xAF"));  // Overlong, four bytes.
  CHECK_FALSE(IsValidUtf8("\xED\xA0\x80"));      // A surrogate, U+D800.
  CHECK_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // U+110000.
  CHECK_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));  // A lead past U+10FFFF.
  CHECK_FALSE(IsValidUtf8("\xE6\x9D"));          // Cut short.
  CHECK_FALSE(IsValidUtf8("\xE6\x41\x41"));      // Not continued.
}

TEST_CASE("Requested outputs the signature lacks, or named twice, are refused by name") {
  inference::ModelInferRequest request = AllTypesRequest(1, false);
  request.add_outputs()->set_name("margin");
  CHECK_THAT(Refusal(request),
             Catch::Contains("output 'margin' is not an output") && Catch::Contains("p, label, k"));

  request = AllTypesRequest(1, false);
  request.add_outputs()->set_name("p");
  request.add_outputs()->set_name("p");
  CHECK_THAT(Refusal(request), Catch::Contains("output 'p' is requested twice"));
}

TEST_CASE("A signature with a datatype the server does not serve is FAILED_PRECONDITION") {
  v1::ModelSignature signature = AllTypesSignature();
  signature.mutable_inputs(1)->set_datatype("UINT8");
  inference::ModelInferRequest request = AllTypesRequest(1, false);
  Input(&request, DataType::kInt32)->set_datatype("UINT8");
  absl::StatusOr<DecodedRequest> decoded = DecodeInferRequest(request, signature, {});
  REQUIRE(decoded.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(decoded.status().message()),
             Catch::Contains("input 'in_INT32'") && Catch::Contains("'UINT8'"));
}

}  // namespace
}  // namespace fabrique::serving
