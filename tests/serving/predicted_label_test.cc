#include "libs/serving/predicted_label.h"

#include <cmath>
#include <string>
#include <vector>

#include "catch2/catch.hpp"

namespace fabrique::serving {
namespace {

v1::ModelSignature Classes(std::vector<std::string> labels) {
  v1::ModelSignature signature;
  for (const std::string& label : labels) signature.add_class_labels(label);
  return signature;
}

// One FP32 output named `name`, `width` scores a row.
TensorBatch Scores(const std::string& name, int64_t width, std::vector<float> values) {
  TensorBatch batch;
  Tensor& tensor = batch.tensors.emplace_back();
  tensor.name = name;
  tensor.type = DataType::kFp32;
  tensor.shape = {static_cast<int64_t>(values.size()) / width, width};
  tensor.fp32 = std::move(values);
  batch.rows = tensor.shape[0];
  return batch;
}

TEST_CASE("Binary classifiers: P(class 1) at or above 0.5 is the second label") {
  const v1::ModelSignature signature = Classes({"legit", "fraud"});
  const TensorBatch outputs = Scores("probability", 1, {0.93f, 0.2f, 0.5f, std::nanf("")});
  CHECK(*PredictedLabel(signature, outputs, 0) == "fraud");
  CHECK(*PredictedLabel(signature, outputs, 1) == "legit");
  CHECK(*PredictedLabel(signature, outputs, 2) == "fraud");
  CHECK(PredictedLabel(signature, outputs, 3)->empty());
}

TEST_CASE("Multiclass classifiers: the label of the largest score") {
  const v1::ModelSignature signature = Classes({"bronze", "silver", "gold"});
  TensorBatch outputs = Scores("probabilities", 3, {0.1f, 0.7f, 0.2f, 0.3f, 0.3f, 0.4f});
  // The label is read from the scores, whichever output comes first.
  outputs.tensors.insert(outputs.tensors.begin(), Scores("embedding", 2, {1, 2, 3, 4}).tensors[0]);
  CHECK(*PredictedLabel(signature, outputs, 0) == "silver");
  CHECK(*PredictedLabel(signature, outputs, 1) == "gold");
}

TEST_CASE("Regression has no label; scores that fit no classifier are refused") {
  CHECK(PredictedLabel(v1::ModelSignature(), Scores("prediction", 1, {3.5f}), 0)->empty());

  const v1::ModelSignature signature = Classes({"a", "b", "c"});
  auto label = PredictedLabel(signature, Scores("probabilities", 2, {0.1f, 0.9f}), 0);
  CHECK(label.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(label.status().message()),
             Catch::Contains("'probabilities'") && Catch::Contains("3 class labels"));
  label = PredictedLabel(signature, Scores("probabilities", 3, {0.1f, 0.8f, 0.1f}), 1);
  CHECK(label.status().code() == absl::StatusCode::kOutOfRange);
}

TEST_CASE("The routing key joins a row's entity keys with '|' in request order") {
  google::protobuf::RepeatedPtrField<v1::EntityKeys> keys;
  v1::EntityKeys* customers = keys.Add();
  customers->set_entity("customer");
  customers->add_keys("c1");
  customers->add_keys("c2");
  v1::EntityKeys* merchants = keys.Add();
  merchants->set_entity("merchant");
  merchants->add_keys("m1");
  merchants->add_keys("m2");
  CHECK(RoutingKey(keys, 0) == "c1|m1");
  CHECK(RoutingKey(keys, 1) == "c2|m2");
  keys.RemoveLast();
  CHECK(RoutingKey(keys, 1) == "c2");
}

}  // namespace
}  // namespace fabrique::serving
