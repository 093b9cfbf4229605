#ifndef FABRIQUE_LIBS_TRAINING_TORCH_ENGINE_H_
#define FABRIQUE_LIBS_TRAINING_TORCH_ENGINE_H_

// LibTorch's side of training: the network every run's initial weights are drawn from, and the
// engine that trains it with autograd (on CUDA always, on the CPU when asked or without oneDNN).
// Included by libs/training's own sources only: LibTorch is linked privately.

#include <memory>
#include <vector>

#include "fabrique/v1/common.pb.h"
#include "libs/training/torch_compat.h"
#include "libs/training/training_engine.h"

namespace fabrique::training {

// The network: linear layers with the activation and dropout between them. Made under the
// run's seed, it draws the initial weights both engines start from.
struct Network : torch::nn::Module {
  Network(int input, const v1::ModelFamily& family, int outputs);

  torch::Tensor Activate(const torch::Tensor& x) const;
  // Logits (classification) or standardised predictions (regression).
  torch::Tensor forward(torch::Tensor x);

  std::vector<torch::nn::Linear> layers;
  v1::Activation activation = v1::ACTIVATION_RELU;
  double dropout = 0;
};

// The network's current parameters, copied to plain layers (the CPU engine's starting point).
std::vector<DenseLayer> LayersOf(const Network& network);

// Trains `network` on `device` with autograd and torch::optim's Adam or SGD.
std::unique_ptr<TrainingEngine> MakeTorchEngine(const EngineSetup& setup,
                                                std::shared_ptr<Network> network,
                                                torch::Device device);

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_TORCH_ENGINE_H_
