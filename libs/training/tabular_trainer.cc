#include "libs/training/tabular_trainer.h"

#include <chrono>
#include <cmath>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "libs/core/cpus.h"
#include "libs/training/cpu_mlp.h"
#include "libs/training/evaluation.h"
#include "libs/training/torch_compat.h"
#include "libs/training/torchscript_export.h"

namespace fabrique::training {
namespace {

using Clock = std::chrono::steady_clock;

// The network: linear layers with the activation and dropout between them.
struct Network : torch::nn::Module {
  Network(int input, const v1::ModelFamily& family, int outputs) {
    std::vector<int> sizes = {input};
    if (family.has_mlp()) {
      for (int hidden : family.mlp().hidden_sizes()) sizes.push_back(hidden);
      activation = family.mlp().activation();
      dropout = family.mlp().dropout();
    }
    sizes.push_back(outputs);
    for (size_t l = 0; l + 1 < sizes.size(); ++l) {
      layers.push_back(
          register_module(absl::StrCat("linear_", l), torch::nn::Linear(sizes[l], sizes[l + 1])));
    }
  }

  torch::Tensor Activate(const torch::Tensor& x) const {
    switch (activation) {
      case v1::ACTIVATION_TANH:
        return torch::tanh(x);
      case v1::ACTIVATION_GELU:
        return torch::gelu(x);
      case v1::ACTIVATION_SIGMOID:
        return torch::sigmoid(x);
      default:
        return torch::relu(x);
    }
  }

  // Logits (classification) or standardised predictions (regression).
  torch::Tensor forward(torch::Tensor x) {
    for (size_t l = 0; l < layers.size(); ++l) {
      x = layers[l]->forward(x);
      if (l + 1 < layers.size()) {
        x = Activate(x);
        if (dropout > 0) x = torch::dropout(x, dropout, is_training());
      }
    }
    return x;
  }

