#ifndef FABRIQUE_LIBS_TRAINING_TRAINING_PROBLEM_H_
#define FABRIQUE_LIBS_TRAINING_TRAINING_PROBLEM_H_

// A training problem as the engines see it, prepared from the two splits before the first step:
// what the labels say (the classes and their counts, or the target's mean and spread), the
// preprocessing fitted on the training split, the encoded rows and the loss's class weights;
// and how the engines' raw outputs read back as predictions and validation metrics.

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "fabrique/v1/common.pb.h"
#include "libs/training/tabular_data.h"
#include "libs/training/tabular_trainer.h"
#include "libs/training/training_engine.h"

namespace fabrique::training {

struct TrainingProblem {
  v1::Task task = v1::TASK_BINARY_CLASSIFICATION;
  int classes = 1;                            // 2 for binary; 1 for regression.
  int outputs = 1;                            // The network's: the classes of a multi-class task.
  std::vector<int64_t> counts;                // Training rows per class.
  double target_mean = 0, target_stddev = 1;  // Regression's standardisation of the target.
  Preprocessing preprocessing;
  EncodedData data;
  std::vector<double> class_weights;  // Empty = every row weighs 1.
};

// INVALID_ARGUMENT for a class label that is not a class index or past the task's classes,
// class weights on a regression, or class weights not one per class. The tables are valid.
absl::StatusOr<TrainingProblem> PrepareProblem(const LabeledTable& train,
                                               const LabeledTable& validation,
                                               const TrainConfig& config);

// Raw outputs in the exported module's terms: P(class 1), class probabilities, or targets.
std::vector<double> ToPredictions(const std::vector<float>& outputs,
                                  const TrainingProblem& problem);

// The task's validation metrics of `predictions`, each beside its baseline.
std::vector<v1::Metric> ValidationMetrics(const std::vector<double>& predictions,
                                          const LabeledTable& validation,
                                          const TrainingProblem& problem);

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_TRAINING_PROBLEM_H_
