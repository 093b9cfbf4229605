#ifndef FABRIQUE_LIBS_TRAINING_REFERENCE_PROFILE_H_
#define FABRIQUE_LIBS_TRAINING_REFERENCE_PROFILE_H_

// What the trainer hands the monitor with a model: the reference profile of its training data
// (per feature: missing rate and, for numbers, mean, spread, a quantile sketch with a stated
// rank error of at most 1% (every value while there are at most 4,096) and ten equal-frequency
// bins for readers of older profiles; for categories, exact counts), of its label, and of its
// predictions on the validation split. Drift is later measured against these. No LibTorch here.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "fabrique/v1/common.pb.h"
#include "libs/training/tabular_data.h"

namespace fabrique::training {

// Summary of `values` (NaN = missing, not counted): exact moments, range and up to `bins`
// equal-frequency bins (ties can merge bins, so there may be fewer; values at an edge fall in
// the bin above it, the maximum in the last bin), and the values' quantile sketch, seeded by
// `sketch_seed` so that the same data give the same profile.
v1::NumericSummary SummarizeNumeric(absl::Span<const float> values, int bins = 10,
                                    uint64_t sketch_seed = 0);

// Exact counts of `values`, skipping those `missing` marks (or empty): the `top` most frequent
// (ties by value) by name, the rest in other_count.
v1::CategoricalSummary SummarizeCategorical(const std::vector<std::string>& values,
                                            const std::vector<uint8_t>& missing, int top = 1000);

struct ProfileInput {
  const RawTable* train = nullptr;              // Required.
  const std::vector<double>* labels = nullptr;  // Training labels. Required.
  v1::Task task = v1::TASK_BINARY_CLASSIFICATION;
  int num_classes = 0;
  // Validation predictions, as TrainResult has them (P(class 1), class rows, or targets).
  const std::vector<double>* validation_predictions = nullptr;
  std::string dataset_id;
  // Seed of the quantile sketches (each column's offset by its position): same data and seed,
  // same profile.
  uint64_t sketch_seed = 0;
};

// The profile, features in the table's order (float vectors pooled over their elements). Up to
// 1,000 categories of a feature are listed by name; the label's and predicted classes' up to
// 1,000 too.
v1::ReferenceProfile BuildReferenceProfile(const ProfileInput& input);

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_REFERENCE_PROFILE_H_
