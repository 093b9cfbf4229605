#include "libs/training/tabular_trainer.h"

#include <chrono>
#include <cmath>
#include <sstream>

#include "absl/strings/str_cat.h"
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
  if (config.threads > 0) torch::set_num_threads(config.threads);
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

  const int64_t n_train = train.features.rows, n_valid = validation.features.rows;
  torch::Tensor x_train =
      ToTensor(Encode(result.preprocessing, train.features), n_train, width).to(*device);
  torch::Tensor x_valid =
      ToTensor(Encode(result.preprocessing, validation.features), n_valid, width).to(*device);
  const auto labels_tensor = [&](const std::vector<double>& labels) {
    std::vector<float> y(labels.begin(), labels.end());
    if (!classification) {
      for (float& v : y) v = static_cast<float>((v - target_mean) / target_stddev);
    }
    torch::Tensor t = torch::tensor(y, torch::kFloat32);
    if (task == v1::TASK_MULTICLASS_CLASSIFICATION) t = t.to(torch::kInt64);
    return t.to(*device);
  };
  torch::Tensor y_train = labels_tensor(train.labels);
  torch::Tensor y_valid = labels_tensor(validation.labels);
  const std::vector<double> weights = ClassWeights(config, counts);
  torch::Tensor class_weights;
  if (!weights.empty()) {
    if (static_cast<int>(weights.size()) != classes) {
      return absl::InvalidArgumentError(
          absl::StrCat(weights.size(), " class weights for ", classes, " classes"));
    }
    class_weights = torch::tensor(weights, torch::kFloat32).to(*device);
  }

  auto network = std::make_shared<Network>(width, config.family, outputs);
  network->to(*device);
  const double lr = config.optimizer.learning_rate() > 0 ? config.optimizer.learning_rate() : 1e-3;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  if (config.optimizer.kind() == v1::OPTIMIZER_KIND_SGD) {
    optimizer = std::make_unique<torch::optim::SGD>(
        network->parameters(), torch::optim::SGDOptions(lr)
                                   .momentum(config.optimizer.momentum())
                                   .weight_decay(config.optimizer.weight_decay()));
  } else {
    optimizer = std::make_unique<torch::optim::Adam>(
        network->parameters(),
        torch::optim::AdamOptions(lr).weight_decay(config.optimizer.weight_decay()));
  }
  const v1::LossFunction loss_kind = config.loss;
  const auto loss_of = [&](const torch::Tensor& out, const torch::Tensor& y) -> torch::Tensor {
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
        if (!class_weights.defined()) {
          return torch::binary_cross_entropy_with_logits(logits, y);
        }
        // Each row weighs its class's weight.
        const torch::Tensor row_weights = class_weights.index_select(0, y.to(torch::kInt64));
        return torch::binary_cross_entropy_with_logits(logits, y, row_weights);
      }
    }
  };
  // Predictions in the exported module's terms: probabilities, or targets.
  const auto predict = [&](const torch::Tensor& x) {
    torch::NoGradGuard no_grad;
    torch::Tensor out = network->forward(x);
    if (task == v1::TASK_MULTICLASS_CLASSIFICATION) return torch::softmax(out, 1);
    if (task == v1::TASK_REGRESSION) return out * target_stddev + target_mean;
    return torch::sigmoid(out);
  };
  const auto metrics_of = [&](const torch::Tensor& predictions, std::vector<double>* flat) {
    torch::Tensor cpu = predictions.to(torch::kCPU, torch::kFloat64).contiguous();
    flat->assign(cpu.data_ptr<double>(), cpu.data_ptr<double>() + cpu.numel());
    if (task == v1::TASK_REGRESSION) {
      return RegressionMetrics(*flat, validation.labels, target_mean, "validation");
    }
    std::vector<int64_t> labels(validation.labels.begin(), validation.labels.end());
    if (task == v1::TASK_MULTICLASS_CLASSIFICATION) {
      std::vector<double> prior(classes);
      for (int c = 0; c < classes; ++c) prior[c] = static_cast<double>(counts[c]) / n_train;
      return MulticlassMetrics(*flat, classes, labels, prior, "validation");
    }
    return BinaryMetrics(*flat, labels, static_cast<double>(counts[1]) / n_train, "validation");
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
    network->train();
    const Clock::time_point epoch_start = Clock::now();
    const torch::Tensor order = torch::randperm(n_train, torch::kInt64).to(*device);
    double loss_sum = 0;
    for (int64_t b = 0; b < batches; ++b) {
      if (cancel != nullptr && cancel->load()) {
        return absl::CancelledError(absl::StrCat("cancelled at epoch ", epoch, ", batch ", b + 1));
      }
      const torch::Tensor rows = order.slice(0, b * batch, std::min(n_train, (b + 1) * batch));
      optimizer->zero_grad();
      torch::Tensor loss =
          loss_of(network->forward(x_train.index_select(0, rows)), y_train.index_select(0, rows));
      loss.backward();
      optimizer->step();
      const double value = loss.item<double>();
      if (!std::isfinite(value)) {
        return absl::FailedPreconditionError(absl::StrCat(
            "diverged at epoch ", epoch, ": the training loss is ", value,
            "; lower the learning rate (now ", lr, ") or check the label and feature scales"));
      }
      loss_sum += value;
      samples_seen += rows.size(0);
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

    network->eval();
    std::vector<double> flat;
    double validation_loss = 0;
    {
      torch::NoGradGuard no_grad;
      if (n_valid > 0) validation_loss = loss_of(network->forward(x_valid), y_valid).item<double>();
    }
    std::vector<v1::Metric> metrics =
        n_valid > 0 ? metrics_of(predict(x_valid), &flat) : std::vector<v1::Metric>{};
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
      best_state.clear();
      for (const torch::Tensor& parameter : network->parameters()) {
        best_state.push_back(parameter.detach().clone());
      }
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
    exported.weights.push_back(best_state[i].cpu());
    exported.biases.push_back(best_state[i + 1].cpu());
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
