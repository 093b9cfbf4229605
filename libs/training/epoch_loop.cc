#include "libs/training/epoch_loop.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/training/checkpoint_bytes.h"
#include "libs/training/evaluation.h"
#include "libs/training/torch_compat.h"

namespace fabrique::training {

EpochLoop::EpochLoop(const TrainingProblem& problem, const LabeledTable& validation,
                     const TrainConfig& config, TrainingEngine& engine, const ProgressFn& progress,
                     const std::atomic<bool>* cancel, const Checkpointing* checkpoints)
    : problem_(problem),
      validation_(validation),
      config_(config),
      engine_(engine),
      progress_(progress),
      cancel_(cancel),
      checkpoints_(checkpoints),
      watch_(config.clock),
      batches_((problem.data.n_train + config.batch_size - 1) / config.batch_size) {
  report_.epochs_total = config.epochs;
  report_.batches_per_epoch = batches_;
}

absl::Status EpochLoop::Run(TrainResult& result) {
  int done = 0;
  if (checkpoints_ != nullptr && !checkpoints_->resume.empty()) {
    ASSIGN_OR_RETURN(done, Restore(checkpoints_->resume, result));
  }
  // A checkpoint taken as early stopping ended the training resumes into no further epoch.
  bool stop = config_.early_stopping_patience > 0 && since_best_ >= config_.early_stopping_patience;
  for (int epoch = done + 1; epoch <= config_.epochs && !stop; ++epoch) {
    ASSIGN_OR_RETURN(const double loss_sum, TrainEpoch(epoch));
    result.epochs_completed = epoch;
    stop = EndEpoch(epoch, loss_sum, result);
    if (checkpoints_ != nullptr && checkpoints_->save) {
      RETURN_IF_ERROR(checkpoints_->save(epoch, Save(epoch, result)));
    }
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

namespace {

constexpr char kCheckpointMagic[] = "fabrique-epoch-checkpoint-1";

void PutLayers(CheckpointWriter& out, const std::vector<DenseLayer>& layers) {
  out.Put<uint64_t>(layers.size());
  for (const DenseLayer& layer : layers) {
    out.Put<int32_t>(layer.inputs);
    out.Put<int32_t>(layer.outputs);
    out.PutArray(layer.weight);
    out.PutArray(layer.bias);
  }
}

bool GetLayers(CheckpointReader& in, std::vector<DenseLayer>* layers) {
  uint64_t n = 0;
  if (!in.Get(&n) || n > 4096) return false;
  layers->resize(n);
  for (DenseLayer& layer : *layers) {
    if (!in.Get(&layer.inputs) || !in.Get(&layer.outputs) || !in.GetArray(&layer.weight) ||
        !in.GetArray(&layer.bias)) {
      return false;
    }
  }
  return true;
}

void PutMetric(CheckpointWriter& out, const v1::Metric& metric) {
  out.PutString(metric.SerializeAsString());
}

bool GetMetric(CheckpointReader& in, v1::Metric* metric) {
  std::string bytes;
  return in.GetString(&bytes) && metric->ParseFromString(bytes);
}

// The CPU generator that shuffles each epoch's rows (torch::randperm), as bytes.
std::string GeneratorState() {
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  const torch::Tensor state = generator.get_state().contiguous();
  return std::string(reinterpret_cast<const char*>(state.data_ptr<uint8_t>()),
                     static_cast<size_t>(state.numel()));
}

void SetGeneratorState(const std::string& bytes) {
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  torch::Tensor state = torch::empty({static_cast<int64_t>(bytes.size())}, torch::kUInt8);
  std::memcpy(state.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

}  // namespace

std::string EpochLoop::Save(int epoch, const TrainResult& result) {
  CheckpointWriter out;
  out.PutString(kCheckpointMagic);
  out.Put<int32_t>(epoch);
  out.PutString(engine_.SaveState());
  out.PutString(GeneratorState());
  out.Put<double>(best_objective_);
  out.Put<int32_t>(since_best_);
  out.Put<double>(train_seconds_);
  out.Put<int32_t>(result.best_epoch);
  out.Put<uint64_t>(result.validation_metrics.size());
  for (const v1::Metric& metric : result.validation_metrics) PutMetric(out, metric);
  out.PutArray(result.validation_predictions);
  PutLayers(out, best_);
  out.Put<double>(report_.validation_loss);
  PutMetric(out, report_.validation_metric);
  return out.Take();
}

absl::StatusOr<int> EpochLoop::Restore(const std::string& checkpoint, TrainResult& result) {
  CheckpointReader in(checkpoint);
  std::string magic, engine_state, generator_state;
  int32_t epoch = 0, since_best = 0, best_epoch = 0;
  double best_objective = 0, train_seconds = 0, validation_loss = 0;
  uint64_t metrics = 0;
  bool ok = in.GetString(&magic) && magic == kCheckpointMagic && in.Get(&epoch) &&
            in.GetString(&engine_state) && in.GetString(&generator_state) &&
            in.Get(&best_objective) && in.Get(&since_best) && in.Get(&train_seconds) &&
            in.Get(&best_epoch) && in.Get(&metrics) && metrics < 4096;
  std::vector<v1::Metric> validation_metrics(ok ? metrics : 0);
  for (v1::Metric& metric : validation_metrics) ok = ok && GetMetric(in, &metric);
  std::vector<double> predictions;
  std::vector<DenseLayer> best;
  v1::Metric validation_metric;
  ok = ok && in.GetArray(&predictions) && GetLayers(in, &best) && in.Get(&validation_loss) &&
       GetMetric(in, &validation_metric) && in.done();
  if (!ok || epoch < 1) {
    return absl::InvalidArgumentError(
        "the checkpoint to resume from is not an epoch checkpoint of this trainer: train from "
        "the start");
  }
  RETURN_IF_ERROR(engine_.LoadState(engine_state));
  SetGeneratorState(generator_state);
  best_objective_ = best_objective;
  since_best_ = since_best;
  train_seconds_ = train_seconds;
  best_ = std::move(best);
  report_.validation_loss = validation_loss;
  report_.validation_metric = validation_metric;
  result.best_epoch = best_epoch;
  result.epochs_completed = epoch;
  result.validation_metrics = std::move(validation_metrics);
  result.validation_predictions = std::move(predictions);
  return epoch;
}

}  // namespace fabrique::training
