#ifndef FABRIQUE_LIBS_TRAINING_TRAINING_SET_TABLE_H_
#define FABRIQUE_LIBS_TRAINING_TRAINING_SET_TABLE_H_

// Turns the feature store's point-in-time training set (BuildTrainingSet's header, then its row
// chunks) into the columns and labels a model trains on, as the chunks stream in, and splits it
// by time or at random. Numbers (float, double, int64, bool) become numeric inputs, strings
// categorical ones, float vectors `width` inputs; nulls become missing values. Labels: bool and
// int64 classes as given (0, 1, ...), string classes by sorted name, numbers as regression
// targets; rows without a label are dropped and counted. No LibTorch here.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fabrique/v1/features.pb.h"
#include "libs/training/tabular_data.h"

namespace fabrique::training {

class TrainingSetTable {
 public:
  // INVALID_ARGUMENT when a feature's type cannot be an input or the label's cannot serve the
  // task (strings for regression, say).
  static absl::StatusOr<TrainingSetTable> Start(const v1::TrainingSetHeader& header, v1::Task task);

  // Appends a chunk; INVALID_ARGUMENT when it does not match the header (a column missing, a
  // vector of another width, a negative class).
  absl::Status Add(const v1::TrainingSetRows& rows);

  const LabeledTable& table() const { return table_; }
  // Label event time of each row, microseconds since the epoch.
  const std::vector<int64_t>& event_times() const { return event_times_; }
  // String classes in index order; empty when labels were not strings.
  const std::vector<std::string>& class_names() const { return class_names_; }
  int64_t rows_without_label() const { return rows_without_label_; }

  // Splits the rows: by time (before `validation_start` trains), or at random with its seed and
  // fraction (default 0.2). With no method set: random, 0.2, seed 0. FAILED_PRECONDITION when
  // the training side would be empty.
  absl::Status Split(const v1::DataSplit& split, LabeledTable* train,
                     LabeledTable* validation) const;

 private:
  TrainingSetTable() = default;
  v1::Task task_ = v1::TASK_BINARY_CLASSIFICATION;
  std::vector<v1::FeatureType> types_;
  LabeledTable table_;
  std::vector<int64_t> event_times_;
  // String labels arrive before all classes are known: kept as text until the end (Finalize).
  std::vector<std::string> string_labels_;
  mutable std::vector<std::string> class_names_;
  int64_t rows_without_label_ = 0;
  bool string_classes_ = false;

  // Gives string labels their indices (sorted names); called by Split.
  void FinalizeLabels(LabeledTable* table) const;
};

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_TRAINING_SET_TABLE_H_
