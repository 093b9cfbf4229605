#ifndef FABRIQUE_LIBS_TRAINING_EVALUATION_H_
#define FABRIQUE_LIBS_TRAINING_EVALUATION_H_

// Evaluation metrics of a trained model on a split, each beside the same metric for a trivial
// baseline (the majority class, or the training mean), as the registry stores them
// (v1::Metric). No LibTorch here: predictions arrive as plain vectors.
//
//   binary       auc, log_loss, accuracy, precision, recall, ece (expected calibration error,
//                10 equal-width bins); predictions are P(class 1).
//   multi-class  accuracy, macro_f1, log_loss; predictions are per-class probabilities, row-major.
//   regression   rmse, mae, r2.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "fabrique/v1/common.pb.h"

namespace fabrique::training {

// Area under the ROC curve (ties counted half); 0.5 when one class is absent.
double AucRoc(absl::Span<const double> p_positive, absl::Span<const int64_t> labels);
// Expected calibration error over `bins` equal-width bins of P(class 1).
double ExpectedCalibrationError(absl::Span<const double> p_positive,
                                absl::Span<const int64_t> labels, int bins = 10);

// Binary metrics of `p_positive` against `labels` (0 or 1); the baseline predicts the training
// positive rate `train_positive_rate` for every row (and its majority class).
std::vector<v1::Metric> BinaryMetrics(absl::Span<const double> p_positive,
                                      absl::Span<const int64_t> labels, double train_positive_rate,
                                      const std::string& split);

// Multi-class metrics of `probabilities` (labels.size() rows of `classes` values) against
// `labels` in [0, classes); the baseline predicts the training class frequencies `train_prior`.
std::vector<v1::Metric> MulticlassMetrics(absl::Span<const double> probabilities, int classes,
                                          absl::Span<const int64_t> labels,
                                          absl::Span<const double> train_prior,
                                          const std::string& split);

// Regression metrics of `predictions` against `targets`; the baseline predicts `train_mean`.
std::vector<v1::Metric> RegressionMetrics(absl::Span<const double> predictions,
                                          absl::Span<const double> targets, double train_mean,
                                          const std::string& split);

// The metric a task optimises by default (early stopping, search): auc, accuracy or rmse.
std::string PrimaryMetric(v1::Task task);
// The metric named `name` in `metrics`, or nullptr.
const v1::Metric* FindMetric(const std::vector<v1::Metric>& metrics, const std::string& name);

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_EVALUATION_H_
