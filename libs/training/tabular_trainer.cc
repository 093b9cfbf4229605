#include "libs/training/tabular_trainer.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/cpus.h"
#include "libs/core/status_macros.h"
#include "libs/training/cpu_mlp.h"
#include "libs/training/cpu_mlp_engine.h"
#include "libs/training/evaluation.h"
#include "libs/training/torch_compat.h"
#include "libs/training/torch_engine.h"
#include "libs/training/torchscript_export.h"
#include "libs/training/training_engine.h"

namespace fabrique::training {
namespace {

absl::StatusOr<torch::Device> ChooseDevice(v1::Device device) {
  const bool cuda = compat::CudaAvailable();
  if (device == v1::DEVICE_CUDA && !cuda) {
    return absl::FailedPreconditionError(
        "device cuda was asked for, but no CUDA device is available here: use auto or cpu");
  }
  if (cuda && device != v1::DEVICE_CPU) return torch::Device(torch::kCUDA, 0);
  return torch::Device(torch::kCPU);
}

absl::Status CheckConfig(const TrainConfig& config) {
  if (config.batch_size < 1) return absl::InvalidArgumentError("batch_size must be at least 1");
  if (config.epochs < 1) return absl::InvalidArgumentError("epochs must be at least 1");
  if (config.family.has_mlp()) {
    for (int hidden : config.family.mlp().hidden_sizes()) {
      if (hidden < 1) return absl::InvalidArgumentError("every hidden size must be at least 1");
    }
    const double dropout = config.family.mlp().dropout();
    if (dropout < 0 || dropout >= 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("dropout is ", dropout, ": it must be in [0, 1)"));
    }
  }
  if (config.optimizer.learning_rate() < 0) {
    return absl::InvalidArgumentError("learning_rate must be positive (0 = 1e-3)");
  }
  return absl::OkStatus();
}

absl::Status CheckTables(const LabeledTable& train, const LabeledTable& validation) {
  RETURN_IF_ERROR(train.features.Validate());
  RETURN_IF_ERROR(validation.features.Validate());
  if (train.features.rows == 0) {
    return absl::FailedPreconditionError("the training split is empty: nothing to train on");
  }
  if (static_cast<int64_t>(train.labels.size()) != train.features.rows ||
      static_cast<int64_t>(validation.labels.size()) != validation.features.rows) {
    return absl::InvalidArgumentError("there must be one label per row");
  }
  return absl::OkStatus();
}

double LearningRate(const TrainConfig& config) {
  return config.optimizer.learning_rate() > 0 ? config.optimizer.learning_rate() : 1e-3;
}

// The problem as the engines see it: what the labels say, the preprocessing fitted on the
// training split, the encoded rows and the loss's class weights.
struct Problem {
  v1::Task task = v1::TASK_BINARY_CLASSIFICATION;
  int classes = 1;                            // 2 for binary; 1 for regression.
  int outputs = 1;                            // The network's: the classes of a multi-class task.
  std::vector<int64_t> counts;                // Training rows per class.
  double target_mean = 0, target_stddev = 1;  // Regression's standardisation of the target.
  Preprocessing preprocessing;
  EncodedData data;
  std::vector<double> class_weights;  // Empty = every row weighs 1.
};

// Checks the class labels and counts the classes, or measures the regression target.
absl::Status ReadLabels(const LabeledTable& train, const LabeledTable& validation,
                        const TrainConfig& config, Problem& problem) {
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
                                                 const Problem& problem) {
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

absl::StatusOr<Problem> Prepare(const LabeledTable& train, const LabeledTable& validation,
                                const TrainConfig& config) {
  Problem problem;
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
std::vector<double> ToPredictions(const std::vector<float>& outputs, const Problem& problem) {
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

// The time the steps take, paused while the progress callback runs.
class Stopwatch {
 public:
  explicit Stopwatch(core::Clock* clock) : clock_(clock) {}
  void Start() { started_ = clock_->Now(); }
  void Stop() { elapsed_ += clock_->Now() - started_; }
  void Reset() { elapsed_ = absl::ZeroDuration(); }
  double seconds() const { return absl::ToDoubleSeconds(elapsed_); }

 private:
  core::Clock* const clock_;
  absl::Time started_;
  absl::Duration elapsed_;
};

// The epochs: mini-batches in a fresh order each epoch, the validation split scored after each,
// the best epoch's weights kept, early stopping after `patience` epochs without a better one.
class EpochLoop {
 public:
  EpochLoop(const Problem& problem, const LabeledTable& validation, const TrainConfig& config,
            TrainingEngine& engine, const ProgressFn& progress, const std::atomic<bool>* cancel)
      : problem_(problem),
        validation_(validation),
        config_(config),
        engine_(engine),
        progress_(progress),
        cancel_(cancel),
        watch_(config.clock != nullptr ? config.clock : core::Clock::Real()),
        batches_((problem.data.n_train + config.batch_size - 1) / config.batch_size) {
    report_.epochs_total = config.epochs;
    report_.batches_per_epoch = batches_;
  }

  // Trains; fills `result`'s epochs, best epoch and its metrics, predictions and objective, and
  // the timing. The best epoch's layers are then best().
  absl::Status Run(TrainResult& result) {
    for (int epoch = 1; epoch <= config_.epochs; ++epoch) {
      ASSIGN_OR_RETURN(const double loss_sum, TrainEpoch(epoch));
      result.epochs_completed = epoch;
      if (EndEpoch(epoch, loss_sum, result)) break;
    }
    result.objective_value = best_objective_;
    result.train_seconds = train_seconds_;
    result.samples_per_second =
        train_seconds_ > 0
            ? problem_.data.n_train * static_cast<double>(result.epochs_completed) / train_seconds_
            : 0;
    return absl::OkStatus();
  }

  std::vector<DenseLayer>& best() { return best_; }

 private:
  // One epoch's batches; returns the sum of their losses.
  absl::StatusOr<double> TrainEpoch(int epoch) {
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

  // Samples per second of the epoch's steps so far, `samples` rows in.
  double Rate(int64_t samples) const {
    return watch_.seconds() > 0 ? static_cast<double>(samples) / watch_.seconds() : 0;
  }

  // Scores the validation split, keeps the epoch if it is the best so far, and reports the
  // epoch's end; returns whether to stop early.
  bool EndEpoch(int epoch, double loss_sum, TrainResult& result) {
    std::vector<double> predictions;
    double validation_loss = 0;
    std::vector<v1::Metric> metrics;
    if (problem_.data.n_valid > 0) {
      validation_loss = engine_.ValidationLoss();
      predictions = ToPredictions(engine_.ValidationOutputs(), problem_);
      metrics = Metrics(predictions);
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

  std::vector<v1::Metric> Metrics(const std::vector<double>& predictions) const {
    if (problem_.task == v1::TASK_REGRESSION) {
      return RegressionMetrics(predictions, validation_.labels, problem_.target_mean, "validation");
    }
    const double n_train = static_cast<double>(problem_.data.n_train);
    std::vector<int64_t> labels(validation_.labels.begin(), validation_.labels.end());
    if (problem_.task == v1::TASK_MULTICLASS_CLASSIFICATION) {
      std::vector<double> prior(problem_.classes);
      for (int c = 0; c < problem_.classes; ++c) prior[c] = problem_.counts[c] / n_train;
      return MulticlassMetrics(predictions, problem_.classes, labels, prior, "validation");
    }
    return BinaryMetrics(predictions, labels, problem_.counts[1] / n_train, "validation");
  }

  const Problem& problem_;
  const LabeledTable& validation_;
  const TrainConfig& config_;
  TrainingEngine& engine_;
  const ProgressFn& progress_;
  const std::atomic<bool>* const cancel_;
  Stopwatch watch_;  // The epoch in progress.
  const int64_t batches_;
  TrainProgress report_;  // Keeps the last epoch's validation figures between epochs.
  double train_seconds_ = 0;
  double best_objective_ = 0;
  int since_best_ = 0;
  std::vector<DenseLayer> best_;
};

// The engine for `config`: the CPU engine on the CPU when this build has it and it is not
// declined, LibTorch's autograd otherwise. Both start from `network`'s weights.
absl::StatusOr<std::unique_ptr<TrainingEngine>> MakeEngine(const EngineSetup& setup,
                                                           std::shared_ptr<Network> network,
                                                           torch::Device device) {
  if (device.is_cpu() && CpuMlp::Available() &&
      setup.config->engine == TrainConfig::Engine::kAuto) {
    return MakeCpuMlpEngine(setup, LayersOf(*network), network->activation, network->dropout);
  }
  return MakeTorchEngine(setup, std::move(network), device);
}

// The TorchScript module of `layers` with the preprocessing and output activation inside.
absl::StatusOr<std::string> Export(const Problem& problem, v1::Activation activation,
                                   std::vector<DenseLayer>& layers) {
  ExportedNetwork exported;
  exported.preprocessing = problem.preprocessing;
  exported.task = problem.task;
  exported.activation = activation;
  exported.target_mean = problem.target_mean;
  exported.target_stddev = problem.target_stddev;
  for (DenseLayer& layer : layers) {
    exported.weights.push_back(
        torch::from_blob(layer.weight.data(), {layer.outputs, layer.inputs}).clone());
    exported.biases.push_back(torch::from_blob(layer.bias.data(), {layer.outputs}).clone());
  }
  try {
    torch::jit::Module module = BuildTorchScript(exported);
    std::ostringstream bytes;
    module.save(bytes);
    return bytes.str();
  } catch (const std::exception& error) {  // c10::Error, or the script compiler's ErrorReport.
    return absl::InternalError(absl::StrCat("exporting the TorchScript module: ", error.what()));
  }
}

}  // namespace

bool CudaAvailable() { return compat::CudaAvailable(); }

absl::StatusOr<TrainResult> TrainTabular(const LabeledTable& train, const LabeledTable& validation,
                                         const TrainConfig& config, const ProgressFn& progress,
                                         const std::atomic<bool>* cancel) {
  RETURN_IF_ERROR(CheckConfig(config));
  RETURN_IF_ERROR(CheckTables(train, validation));
  ASSIGN_OR_RETURN(const torch::Device device, ChooseDevice(config.device));
  // Set every time, the default included: the setting outlives the run on the trainer's worker.
  // The default is what the process may use (a pod's CPU limit), not the node's cores.
  const int threads = config.threads > 0 ? config.threads : core::UsableCpus();
  torch::set_num_threads(threads);
  torch::manual_seed(config.seed);
  if (device.is_cuda()) torch::cuda::manual_seed_all(config.seed);

  ASSIGN_OR_RETURN(Problem problem, Prepare(train, validation, config));
  TrainResult result;
  result.device = compat::DeviceName(device);
  result.preprocessing = problem.preprocessing;
  result.num_classes = problem.task == v1::TASK_REGRESSION ? 0 : problem.classes;

  // The initial weights come from the seed, for either engine.
  auto network = std::make_shared<Network>(problem.data.width, config.family, problem.outputs);
  const EngineSetup setup{&problem.data, &config, problem.outputs, problem.class_weights, threads};
  ASSIGN_OR_RETURN(std::unique_ptr<TrainingEngine> engine, MakeEngine(setup, network, device));
  result.engine = engine->name();

  EpochLoop loop(problem, validation, config, *engine, progress, cancel);
  RETURN_IF_ERROR(loop.Run(result));
  ASSIGN_OR_RETURN(result.torchscript, Export(problem, network->activation, loop.best()));
  return result;
}

}  // namespace fabrique::training
