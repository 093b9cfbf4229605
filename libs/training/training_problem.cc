#include "libs/training/training_problem.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/training/evaluation.h"

namespace fabrique::training {
namespace {

// Checks the class labels and counts the classes, or measures the regression target.
absl::Status ReadLabels(const LabeledTable& train, const LabeledTable& validation,
                        const TrainConfig& config, TrainingProblem& problem) {
  if (problem.task == v1::TASK_REGRESSION) {
    double sum = 0, sum_sq = 0;
    for (double y : train.labels) {
      sum += y;
      sum_sq += y * y;
    }
    const double n = static_cast<double>(train.labels.size());
    problem.target_mean = sum / n;
    const double variance = std::max(0.0, sum_sq / n - problem.target_mean * problem.target_mean);
    problem.target_stddev = variance > 1e-12 ? std::sqrt(variance) : 1.0;
    return absl::OkStatus();
  }
  int64_t largest = 0;
  for (const auto* split : {&train, &validation}) {
    for (double label : split->labels) {
      if (label < 0 || label != std::floor(label)) {
        return absl::InvalidArgumentError(
            absl::StrCat("class label ", label, " is not a class index (0, 1, ...)"));
      }
      largest = std::max<int64_t>(largest, static_cast<int64_t>(label));
    }
  }
  problem.classes = problem.task == v1::TASK_BINARY_CLASSIFICATION
                        ? 2
                        : std::max<int>(config.num_classes, static_cast<int>(largest) + 1);
  if (largest >= problem.classes) {
    return absl::InvalidArgumentError(
        absl::StrCat("label ", largest, " is past the ", problem.classes, " classes of the task"));
  }
  problem.counts.assign(problem.classes, 0);
  for (double label : train.labels) ++problem.counts[static_cast<int64_t>(label)];
  return absl::OkStatus();
}

// Per-class loss weights: given, or inverse frequency when balancing, else none.
absl::StatusOr<std::vector<double>> ClassWeights(const TrainConfig& config,
                                                 const TrainingProblem& problem) {
  if (problem.task == v1::TASK_REGRESSION && !config.class_weights.empty()) {
    return absl::InvalidArgumentError(
        "class_weights apply to classification tasks, not regression");
  }
  std::vector<double> weights = config.class_weights;
  if (weights.empty() && config.balance_classes) {
    const std::vector<int64_t>& counts = problem.counts;
    weights.assign(counts.size(), 1.0);
    int64_t total = 0;
    for (int64_t c : counts) total += c;
    for (size_t c = 0; c < counts.size(); ++c) {
      weights[c] = counts[c] > 0 ? static_cast<double>(total) / (counts.size() * counts[c]) : 1.0;
    }
  }
  if (!weights.empty() && static_cast<int>(weights.size()) != problem.classes) {
    return absl::InvalidArgumentError(
        absl::StrCat(weights.size(), " class weights for ", problem.classes, " classes"));
  }
  return weights;
}

}  // namespace

absl::StatusOr<TrainingProblem> PrepareProblem(const LabeledTable& train,
                                               const LabeledTable& validation,
                                               const TrainConfig& config) {
  TrainingProblem problem;
  problem.task = config.task;
  problem.preprocessing = FitPreprocessing(train.features);
  RETURN_IF_ERROR(ReadLabels(train, validation, config, problem));
  problem.outputs = problem.task == v1::TASK_MULTICLASS_CLASSIFICATION ? problem.classes : 1;
  EncodedData& data = problem.data;
  data.n_train = train.features.rows;
  data.n_valid = validation.features.rows;
  data.width = problem.preprocessing.EncodedWidth();
  data.x_train = Encode(problem.preprocessing, train.features);
  data.x_valid = Encode(problem.preprocessing, validation.features);
  const auto targets = [&](const std::vector<double>& labels) {
    std::vector<float> y(labels.begin(), labels.end());
    if (problem.task == v1::TASK_REGRESSION) {
      for (float& v : y) v = static_cast<float>((v - problem.target_mean) / problem.target_stddev);
    }
    return y;
  };
  data.y_train = targets(train.labels);
  data.y_valid = targets(validation.labels);
  ASSIGN_OR_RETURN(problem.class_weights, ClassWeights(config, problem));
  return problem;
}

// Raw outputs in the exported module's terms: P(class 1), class probabilities, or targets.
std::vector<double> ToPredictions(const std::vector<float>& outputs,
                                  const TrainingProblem& problem) {
  std::vector<double> predictions(outputs.begin(), outputs.end());
  const int width = problem.outputs;
  if (problem.task == v1::TASK_REGRESSION) {
    for (double& p : predictions) p = p * problem.target_stddev + problem.target_mean;
  } else if (problem.task == v1::TASK_BINARY_CLASSIFICATION) {
    for (double& p : predictions) p = 1 / (1 + std::exp(-p));
  } else {
    for (size_t row = 0; row + width <= predictions.size(); row += width) {
      double* z = predictions.data() + row;
      const double top = *std::max_element(z, z + width);
      double total = 0;
      for (int c = 0; c < width; ++c) total += (z[c] = std::exp(z[c] - top));
      for (int c = 0; c < width; ++c) z[c] /= total;
    }
  }
  return predictions;
}

std::vector<v1::Metric> ValidationMetrics(const std::vector<double>& predictions,
                                          const LabeledTable& validation,
                                          const TrainingProblem& problem) {
  if (problem.task == v1::TASK_REGRESSION) {
    return RegressionMetrics(predictions, validation.labels, problem.target_mean, "validation");
  }
  const double n_train = static_cast<double>(problem.data.n_train);
  std::vector<int64_t> labels(validation.labels.begin(), validation.labels.end());
  if (problem.task == v1::TASK_MULTICLASS_CLASSIFICATION) {
    std::vector<double> prior(problem.classes);
    for (int c = 0; c < problem.classes; ++c) prior[c] = problem.counts[c] / n_train;
    return MulticlassMetrics(predictions, problem.classes, labels, prior, "validation");
  }
  return BinaryMetrics(predictions, labels, problem.counts[1] / n_train, "validation");
}

}  // namespace fabrique::training