  std::vector<torch::nn::Linear> layers;
  v1::Activation activation = v1::ACTIVATION_RELU;
  double dropout = 0;
};

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

torch::Tensor ToTensor(const std::vector<float>& values, int64_t rows, int64_t width) {
  return torch::from_blob(const_cast<float*>(values.data()), {rows, width}, torch::kFloat32)
      .clone();
}

// Per-class loss weights: given, or inverse frequency when balancing, else none.
std::vector<double> ClassWeights(const TrainConfig& config, const std::vector<int64_t>& counts) {
  if (!config.class_weights.empty()) return config.class_weights;
  if (!config.balance_classes) return {};
  std::vector<double> weights(counts.size(), 1.0);
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  for (size_t c = 0; c < counts.size(); ++c) {
    weights[c] = counts[c] > 0 ? static_cast<double>(total) / (counts.size() * counts[c]) : 1.0;
  }
  return weights;
}

// The loss a task trains with, as LibTorch computes it.
torch::Tensor TorchLoss(v1::Task task, v1::LossFunction loss_kind, const torch::Tensor& out,
                        const torch::Tensor& y, const torch::Tensor& class_weights) {
  switch (task) {
    case v1::TASK_MULTICLASS_CLASSIFICATION:
      return torch::nn::functional::cross_entropy(
          out, y, torch::nn::functional::CrossEntropyFuncOptions().weight(class_weights));
    case v1::TASK_REGRESSION: {
      const torch::Tensor prediction = out.squeeze(1);
      if (loss_kind == v1::LOSS_FUNCTION_MAE) return torch::l1_loss(prediction, y);
      if (loss_kind == v1::LOSS_FUNCTION_HUBER) return compat::HuberLoss(prediction, y);
      return torch::mse_loss(prediction, y);
    }
    default: {
      const torch::Tensor logits = out.squeeze(1);
      if (!class_weights.defined()) return torch::binary_cross_entropy_with_logits(logits, y);
      // Each row weighs its class's weight.
      const torch::Tensor row_weights = class_weights.index_select(0, y.to(torch::kInt64));
      return torch::binary_cross_entropy_with_logits(logits, y, row_weights);
    }
  }
}

// The encoded rows of both splits and their targets (class index, 0/1, or the standardised
// value), as the engines take them.
struct EncodedData {
  int64_t n_train = 0, n_valid = 0;
  int width = 0;
  std::vector<float> x_train, x_valid, y_train, y_valid;
};

// What computes the steps. Both engines start from the same initial weights (the Network's, drawn
// from the seed) and visit the rows in the same order.
class Engine {
 public:
  virtual ~Engine() = default;
  // One optimisation step on rows [begin, end) of the epoch's order; the batch's loss.
  virtual double Step(const torch::Tensor& order, int64_t begin, int64_t end) = 0;
  // The validation split's raw outputs [n_valid x outputs] and loss, dropout off.
  virtual std::vector<float> ValidationOutputs() = 0;
  virtual double ValidationLoss() = 0;
  // Weight [out, in] then bias [out] of each layer, copied to the CPU.
  virtual std::vector<torch::Tensor> Parameters() = 0;
};

class TorchEngine : public Engine {
 public:
  TorchEngine(std::shared_ptr<Network> network, const EncodedData& data, const TrainConfig& config,
              torch::Device device, const std::vector<double>& class_weights)
      : network_(std::move(network)), device_(device), task_(config.task), loss_(config.loss) {
    // On the CPU the tensors alias `data`, which outlives the engine.
    const auto tensor = [&](const std::vector<float>& values, int64_t rows, int64_t width) {
      return torch::from_blob(const_cast<float*>(values.data()), {rows, width}, torch::kFloat32)
          .to(device);
    };
    x_train_ = tensor(data.x_train, data.n_train, data.width);
    x_valid_ = tensor(data.x_valid, data.n_valid, data.width);
    const bool multiclass = task_ == v1::TASK_MULTICLASS_CLASSIFICATION;
    y_train_ = tensor(data.y_train, data.n_train, 1).squeeze(1);
    y_valid_ = tensor(data.y_valid, data.n_valid, 1).squeeze(1);
    if (multiclass) {
      y_train_ = y_train_.to(torch::kInt64);
      y_valid_ = y_valid_.to(torch::kInt64);
    }
    if (!class_weights.empty()) {
      class_weights_ = torch::tensor(class_weights, torch::kFloat32).to(device);
    }
    network_->to(device);
    const double lr =
        config.optimizer.learning_rate() > 0 ? config.optimizer.learning_rate() : 1e-3;
    if (config.optimizer.kind() == v1::OPTIMIZER_KIND_SGD) {
      optimizer_ = std::make_unique<torch::optim::SGD>(
          network_->parameters(), torch::optim::SGDOptions(lr)
                                      .momentum(config.optimizer.momentum())
                                      .weight_decay(config.optimizer.weight_decay()));
    } else {
      optimizer_ = std::make_unique<torch::optim::Adam>(
          network_->parameters(),
          torch::optim::AdamOptions(lr).weight_decay(config.optimizer.weight_decay()));
    }
  }

  double Step(const torch::Tensor& order, int64_t begin, int64_t end) override {
    if (!order.is_same(order_cpu_)) {
      order_cpu_ = order;
      order_ = order.to(device_);
    }
    network_->train();
    const torch::Tensor rows = order_.slice(0, begin, end);
    compat::ZeroGrad(*optimizer_);
    torch::Tensor loss = TorchLoss(task_, loss_, network_->forward(x_train_.index_select(0, rows)),
                                   y_train_.index_select(0, rows), class_weights_);
    loss.backward();
    optimizer_->step();
    return loss.item<double>();
  }

  std::vector<float> ValidationOutputs() override {
    torch::NoGradGuard no_grad;
    network_->eval();
    const torch::Tensor out = network_->forward(x_valid_).to(torch::kCPU).contiguous();
    return std::vector<float>(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
  }

  double ValidationLoss() override {
    torch::NoGradGuard no_grad;
    network_->eval();
    return TorchLoss(task_, loss_, network_->forward(x_valid_), y_valid_, class_weights_)
        .item<double>();
  }

  std::vector<torch::Tensor> Parameters() override {
    std::vector<torch::Tensor> copies;
    for (const torch::Tensor& parameter : network_->parameters()) {
      copies.push_back(parameter.detach().to(torch::kCPU, /*non_blocking=*/false, /*copy=*/true));
    }
    return copies;
  }

 private:
  std::shared_ptr<Network> network_;
  torch::Device device_;
  v1::Task task_;
  v1::LossFunction loss_;
  torch::Tensor x_train_, x_valid_, y_train_, y_valid_, class_weights_;
  torch::Tensor order_cpu_, order_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
};

class CpuMlpEngine : public Engine {
 public:
  CpuMlpEngine(std::unique_ptr<CpuMlp> mlp, const EncodedData& data, int outputs)
      : mlp_(std::move(mlp)), data_(data), outputs_(outputs) {}

