#include "libs/training/torch_engine.h"

#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"

namespace fabrique::training {
namespace {

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

std::vector<float> CopyOut(const torch::Tensor& tensor) {
  const torch::Tensor cpu = tensor.detach().to(torch::kCPU).contiguous();
  return std::vector<float>(cpu.data_ptr<float>(), cpu.data_ptr<float>() + cpu.numel());
}

class TorchEngine : public TrainingEngine {
 public:
  TorchEngine(const EngineSetup& setup, std::shared_ptr<Network> network, torch::Device device)
      : network_(std::move(network)),
        device_(device),
        task_(setup.config->task),
        loss_(setup.config->loss),
        n_train_(setup.data->n_train) {
    const EncodedData& data = *setup.data;
    const TrainConfig& config = *setup.config;
    // On the CPU the tensors alias `data`, which outlives the engine.
    const auto tensor = [&](const std::vector<float>& values, int64_t rows, int64_t width) {
      return torch::from_blob(const_cast<float*>(values.data()), {rows, width}, torch::kFloat32)
          .to(device);
    };
    x_train_ = tensor(data.x_train, data.n_train, data.width);
    x_valid_ = tensor(data.x_valid, data.n_valid, data.width);
    y_train_ = tensor(data.y_train, data.n_train, 1).squeeze(1);
    y_valid_ = tensor(data.y_valid, data.n_valid, 1).squeeze(1);
    if (task_ == v1::TASK_MULTICLASS_CLASSIFICATION) {
      y_train_ = y_train_.to(torch::kInt64);
      y_valid_ = y_valid_.to(torch::kInt64);
    }
    if (!setup.class_weights.empty()) {
      class_weights_ = torch::tensor(setup.class_weights, torch::kFloat32).to(device);
    }
    network_->to(device);
    const double lr = LearningRate(config);
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

  std::string name() const override { return "libtorch"; }

  void BeginEpoch(const int64_t* order) override {
    // Copied (on the CPU too, where a plain `to` would alias the caller's buffer).
    order_ = torch::from_blob(const_cast<int64_t*>(order), {n_train_}, torch::kInt64)
                 .to(device_, torch::kInt64, /*non_blocking=*/false, /*copy=*/true);
  }

  double Step(int64_t begin, int64_t end) override {
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
    return CopyOut(network_->forward(x_valid_));
  }

  double ValidationLoss() override {
    torch::NoGradGuard no_grad;
    network_->eval();
    return TorchLoss(task_, loss_, network_->forward(x_valid_), y_valid_, class_weights_)
        .item<double>();
  }

  std::vector<DenseLayer> Parameters() override { return LayersOf(*network_); }

  // The network's parameters and the optimiser's state (Adam's moments and step, or SGD's
  // momentum buffers), as LibTorch serialises them.
  std::string SaveState() override {
    torch::serialize::OutputArchive archive;
    network_->save(archive);
    torch::serialize::OutputArchive optimizer;
    optimizer_->save(optimizer);
    archive.write("optimizer", optimizer);
    std::ostringstream bytes;
    archive.save_to(bytes);
    return bytes.str();
  }

  absl::Status LoadState(const std::string& state) override {
    try {
      std::istringstream bytes(state);
      torch::serialize::InputArchive archive;
      archive.load_from(bytes, device_);
      network_->load(archive);
      torch::serialize::InputArchive optimizer;
      archive.read("optimizer", optimizer);
      optimizer_->load(optimizer);
      return absl::OkStatus();
    } catch (const std::exception& error) {
      return absl::InvalidArgumentError(
          absl::StrCat("the checkpoint's state does not fit this network: ", error.what()));
    }
  }

 private:
  std::shared_ptr<Network> network_;
  torch::Device device_;
  v1::Task task_;
  v1::LossFunction loss_;
  int64_t n_train_;
  torch::Tensor x_train_, x_valid_, y_train_, y_valid_, class_weights_;
  torch::Tensor order_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
};

}  // namespace

Network::Network(int input, const v1::ModelFamily& family, int outputs) {
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

torch::Tensor Network::Activate(const torch::Tensor& x) const {
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

torch::Tensor Network::forward(torch::Tensor x) {
  for (size_t l = 0; l < layers.size(); ++l) {
    x = layers[l]->forward(x);
    if (l + 1 < layers.size()) {
      x = Activate(x);
      if (dropout > 0) x = torch::dropout(x, dropout, is_training());
    }
  }
  return x;
}

std::vector<DenseLayer> LayersOf(const Network& network) {
  std::vector<DenseLayer> layers;
  for (const torch::nn::Linear& linear : network.layers) {
    DenseLayer& layer = layers.emplace_back();
    layer.weight = CopyOut(linear->weight);
    layer.bias = CopyOut(linear->bias);
    layer.outputs = static_cast<int>(linear->weight.size(0));
    layer.inputs = static_cast<int>(linear->weight.size(1));
  }
  return layers;
}

std::unique_ptr<TrainingEngine> MakeTorchEngine(const EngineSetup& setup,
                                                std::shared_ptr<Network> network,
                                                torch::Device device) {
  return std::make_unique<TorchEngine>(setup, std::move(network), device);
}

}  // namespace fabrique::training
