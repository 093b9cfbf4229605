#ifndef FABRIQUE_LIBS_TRAINING_REFERENCE_PROFILE_H_
#define FABRIQUE_LIBS_TRAINING_REFERENCE_PROFILE_H_

// What the trainer hands the monitor with a model: the reference profile of its training data
// (per feature: missing rate and, for numbers, mean, spread and equal-frequency quantile bins;
// for categories, their frequencies), of its label, and of its predictions on the validation
// split. Drift is later measured against these bins. No LibTorch here.

#include <string>
#include <vector>

#include "absl/types/span.h"
#include "fabrique/v1/common.pb.h"
#include "libs/training/tabular_data.h"

namespace fabrique::training {

// Summary of `values` (NaN = missing, not counted) with up to `bins` equal-frequency bins; ties
// can merge bins, so there may be fewer. Values at an edge fall in the bin above it, the maximum
// in the last bin.
v1::NumericSummary SummarizeNumeric(absl::Span<const float> values, int bins = 10);

// The `top` most frequent of `values` (ties by value), skipping those `missing` marks (or empty).
v1::CategoricalSummary SummarizeCategorical(const std::vector<std::string>& values,
                                            const std::vector<uint8_t>& missing, int top = 20);

struct ProfileInput {
  const RawTable* train = nullptr;              // Required.
  const std::vector<double>* labels = nullptr;  // Training labels. Required.
  v1::Task task = v1::TASK_BINARY_CLASSIFICATION;
  int num_classes = 0;
  // Validation predictions, as TrainResult has them (P(class 1), class rows, or targets).
  const std::vector<double>* validation_predictions = nullptr;
  std::string dataset_id;
};

// The profile, features in the table's order (float vectors pooled over their elements).
v1::ReferenceProfile BuildReferenceProfile(const ProfileInput& input);

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_REFERENCE_PROFILE_H_
