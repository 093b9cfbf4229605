#ifndef FABRIQUE_TESTS_SERVING_TENSOR_TEST_UTIL_H_
#define FABRIQUE_TESTS_SERVING_TENSOR_TEST_UTIL_H_

// Tensors and Open Inference Protocol requests for serving's tests. Requests are written out by
// hand (typed contents and raw little-endian bytes) so the codec is checked against the wire
// format, not against itself.

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "catch2/catch.hpp"
#include "fabrique/v1/common.pb.h"
#include "inference/grpc_predict_v2.pb.h"
#include "libs/serving/tensor_batch.h"

namespace fabrique::serving::testing {

using InferInput = inference::ModelInferRequest::InferInputTensor;

inline constexpr DataType kAllTypes[] = {DataType::kBool, DataType::kInt32, DataType::kInt64,
                                         DataType::kFp32, DataType::kFp64,  DataType::kBytes};

inline v1::TensorSpec Spec(const std::string& name, const std::string& datatype,
                           std::vector<int64_t> shape, bool nan_allowed = false) {
  v1::TensorSpec spec;
  spec.set_name(name);
  spec.set_datatype(datatype);
  for (int64_t dim : shape) spec.add_shape(dim);
  spec.set_nan_allowed(nan_allowed);
  return spec;
}

// The input of `type` in AllTypesSignature: "in_BOOL", "in_FP32", ...
inline std::string InputName(DataType type) { return "in_" + std::string(DataTypeName(type)); }

// One input of every type, shape [-1, 2], in kAllTypes order; outputs "p" FP32 [-1, 1],
// "label" BYTES [-1, 1] and "k" INT64 [-1, 2].
inline v1::ModelSignature AllTypesSignature() {
  v1::ModelSignature signature;
  for (DataType type : kAllTypes) {
    *signature.add_inputs() = Spec(InputName(type), std::string(DataTypeName(type)), {-1, 2});
  }
  *signature.add_outputs() = Spec("p", "FP32", {-1, 1});
  *signature.add_outputs() = Spec("label", "BYTES", {-1, 1});
  *signature.add_outputs() = Spec("k", "INT64", {-1, 2});
  return signature;
}

// `rows` rows of two elements of `type`, each element distinct (BYTES: non-ASCII text too).
inline Tensor Values(const std::string& name, DataType type, int64_t rows) {
  Tensor tensor;
  tensor.name = name;
  tensor.type = type;
  tensor.shape = {rows, 2};
  for (int v = 0; v < rows * 2; ++v) {
    switch (type) {
      case DataType::kBool:
        tensor.boolean.push_back(v % 3 == 0);
        break;
      case DataType::kInt32:
        tensor.int32.push_back(v % 2 ? -v : v + 2147483000);
        break;
      case DataType::kInt64:
        tensor.int64.push_back((int64_t{v} << 40) - 7);
        break;
      case DataType::kFp32:
        tensor.fp32.push_back(v * 0.5f - 1e-3f);
        break;
      case DataType::kFp64:
        tensor.fp64.push_back(v * 1e-300 + v);
        break;
      case DataType::kBytes:
        tensor.bytes.push_back(v % 2 ? "caf\xC3\xA9 " + std::to_string(v) : std::string());
        break;
    }
  }
  return tensor;
}

// Checks that `got` holds the tensors of `want`: names, types, shapes and every element.
inline void CheckSameBatch(const TensorBatch& got, const TensorBatch& want) {
  REQUIRE(got.rows == want.rows);
  REQUIRE(got.tensors.size() == want.tensors.size());
  for (size_t t = 0; t < got.tensors.size(); ++t) {
    const Tensor& a = got.tensors[t];
    const Tensor& b = want.tensors[t];
    INFO("tensor " << b.name);
    CHECK(a.name == b.name);
    CHECK(a.type == b.type);
    CHECK(a.shape == b.shape);
    CHECK(a.boolean == b.boolean);
    CHECK(a.int32 == b.int32);
    CHECK(a.int64 == b.int64);
    CHECK(a.fp32 == b.fp32);
    CHECK(a.fp64 == b.fp64);
    CHECK(a.bytes == b.bytes);
  }
}

// Little-endian bytes of `values`, one after another, whatever the host's byte order.
template <typename T>
std::string LittleEndian(const std::vector<T>& values) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  static_assert(sizeof(T) == sizeof(Bits), "4- or 8-byte elements only");
  std::string raw;
  for (T value : values) {
    Bits bits;
    std::memcpy(&bits, &value, sizeof(T));
    for (size_t b = 0; b < sizeof(T); ++b)
      raw.push_back(static_cast<char>((bits >> (8 * b)) & 0xFF));
  }
  return raw;
}

