#ifndef FABRIQUE_LIBS_SERVING_PREDICTED_LABEL_H_
#define FABRIQUE_LIBS_SERVING_PREDICTED_LABEL_H_

// What an entity prediction says besides the raw outputs: the predicted class label of a scored
// row, and the key a row is routed by for the canary share.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "fabrique/v1/common.pb.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "libs/serving/tensor_batch.h"

namespace fabrique::serving {

// The most likely class label of row `row` of `outputs` (the module's outputs, all of them, in
// signature order), for classifiers; "" for regression (no class_labels) and for a NaN score.
// The scores are the output named "probability" or "probabilities", else the signature's first:
// width 1 with two class labels is P(class 1), giving class_labels[p >= 0.5 ? 1 : 0]; width k with
// k class labels gives the label of the largest. FAILED_PRECONDITION when the scores' width fits
// neither (the signature is inconsistent); OUT_OF_RANGE when `row` is not in `outputs`.
absl::StatusOr<std::string> PredictedLabel(const v1::ModelSignature& signature,
                                           const TensorBatch& outputs, int64_t row);

// The key row `row` is routed by: its entity keys joined with "|", in request order (the input
// of the canary hash; see the README). A column too short for `row` contributes "".
std::string RoutingKey(const google::protobuf::RepeatedPtrField<v1::EntityKeys>& entity_keys,
                       int64_t row);

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_PREDICTED_LABEL_H_
