// Both training engines hold the epoch's order as their own: the caller's buffer may change (or
// go) once BeginEpoch returns, and the steps still visit the rows in the order it had then.

#include "libs/training/training_engine.h"

#include <algorithm>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/training/cpu_mlp.h"
#include "libs/training/cpu_mlp_engine.h"
#include "libs/training/torch_engine.h"  // Its c10 headers redefine CHECK: REQUIRE only here.

namespace fabrique::training {
namespace {

// 64 rows of 3 standard normal inputs with random 0/1 labels: each batch has its own loss.
EncodedData Data() {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0, 1);
  EncodedData data;
  data.n_train = 64;
  data.width = 3;
  for (int i = 0; i < data.n_train * data.width; ++i) data.x_train.push_back(normal(rng));
  for (int i = 0; i < data.n_train; ++i) data.y_train.push_back(static_cast<float>(rng() % 2));
  return data;
}

TEST_CASE("An engine keeps the epoch's order, not the caller's buffer", "[training]") {
  const EncodedData data = Data();
  TrainConfig config;
  config.task = v1::TASK_BINARY_CLASSIFICATION;
  config.family.mutable_mlp()->add_hidden_sizes(4);
  config.optimizer.set_learning_rate(0.1);
  config.batch_size = 16;
  const EngineSetup setup{&data, &config, /*outputs=*/1, /*class_weights=*/{}, /*threads=*/1};
  // Two engines of each kind from the same initial weights.
  const auto make = [&](bool torch_engine) -> std::unique_ptr<TrainingEngine> {
    torch::manual_seed(1);
    auto network = std::make_shared<Network>(data.width, config.family, 1);
    if (torch_engine) return MakeTorchEngine(setup, network, torch::Device(torch::kCPU));
    return *MakeCpuMlpEngine(setup, LayersOf(*network), network->activation, network->dropout);
  };
  std::vector<bool> kinds = {true};
  if (CpuMlp::Available()) kinds.push_back(false);
  for (const bool torch_engine : kinds) {
    INFO((torch_engine ? "libtorch" : "cpu-mlp"));
    std::unique_ptr<TrainingEngine> kept = make(torch_engine), reused = make(torch_engine);
    std::vector<int64_t> order(data.n_train);
    std::iota(order.begin(), order.end(), 0);
    kept->BeginEpoch(order.data());
    std::vector<int64_t> buffer = order;
    reused->BeginEpoch(buffer.data());
    // The caller moves on: its buffer now holds another order.
    std::reverse(buffer.begin(), buffer.end());
    std::vector<double> kept_losses, reused_losses;
    for (int64_t begin = 0; begin < data.n_train; begin += config.batch_size) {
      kept_losses.push_back(kept->Step(begin, begin + config.batch_size));
      reused_losses.push_back(reused->Step(begin, begin + config.batch_size));
    }
    REQUIRE(reused_losses == kept_losses);
  }
}

}  // namespace
}  // namespace fabrique::training
