#ifndef FABRIQUE_LIBS_TRAINING_TABULAR_DATA_H_
#define FABRIQUE_LIBS_TRAINING_TABULAR_DATA_H_

// The raw rows a model trains on, column by column as the feature store's training set gives
// them, and the preprocessing learned from the training split: the training mean and standard
// deviation of each numeric input (missing values imputed with the mean, plus a missing
// indicator for inputs that had any), and a vocabulary per categorical feature with an unknown
// bucket. No LibTorch here; the same numbers are baked into the exported TorchScript module
// (torchscript_export.h), so training and serving cannot skew.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace fabrique::training {

// One feature: numeric (`width` values a row: 1 for a scalar, L for a float vector, row-major,
// NaN = missing) or categorical (one string a row; `missing[i]` marks a null).
struct RawColumn {
  std::string name;
  bool categorical = false;
  int width = 1;
  std::vector<float> numeric;
  std::vector<std::string> strings;
  std::vector<uint8_t> missing;  // Categorical only; empty = none missing.
};

struct RawTable {
  std::vector<RawColumn> columns;
  int64_t rows = 0;

  // INVALID_ARGUMENT unless every column holds `rows` rows.
  absl::Status Validate() const;
  // The rows `indices`, in that order.
  RawTable Take(const std::vector<int64_t>& indices) const;
};

// Rows with their labels: class indices (0/1, or 0..C-1) for classification, targets for
// regression.
struct LabeledTable {
  RawTable features;
  std::vector<double> labels;
};

// What preprocessing learned from the training split.
struct Preprocessing {
  struct Numeric {
    std::string name;
    int width = 1;
    std::vector<float> mean;         // Per element; 0 when every value was missing.
    std::vector<float> stddev;       // Per element; 1 when the element is constant.
    bool missing_indicator = false;  // The training split had missing values here.
  };
  struct Categorical {
    std::string name;
    // Value -> index 1..n; 0 is the unknown bucket (unseen values and nulls).
    std::vector<std::string> vocabulary;
  };
  std::vector<Numeric> numeric;
  std::vector<Categorical> categorical;

  // Width of the encoded input row the network sees.
  int EncodedWidth() const;
  // The numeric inputs' total width: the first argument of the exported module is rows of it.
  int NumericWidth() const;
};

// Learns the preprocessing of `train`. Categorical vocabularies keep the `max_vocabulary` most
// frequent values (ties by value), the rest falling in the unknown bucket.
Preprocessing FitPreprocessing(const RawTable& train, int max_vocabulary = 1000);

// Encodes `table` (whose columns match the preprocessing's, in order) into rows of
// EncodedWidth() floats, row-major: standardised numeric values, then missing indicators, then
// one-hot categories (unknown first). The TorchScript module computes the same.
std::vector<float> Encode(const Preprocessing& preprocessing, const RawTable& table);

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_TABULAR_DATA_H_
