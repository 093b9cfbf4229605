#ifndef FABRIQUE_SERVICES_INFERENCE_ENTITY_PREDICT_ROWS_H_
#define FABRIQUE_SERVICES_INFERENCE_ENTITY_PREDICT_ROWS_H_

// The row bookkeeping of an entity Predict: which rows each version answers, those rows taken out
// of a batch, and one row's share of the answer as the response carries it.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fabrique/v1/common.pb.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "libs/serving/tensor_batch.h"

namespace fabrique::services {

// Rows `rows` of `batch` (any order, each in range), as one batch in that order.
absl::StatusOr<serving::TensorBatch> GatherRows(const serving::TensorBatch& batch,
                                                const std::vector<int64_t>& rows);

// The indexes, in `signature`'s outputs, of the outputs named in `wanted` (in that order); every
// output when `wanted` is empty. INVALID_ARGUMENT naming an output the model does not have, and
// the ones it has.
absl::StatusOr<std::vector<int>> WantedOutputs(
    const v1::ModelSignature& signature,
    const google::protobuf::RepeatedPtrField<std::string>& wanted, const std::string& model);

// Row `row` of `tensor` as the response carries it, written into `output` (empty, or named
// already): its name and elements as floats (text has none).
void FillRowOutput(const serving::Tensor& tensor, int64_t row, v1::ModelOutput& output);

// A key equal for two signatures exactly when their inputs are equal: versions whose inputs are
// the same are fed the same rows, looked up once.
std::string InputsKey(const v1::ModelSignature& signature);

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_INFERENCE_ENTITY_PREDICT_ROWS_H_