  double Step(const torch::Tensor& order, int64_t begin, int64_t end) override {
    return mlp_->Step(data_.x_train.data(), data_.y_train.data(), order.data_ptr<int64_t>() + begin,
                      end - begin);
  }

  std::vector<float> ValidationOutputs() override {
    std::vector<float> out(static_cast<size_t>(data_.n_valid) * outputs_);
    mlp_->Predict(data_.x_valid.data(), data_.n_valid, out.data());
    return out;
  }

  double ValidationLoss() override {
    return mlp_->Loss(data_.x_valid.data(), data_.y_valid.data(), data_.n_valid);
  }

  std::vector<torch::Tensor> Parameters() override {
    std::vector<torch::Tensor> copies;
    for (size_t l = 0; l < mlp_->weights().size(); ++l) {
      const std::vector<float>& w = mlp_->weights()[l];
      const std::vector<float>& b = mlp_->biases()[l];
      const int64_t out = static_cast<int64_t>(b.size());
      copies.push_back(torch::from_blob(const_cast<float*>(w.data()),
                                        {out, static_cast<int64_t>(w.size()) / out})
                           .clone());
      copies.push_back(torch::from_blob(const_cast<float*>(b.data()), {out}).clone());
    }
    return copies;
  }

 private:
  std::unique_ptr<CpuMlp> mlp_;
  const EncodedData& data_;
  int outputs_;
};

// The CPU engine for a config, its initial weights taken from `network`.
absl::StatusOr<std::unique_ptr<Engine>> MakeCpuMlpEngine(const Network& network,
                                                         const EncodedData& data,
                                                         const TrainConfig& config, int threads,
                                                         int outputs,
                                                         const std::vector<double>& class_weights) {
  CpuMlpOptions options;
  std::vector<std::vector<float>> weights, biases;
  options.sizes.push_back(data.width);
  for (const torch::nn::Linear& layer : network.layers) {
    const torch::Tensor w = layer->weight.detach().contiguous();
    const torch::Tensor b = layer->bias.detach().contiguous();
    weights.emplace_back(w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
    biases.emplace_back(b.data_ptr<float>(), b.data_ptr<float>() + b.numel());
    options.sizes.push_back(static_cast<int>(b.numel()));
  }
  switch (network.activation) {
    case v1::ACTIVATION_TANH:
      options.activation = MlpActivation::kTanh;
      break;
    case v1::ACTIVATION_GELU:
      options.activation = MlpActivation::kGelu;
      break;
    case v1::ACTIVATION_SIGMOID:
      options.activation = MlpActivation::kSigmoid;
      break;
    default:
      options.activation = MlpActivation::kRelu;
  }
  options.dropout = network.dropout;
  switch (config.task) {
    case v1::TASK_MULTICLASS_CLASSIFICATION:
      options.loss = MlpLoss::kSoftmaxCrossEntropy;
      break;
    case v1::TASK_REGRESSION:
      options.loss = config.loss == v1::LOSS_FUNCTION_MAE     ? MlpLoss::kAbsoluteError
                     : config.loss == v1::LOSS_FUNCTION_HUBER ? MlpLoss::kHuber
                                                              : MlpLoss::kSquaredError;
      break;
    default:
      options.loss = MlpLoss::kBinaryCrossEntropy;
  }
  options.class_weights.assign(class_weights.begin(), class_weights.end());
  options.adam = config.optimizer.kind() != v1::OPTIMIZER_KIND_SGD;
  options.learning_rate =
      config.optimizer.learning_rate() > 0 ? config.optimizer.learning_rate() : 1e-3;
  options.weight_decay = config.optimizer.weight_decay();
  options.momentum = config.optimizer.momentum();
  options.max_batch = std::min<int64_t>(config.batch_size, std::max<int64_t>(data.n_train, 1));
  options.threads = threads;
  options.seed = config.seed;
  absl::StatusOr<std::unique_ptr<CpuMlp>> mlp =
      CpuMlp::Create(std::move(options), std::move(weights), std::move(biases));
  if (!mlp.ok()) return mlp.status();
  return std::unique_ptr<Engine>(new CpuMlpEngine(std::move(*mlp), data, outputs));
}

// Raw outputs in the exported module's terms: P(class 1), class probabilities, or targets.
std::vector<double> ToPredictions(const std::vector<float>& outputs, v1::Task task, int width,
                                  double target_mean, double target_stddev) {
  std::vector<double> predictions(outputs.begin(), outputs.end());
  if (task == v1::TASK_REGRESSION) {
    for (double& p : predictions) p = p * target_stddev + target_mean;
  } else if (task == v1::TASK_BINARY_CLASSIFICATION) {
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

}  // namespace

bool CudaAvailable() { return compat::CudaAvailable(); }

absl::StatusOr<TrainResult> TrainTabular(const LabeledTable& train, const LabeledTable& validation,
                                         const TrainConfig& config, const ProgressFn& progress,
                                         const std::atomic<bool>* cancel) {
  if (absl::Status ok = CheckConfig(config); !ok.ok()) return ok;
  if (absl::Status ok = train.features.Validate(); !ok.ok()) return ok;
  if (absl::Status ok = validation.features.Validate(); !ok.ok()) return ok;
  if (train.features.rows == 0) {
    return absl::FailedPreconditionError("the training split is empty: nothing to train on");
  }
  if (static_cast<int64_t>(train.labels.size()) != train.features.rows ||
      static_cast<int64_t>(validation.labels.size()) != validation.features.rows) {
    return absl::InvalidArgumentError("there must be one label per row");
  }
  absl::StatusOr<torch::Device> device = ChooseDevice(config.device);
  if (!device.ok()) return device.status();
  // Set every time, the default included: the setting outlives the run on the trainer's worker.
  // The default is what the process may use (a pod's CPU limit), not the node's cores.
  const int threads = config.threads > 0 ? config.threads : core::UsableCpus();
  torch::set_num_threads(threads);
  torch::manual_seed(config.seed);
  if (device->is_cuda()) torch::cuda::manual_seed_all(config.seed);

  const v1::Task task = config.task;
  const bool classification = task != v1::TASK_REGRESSION;
  TrainResult result;
  result.device = compat::DeviceName(*device);
  result.preprocessing = FitPreprocessing(train.features);
  const int width = result.preprocessing.EncodedWidth();

  // Labels, checked, and the class counts (or the target's mean and spread).
  int classes = 1;
  std::vector<int64_t> counts;
  double target_mean = 0, target_stddev = 1;
  if (classification) {
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
    classes = task == v1::TASK_BINARY_CLASSIFICATION
                  ? 2
                  : std::max<int>(config.num_classes, static_cast<int>(largest) + 1);
    if (largest >= classes) {
      return absl::InvalidArgumentError(
          absl::StrCat("label ", largest, " is past the ", classes, " classes of the task"));
    }
    counts.assign(classes, 0);
    for (double label : train.labels) ++counts[static_cast<int64_t>(label)];
  } else {
    double sum = 0, sum_sq = 0;
    for (double y : train.labels) {
      sum += y;
      sum_sq += y * y;
    }
    const double n = static_cast<double>(train.labels.size());
    target_mean = sum / n;
    const double variance = std::max(0.0, sum_sq / n - target_mean * target_mean);
    target_stddev = variance > 1e-12 ? std::sqrt(variance) : 1.0;
  }
  result.num_classes = classification ? classes : 0;
  const int outputs = task == v1::TASK_MULTICLASS_CLASSIFICATION ? classes : 1;

  EncodedData data;
  data.n_train = train.features.rows;
  data.n_valid = validation.features.rows;
  data.width = width;
  data.x_train = Encode(result.preprocessing, train.features);
  data.x_valid = Encode(result.preprocessing, validation.features);
  const auto targets = [&](const std::vector<double>& labels) {
    std::vector<float> y(labels.begin(), labels.end());
    if (!classification) {
      for (float& v : y) v = static_cast<float>((v - target_mean) / target_stddev);
    }
    return y;
  };
  data.y_train = targets(train.labels);
  data.y_valid = targets(validation.labels);
  const int64_t n_train = data.n_train, n_valid = data.n_valid;
  if (!classification && !config.class_weights.empty()) {
    return absl::InvalidArgumentError(
        "class_weights apply to classification tasks, not regression");
  }
  const std::vector<double> weights = ClassWeights(config, counts);
  if (!weights.empty() && static_cast<int>(weights.size()) != classes) {
    return absl::InvalidArgumentError(
        absl::StrCat(weights.size(), " class weights for ", classes, " classes"));
  }

  auto network = std::make_shared<Network>(width, config.family, outputs);
  std::unique_ptr<Engine> engine;
  if (device->is_cpu() && CpuMlp::Available() && config.engine == TrainConfig::Engine::kAuto) {
    absl::StatusOr<std::unique_ptr<Engine>> cpu =
        MakeCpuMlpEngine(*network, data, config, threads, outputs, weights);
    if (!cpu.ok()) return cpu.status();
    engine = std::move(*cpu);
    result.engine = "cpu-mlp (oneDNN)";
  } else {
    engine = std::make_unique<TorchEngine>(network, data, config, *device, weights);
    result.engine = "libtorch";
  }
  const double lr = config.optimizer.learning_rate() > 0 ? config.optimizer.learning_rate() : 1e-3;
  const auto metrics_of = [&](const std::vector<double>& predictions) {
    if (task == v1::TASK_REGRESSION) {
      return RegressionMetrics(predictions, validation.labels, target_mean, "validation");
    }
    std::vector<int64_t> labels(validation.labels.begin(), validation.labels.end());
    if (task == v1::TASK_MULTICLASS_CLASSIFICATION) {
      std::vector<double> prior(classes);
      for (int c = 0; c < classes; ++c) prior[c] = static_cast<double>(counts[c]) / n_train;
      return MulticlassMetrics(predictions, classes, labels, prior, "validation");
    }
    return BinaryMetrics(predictions, labels, static_cast<double>(counts[1]) / n_train,
                         "validation");
  };

  const std::string objective = PrimaryMetric(task);
  const bool higher_is_better = task != v1::TASK_REGRESSION;
  const int64_t batch = config.batch_size;
  const int64_t batches = (n_train + batch - 1) / batch;
  std::vector<torch::Tensor> best_state;
  double best_objective = 0;
  int since_best = 0;
  double training_seconds = 0;
  int64_t samples_seen = 0;
  TrainProgress report;
  report.epochs_total = config.epochs;
  report.batches_per_epoch = batches;

  for (int epoch = 1; epoch <= config.epochs; ++epoch) {
    const Clock::time_point epoch_start = Clock::now();
    const torch::Tensor order = torch::randperm(n_train, torch::kInt64);
    double loss_sum = 0;
    for (int64_t b = 0; b < batches; ++b) {
      if (cancel != nullptr && cancel->load()) {
        return absl::CancelledError(absl::StrCat("cancelled at epoch ", epoch, ", batch ", b + 1));
      }
      const int64_t begin = b * batch, end = std::min(n_train, (b + 1) * batch);
      const double value = engine->Step(order, begin, end);
      if (!std::isfinite(value)) {
        return absl::FailedPreconditionError(absl::StrCat(
            "diverged at epoch ", epoch, ": the training loss is ", value,
            "; lower the learning rate (now ", lr, ") or check the label and feature scales"));
      }
      loss_sum += value;
      samples_seen += end - begin;
      if (progress) {
        report.epoch = epoch;
        report.batch = b + 1;
        report.train_loss = loss_sum / static_cast<double>(b + 1);
        const double seconds =
            training_seconds + std::chrono::duration<double>(Clock::now() - epoch_start).count();
        report.samples_per_second = seconds > 0 ? samples_seen / seconds : 0;
        report.epoch_end = false;
        progress(report);
      }
    }
    training_seconds += std::chrono::duration<double>(Clock::now() - epoch_start).count();

    std::vector<double> flat;
    double validation_loss = 0;
    std::vector<v1::Metric> metrics;
    if (n_valid > 0) {
      validation_loss = engine->ValidationLoss();
      flat = ToPredictions(engine->ValidationOutputs(), task, outputs, target_mean, target_stddev);
      metrics = metrics_of(flat);
    }
    const v1::Metric* chosen = FindMetric(metrics, objective);
    // Without a validation split, the last epoch is kept.
    const double value = chosen != nullptr ? chosen->value() : -loss_sum;
    const bool better =
        epoch == 1 ||
        (higher_is_better || chosen == nullptr ? value > best_objective : value < best_objective);
    result.epochs_completed = epoch;
    if (better) {
      best_objective = value;
      result.best_epoch = epoch;
      result.validation_metrics = metrics;
      result.validation_predictions = flat;
      best_state = engine->Parameters();
      since_best = 0;
    } else {
      ++since_best;
    }
    if (progress) {
      report.epoch = epoch;
      report.batch = batches;
      report.train_loss = loss_sum / static_cast<double>(batches);
      report.validation_loss = validation_loss;
      if (chosen != nullptr) report.validation_metric = *chosen;
      report.samples_per_second = training_seconds > 0 ? samples_seen / training_seconds : 0;
      report.epoch_end = true;
      progress(report);
    }
    if (config.early_stopping_patience > 0 && since_best >= config.early_stopping_patience) break;
  }
  result.objective_value = best_objective;
  result.train_seconds = training_seconds;
  result.samples_per_second = training_seconds > 0 ? samples_seen / training_seconds : 0;

  ExportedNetwork exported;
  exported.preprocessing = result.preprocessing;
  exported.task = task;
  exported.activation = network->activation;
  exported.target_mean = target_mean;
  exported.target_stddev = target_stddev;
  // Parameters come in registration order: weight then bias of each linear layer.
  for (size_t i = 0; i + 1 < best_state.size(); i += 2) {
    exported.weights.push_back(best_state[i]);
    exported.biases.push_back(best_state[i + 1]);
  }
  try {
    torch::jit::Module module = BuildTorchScript(exported);
    std::ostringstream bytes;
    module.save(bytes);
    result.torchscript = bytes.str();
  } catch (const std::exception& error) {  // c10::Error, or the script compiler's ErrorReport.
    return absl::InternalError(absl::StrCat("exporting the TorchScript module: ", error.what()));
  }
  return result;
}

absl::StatusOr<std::vector<double>> PredictTorchScript(const std::string& torchscript,
                                                       const RawTable& table) {
  if (absl::Status ok = table.Validate(); !ok.ok()) return ok;
  torch::jit::Module module;
  try {
    std::istringstream in(torchscript);
    module = torch::jit::load(in, torch::kCPU);
  } catch (const c10::Error& error) {
    return absl::InvalidArgumentError(absl::StrCat("not a TorchScript module: ", error.what()));
  }
  int numeric_width = 0;
  for (const RawColumn& column : table.columns) {
    if (!column.categorical) numeric_width += column.width;
  }
  std::vector<float> numeric(static_cast<size_t>(table.rows) * numeric_width);
  c10::List<c10::List<std::string>> categorical;
  for (int64_t i = 0; i < table.rows; ++i) {
    c10::List<std::string> row;
    int offset = 0;
    for (const RawColumn& column : table.columns) {
      if (column.categorical) {
        const bool missing = !column.missing.empty() && column.missing[i];
        row.push_back(missing ? std::string() : column.strings[i]);
        continue;
      }
      for (int k = 0; k < column.width; ++k) {
        numeric[i * numeric_width + offset + k] = column.numeric[i * column.width + k];
      }
      offset += column.width;
    }
    categorical.push_back(std::move(row));
  }
  torch::Tensor x = ToTensor(numeric, table.rows, numeric_width);
  torch::Tensor out;
  try {
    torch::NoGradGuard no_grad;
    out = module.forward({x, categorical}).toTensor();
  } catch (const c10::Error& error) {
    return absl::InvalidArgumentError(absl::StrCat("the module refused the rows: ", error.what()));
  }
  out = out.to(torch::kFloat64).contiguous();
  return std::vector<double>(out.data_ptr<double>(), out.data_ptr<double>() + out.numel());
}

}  // namespace fabrique::training
