#ifndef FABRIQUE_LIBS_SERVING_FEATURE_VALUES_H_
#define FABRIQUE_LIBS_SERVING_FEATURE_VALUES_H_

// One feature value turned into a model input's elements, the way the trainer turned it when the
// model learned (libs/training/training_set_table.h): numbers (float, double, int64, bool) and
// float vectors become FP32 elements, strings a BYTES element; a missing value is NaN for numbers
// (the module imputes it) and "" for strings.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "fabrique/v1/common.pb.h"
#include "libs/serving/tensor_batch.h"

namespace fabrique::serving {

// The feature type a column's values are written in; UNSPECIFIED when no list is set.
v1::FeatureType TypeOfValues(const v1::ValueColumn& values);

// "group:feature", or the name alone when the group is empty (a request-time input).
std::string FeatureRefText(const v1::FeatureRef& ref);

// The number of values a column holds, whatever its type (0 when no list is set).
int64_t ValueCount(const v1::ValueColumn& values);

// "FLOAT", "STRING", ... as the feature store names its types.
std::string FeatureTypeText(v1::FeatureType type);

// Whether a feature of `type` can feed `input` (an FP32 or BYTES tensor `width` elements a row):
// FP32 from numbers (width 1) or float vectors; BYTES (width 1) from strings.
bool FeedsInput(v1::FeatureType type, DataType input, int64_t width);

// Whether row `row` of `values` is null.
bool IsNullAt(const v1::ValueColumn& values, int row);

// Appends row `row` of `values` (not null) to `tensor`, as FeedsInput allows: `width` FP32
// elements, or one BYTES element. INVALID_ARGUMENT when a float vector has another length, naming
// the length found (the caller says which feature and picks the code).
absl::Status AppendValue(const v1::ValueColumn& values, int row, int64_t width, Tensor* tensor);

// Appends a missing value to `tensor`: `width` NaNs, or "".
void AppendMissing(int64_t width, Tensor* tensor);

// The values row `row` of `inputs` fed the model, one per input in order (EntityPrediction's
// `features`, for return_features): FP32 of width 1 as a float, wider as a float vector, BYTES as
// a string; a missing number (NaN, or a vector of NaNs) as a null Value.
std::vector<v1::Value> FedValues(const TensorBatch& inputs, int64_t row);

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_FEATURE_VALUES_H_