// BYTES elements as raw contents: a 4-byte little-endian length, then the bytes, per element.
inline std::string LengthPrefixed(const std::vector<std::string>& values) {
  std::string raw;
  for (const std::string& value : values) {
    const uint32_t length = static_cast<uint32_t>(value.size());
    for (int b = 0; b < 4; ++b) raw.push_back(static_cast<char>((length >> (8 * b)) & 0xFF));
    raw += value;
  }
  return raw;
}

inline std::string RawOf(const Tensor& tensor) {
  switch (tensor.type) {
    case DataType::kBool:
      return std::string(tensor.boolean.begin(), tensor.boolean.end());
    case DataType::kInt32:
      return LittleEndian(tensor.int32);
    case DataType::kInt64:
      return LittleEndian(tensor.int64);
    case DataType::kFp32:
      return LittleEndian(tensor.fp32);
    case DataType::kFp64:
      return LittleEndian(tensor.fp64);
    case DataType::kBytes:
      break;
  }
  return LengthPrefixed(tensor.bytes);
}

inline void FillTyped(const Tensor& tensor, inference::InferTensorContents* contents) {
  for (uint8_t v : tensor.boolean) contents->add_bool_contents(v != 0);
  for (int32_t v : tensor.int32) contents->add_int_contents(v);
  for (int64_t v : tensor.int64) contents->add_int64_contents(v);
  for (float v : tensor.fp32) contents->add_fp32_contents(v);
  for (double v : tensor.fp64) contents->add_fp64_contents(v);
  for (const std::string& v : tensor.bytes) contents->add_bytes_contents(v);
}

// Adds `tensor` as a request input: typed contents, or a raw_input_contents entry when `raw`.
inline InferInput* AddInput(const Tensor& tensor, bool raw, inference::ModelInferRequest* request) {
  InferInput* input = request->add_inputs();
  input->set_name(tensor.name);
  input->set_datatype(std::string(DataTypeName(tensor.type)));
  for (int64_t dim : tensor.shape) input->add_shape(dim);
  if (raw) {
    request->add_raw_input_contents(RawOf(tensor));
  } else {
    FillTyped(tensor, input->mutable_contents());
  }
  return input;
}

// The expected decoding of AllTypesRequest: every type, `rows` rows, in signature order.
inline TensorBatch AllTypesBatch(int64_t rows) {
  TensorBatch batch;
  batch.rows = rows;
  for (DataType type : kAllTypes) batch.tensors.push_back(Values(InputName(type), type, rows));
  return batch;
}

// A request for AllTypesSignature with `rows` rows, its inputs in reverse signature order.
inline inference::ModelInferRequest AllTypesRequest(int64_t rows, bool raw) {
  inference::ModelInferRequest request;
  request.set_model_name("churn");
  request.set_id("req-1");
  const TensorBatch batch = AllTypesBatch(rows);
  for (auto it = batch.tensors.rbegin(); it != batch.tensors.rend(); ++it) {
    AddInput(*it, raw, &request);
  }
  return request;
}

}  // namespace fabrique::serving::testing

#endif  // FABRIQUE_TESTS_SERVING_TENSOR_TEST_UTIL_H_
