#include "libs/serving/model_metadata.h"

#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "tests/serving/tensor_test_util.h"

namespace fabrique::serving {
namespace {

std::vector<int64_t> ShapeOf(const inference::ModelMetadataResponse::TensorMetadata& tensor) {
  return {tensor.shape().begin(), tensor.shape().end()};
}

TEST_CASE("Model metadata lists versions, the platform and the signature with -1 kept") {
  v1::ModelSignature signature;
  *signature.add_inputs() = testing::Spec("amount", "FP32", {-1, 1}, true);
  *signature.add_inputs() = testing::Spec("country", "BYTES", {-1, 1});
  *signature.add_outputs() = testing::Spec("probability", "FP32", {-1, 2});
  const inference::ModelMetadataResponse metadata =
      ModelMetadataFromSignature("fraud", {"3", "4"}, signature);

  CHECK(metadata.name() == "fraud");
  CHECK(std::vector<std::string>(metadata.versions().begin(), metadata.versions().end()) ==
        std::vector<std::string>{"3", "4"});
  CHECK(metadata.platform() == "pytorch_torchscript");
  REQUIRE(metadata.inputs_size() == 2);
  CHECK(metadata.inputs(0).name() == "amount");
  CHECK(metadata.inputs(0).datatype() == "FP32");
  CHECK(ShapeOf(metadata.inputs(0)) == std::vector<int64_t>{-1, 1});
  CHECK(metadata.inputs(1).name() == "country");
  CHECK(metadata.inputs(1).datatype() == "BYTES");
  REQUIRE(metadata.outputs_size() == 1);
  CHECK(metadata.outputs(0).name() == "probability");
  CHECK(ShapeOf(metadata.outputs(0)) == std::vector<int64_t>{-1, 2});
}

TEST_CASE("Model metadata of a model with no versions and an empty signature is just its name") {
  const inference::ModelMetadataResponse metadata =
      ModelMetadataFromSignature("empty", {}, v1::ModelSignature());
  CHECK(metadata.name() == "empty");
  CHECK(metadata.versions().empty());
  CHECK(metadata.platform() == "pytorch_torchscript");
  CHECK(metadata.inputs().empty());
  CHECK(metadata.outputs().empty());
}

}  // namespace
}  // namespace fabrique::serving
