#include "libs/training/cpu_mlp_engine.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "libs/training/cpu_mlp.h"

namespace fabrique::training {
namespace {

class CpuMlpEngine : public TrainingEngine {
 public:
  CpuMlpEngine(std::unique_ptr<CpuMlp> mlp, const EncodedData& data, int outputs)
      : mlp_(std::move(mlp)), data_(data), outputs_(outputs) {}

  std::string name() const override { return "cpu-mlp (oneDNN)"; }

  void BeginEpoch(const int64_t* order) override { order_.assign(order, order + data_.n_train); }

  double Step(int64_t begin, int64_t end) override {
    return mlp_->Step(data_.x_train.data(), data_.y_train.data(), order_.data() + begin,
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

  std::vector<DenseLayer> Parameters() override {
    std::vector<DenseLayer> layers;
    for (size_t l = 0; l < mlp_->weights().size(); ++l) {
      DenseLayer& layer = layers.emplace_back();
      layer.weight = mlp_->weights()[l];
      layer.bias = mlp_->biases()[l];
      layer.outputs = static_cast<int>(layer.bias.size());
      layer.inputs = static_cast<int>(layer.weight.size() / layer.bias.size());
    }
    return layers;
  }

  std::string SaveState() override { return mlp_->SaveState(); }
  absl::Status LoadState(const std::string& state) override { return mlp_->LoadState(state); }

 private:
  std::unique_ptr<CpuMlp> mlp_;
  const EncodedData& data_;
  const int outputs_;
  std::vector<int64_t> order_;  // The epoch's, copied.
};

MlpActivation ActivationOf(v1::Activation activation) {
  switch (activation) {
    case v1::ACTIVATION_TANH:
      return MlpActivation::kTanh;
    case v1::ACTIVATION_GELU:
      return MlpActivation::kGelu;
    case v1::ACTIVATION_SIGMOID:
      return MlpActivation::kSigmoid;
    default:
      return MlpActivation::kRelu;
  }
}

MlpLoss LossOf(const TrainConfig& config) {
  switch (config.task) {
    case v1::TASK_MULTICLASS_CLASSIFICATION:
      return MlpLoss::kSoftmaxCrossEntropy;
    case v1::TASK_REGRESSION:
      return config.loss == v1::LOSS_FUNCTION_MAE     ? MlpLoss::kAbsoluteError
             : config.loss == v1::LOSS_FUNCTION_HUBER ? MlpLoss::kHuber
                                                      : MlpLoss::kSquaredError;
    default:
      return MlpLoss::kBinaryCrossEntropy;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<TrainingEngine>> MakeCpuMlpEngine(const EngineSetup& setup,
                                                                 std::vector<DenseLayer> initial,
                                                                 v1::Activation activation,
                                                                 double dropout) {
  const EncodedData& data = *setup.data;
  const TrainConfig& config = *setup.config;
  CpuMlpOptions options;
  std::vector<std::vector<float>> weights, biases;
  options.sizes.push_back(data.width);
  for (DenseLayer& layer : initial) {
    options.sizes.push_back(layer.outputs);
    weights.push_back(std::move(layer.weight));
    biases.push_back(std::move(layer.bias));
  }
  options.activation = ActivationOf(activation);
  options.dropout = dropout;
  options.loss = LossOf(config);
  options.class_weights.assign(setup.class_weights.begin(), setup.class_weights.end());
  options.adam = config.optimizer.kind() != v1::OPTIMIZER_KIND_SGD;
  options.learning_rate = LearningRate(config);
  options.weight_decay = config.optimizer.weight_decay();
  options.momentum = config.optimizer.momentum();
  options.max_batch = std::min<int64_t>(config.batch_size, std::max<int64_t>(data.n_train, 1));
  options.threads = setup.threads;
  options.seed = config.seed;
  absl::StatusOr<std::unique_ptr<CpuMlp>> mlp =
      CpuMlp::Create(std::move(options), std::move(weights), std::move(biases));
  if (!mlp.ok()) return mlp.status();
  return std::unique_ptr<TrainingEngine>(new CpuMlpEngine(*std::move(mlp), data, setup.outputs));
}

}  // namespace fabrique::training
