#ifndef FABRIQUE_TESTS_SERVING_BATCH_TEST_UTIL_H_
#define FABRIQUE_TESTS_SERVING_BATCH_TEST_UTIL_H_

// Rows and a model for the batcher's tests: one FP32 input "x" of one value per row, and a
// "model" answering y = 2x, so every request can check that it got its own rows back.

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/serving/tensor_batch.h"

namespace fabrique::serving::testing {

// A batch of one FP32 tensor named `name`, shape [values.size(), 1].
inline TensorBatch Rows(const std::vector<float>& values, const char* name = "x") {
  TensorBatch batch;
  batch.rows = static_cast<int64_t>(values.size());
  Tensor& tensor = batch.tensors.emplace_back();
  tensor.name = name;
  tensor.type = DataType::kFp32;
  tensor.shape = {batch.rows, 1};
  tensor.fp32 = values;
  return batch;
}

// `count` rows valued first, first + 1, ...
inline TensorBatch CountingRows(int64_t count, float first = 0) {
  std::vector<float> values;
  for (int64_t i = 0; i < count; ++i) values.push_back(first + static_cast<float>(i));
  return Rows(values);
}

// The model: output "y" = 2 * input "x", row for row.
inline absl::StatusOr<TensorBatch> Doubled(const TensorBatch& inputs) {
  std::vector<float> values = inputs.tensors.at(0).fp32;
  for (float& value : values) value *= 2;
  return Rows(values, "y");
}

}  // namespace fabrique::serving::testing

#endif  // FABRIQUE_TESTS_SERVING_BATCH_TEST_UTIL_H_
