#include "libs/training/epoch_loop.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/training/evaluation.h"
#include "libs/training/torch_compat.h"

namespace fabrique::training {

EpochLoop::EpochLoop(const TrainingProblem& problem, const LabeledTable& validation,
                     const TrainConfig& config, TrainingEngine& engine, const ProgressFn& progress,
                     const std::atomic<bool>* cancel)
    : problem_(problem),
      validation_(validation),
      config_(config),
      engine_(engine),
      progress_(progress),
      cancel_(cancel),
      watch_(config.clock),
      batches_((problem.data.n_train + config.batch_size - 1) / config.batch_size) {
  report_.epochs_total = config.epochs;
  report_.batches_per_epoch = batches_;
}

absl::Status EpochLoop::Run(TrainResult& result) {
  for (int epoch = 1; epoch <= config_.epochs; ++epoch) {
    ASSIGN_OR_RETURN(const double loss_sum, TrainEpoch(epoch));
    result.epochs_completed = epoch;
    if (EndEpoch(epoch, loss_sum, result)) break;
  }
  result.objective_value = best_objective_;
  result.train_seconds = train_seconds_;
  const double samples = static_cast<double>(problem_.data.n_train) * result.epochs_completed;
  result.samples_per_second = train_seconds_ > 0 ? samples / train_seconds_ : 0;
  return absl::OkStatus();
}

absl::StatusOr<double> EpochLoop::TrainEpoch(int epoch) {
  const int64_t n_train = problem_.data.n_train, batch = config_.batch_size;
  watch_.Reset();
  watch_.Start();
  const torch::Tensor order = torch::randperm(n_train, torch::kInt64);
  engine_.BeginEpoch(order.data_ptr<int64_t>());
  double loss_sum = 0;
  for (int64_t b = 0; b < batches_; ++b) {
    if (cancel_ != nullptr && cancel_->load()) {
      return absl::CancelledError(absl::StrCat("cancelled at epoch ", epoch, ", batch ", b + 1));
    }
    const int64_t begin = b * batch, end = std::min(n_train, (b + 1) * batch);
    const double value = engine_.Step(begin, end);
    if (!std::isfinite(value)) {
      return absl::FailedPreconditionError(
          absl::StrCat("diverged at epoch ", epoch, ": the training loss is ", value,
                       "; lower the learning rate (now ", LearningRate(config_),
                       ") or check the label and feature scales"));
    }
    loss_sum += value;
    if (progress_) {
      watch_.Stop();  // The callback's time (a progress write, say) is not training.
      report_.epoch = epoch;
      report_.batch = b + 1;
      report_.train_loss = loss_sum / static_cast<double>(b + 1);
      report_.samples_per_second = Rate(end);
      report_.epoch_end = false;
      progress_(report_);
      watch_.Start();
    }
  }
  watch_.Stop();
  train_seconds_ += watch_.seconds();
  return loss_sum;
}

double EpochLoop::Rate(int64_t samples) const {
  return watch_.seconds() > 0 ? static_cast<double>(samples) / watch_.seconds() : 0;
}

bool EpochLoop::EndEpoch(int epoch, double loss_sum, TrainResult& result) {
  std::vector<double> predictions;
  double validation_loss = 0;
  std::vector<v1::Metric> metrics;
  if (problem_.data.n_valid > 0) {
    validation_loss = engine_.ValidationLoss();
    predictions = ToPredictions(engine_.ValidationOutputs(), problem_);
    metrics = ValidationMetrics(predictions, validation_, problem_);
  }
  const v1::Metric* chosen = FindMetric(metrics, PrimaryMetric(problem_.task));
  // Without a validation split, the last epoch is kept.
  const double value = chosen != nullptr ? chosen->value() : -loss_sum;
  const bool higher_is_better = problem_.task != v1::TASK_REGRESSION || chosen == nullptr;
  const bool better =
      epoch == 1 || (higher_is_better ? value > best_objective_ : value < best_objective_);
  if (better) {
    best_objective_ = value;
    result.best_epoch = epoch;
    result.validation_metrics = metrics;
    result.validation_predictions = std::move(predictions);
    best_ = engine_.Parameters();
    since_best_ = 0;
  } else {
    ++since_best_;
  }
  if (progress_) {
    report_.epoch = epoch;
    report_.batch = batches_;
    report_.train_loss = loss_sum / static_cast<double>(batches_);
    report_.validation_loss = validation_loss;
    if (chosen != nullptr) report_.validation_metric = *chosen;
    report_.samples_per_second = Rate(problem_.data.n_train);
    report_.epoch_end = true;
    progress_(report_);
  }
  return config_.early_stopping_patience > 0 && since_best_ >= config_.early_stopping_patience;
}

}  // namespace fabrique::training
