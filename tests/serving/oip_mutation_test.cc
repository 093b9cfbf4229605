// Requests mutated at random (shapes, datatypes, contents, raw bytes, names) are decoded or
// refused with INVALID_ARGUMENT, never a crash, another code, or a huge allocation. The seed is
// fixed, so a failure reproduces.

#include <limits>
#include <random>
#include <string>

#include "catch2/catch.hpp"
#include "libs/serving/oip_codec.h"
#include "tests/serving/tensor_test_util.h"

namespace fabrique::serving {
namespace {

using InferInput = inference::ModelInferRequest::InferInputTensor;

// A dimension drawn to hit the edges: small counts, zero, negatives and overflowing sizes.
int64_t AbsurdDimension(std::mt19937_64& random) {
  const int64_t edges[] = {0,
                           1,
                           2,
                           3,
                           -1,
                           -2,
                           std::numeric_limits<int64_t>::max(),
                           std::numeric_limits<int64_t>::min(),
                           std::numeric_limits<int64_t>::max() / 2,
                           int64_t{1} << 32,
                           int64_t{1} << 61};
  return edges[random() % (sizeof(edges) / sizeof(edges[0]))];
}

void MutateInput(std::mt19937_64& random, InferInput* input, std::string* raw) {
  switch (random() % 6) {
    case 0:
      input->set_shape(random() % input->shape_size(), AbsurdDimension(random));
      return;
    case 1:
      input->add_shape(AbsurdDimension(random));
      return;
    case 2:
      input->set_datatype(std::string(DataTypeName(testing::kAllTypes[random() % 6])));
      return;
    case 3:
      input->mutable_contents()->add_int64_contents(static_cast<int64_t>(random()));
      return;
    case 4:
      if (raw != nullptr && !raw->empty()) raw->resize(random() % raw->size());
      return;
    default:
      if (raw != nullptr) raw->append(std::string(random() % 9, static_cast<char>(random())));
      return;
  }
}

TEST_CASE("Randomly mutated requests decode or are refused with INVALID_ARGUMENT") {
  std::mt19937_64 random(20261202);
  const v1::ModelSignature signature = testing::AllTypesSignature();
  int refused = 0;
  for (int round = 0; round < 3000; ++round) {
    const bool raw = round % 2 == 1;
    inference::ModelInferRequest request = testing::AllTypesRequest(1 + round % 3, raw);
    const int mutations = 1 + random() % 3;
    for (int m = 0; m < mutations; ++m) {
      const int index = random() % request.inputs_size();
      MutateInput(random, request.mutable_inputs(index),
                  raw ? request.mutable_raw_input_contents(index) : nullptr);
    }
    absl::StatusOr<DecodedRequest> decoded = DecodeInferRequest(request, signature, {});
    if (decoded.ok()) {
      CHECK(decoded->inputs.tensors.size() == 6);
      continue;
    }
    ++refused;
    INFO("round " << round << ": " << decoded.status().ToString());
    REQUIRE(decoded.status().code() == absl::StatusCode::kInvalidArgument);
    REQUIRE_THAT(std::string(decoded.status().message()), Catch::Contains("input"));
  }
  CHECK(refused > 2000);  // Most mutations break the request; the loop must have exercised that.
}

}  // namespace
}  // namespace fabrique::serving
