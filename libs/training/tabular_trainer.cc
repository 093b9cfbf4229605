#include "libs/training/tabular_trainer.h"

#include <memory>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/cpus.h"
#include "libs/core/status_macros.h"
#include "libs/training/cpu_mlp.h"
#include "libs/training/cpu_mlp_engine.h"
#include "libs/training/epoch_loop.h"
#include "libs/training/torch_compat.h"
#include "libs/training/torch_engine.h"
#include "libs/training/torchscript_export.h"
#include "libs/training/training_engine.h"
#include "libs/training/training_problem.h"

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
absl::StatusOr<std::string> Export(const TrainingProblem& problem, v1::Activation activation,
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
                                         const std::atomic<bool>* cancel,
                                         const Checkpointing* checkpoints) {
  RETURN_IF_ERROR(CheckConfig(config));
  RETURN_IF_ERROR(CheckTables(train, validation));
  ASSIGN_OR_RETURN(const torch::Device device, ChooseDevice(config.device));
  // Set every time, the default included: the setting outlives the run on the trainer's worker.
  // The default is what the process may use (a pod's CPU limit), not the node's cores.
  const int threads = config.threads > 0 ? config.threads : core::UsableCpus();
  torch::set_num_threads(threads);
  torch::manual_seed(config.seed);
  if (device.is_cuda()) torch::cuda::manual_seed_all(config.seed);

  ASSIGN_OR_RETURN(TrainingProblem problem, PrepareProblem(train, validation, config));
  TrainResult result;
  result.device = compat::DeviceName(device);
  result.preprocessing = problem.preprocessing;
  result.num_classes = problem.task == v1::TASK_REGRESSION ? 0 : problem.classes;

  // The initial weights come from the seed, for either engine.
  auto network = std::make_shared<Network>(problem.data.width, config.family, problem.outputs);
  const EngineSetup setup{&problem.data, &config, problem.outputs, problem.class_weights, threads};
  ASSIGN_OR_RETURN(std::unique_ptr<TrainingEngine> engine, MakeEngine(setup, network, device));
  result.engine = engine->name();

  EpochLoop loop(problem, validation, config, *engine, progress, cancel, checkpoints);
  RETURN_IF_ERROR(loop.Run(result));
  ASSIGN_OR_RETURN(result.torchscript, Export(problem, network->activation, loop.best()));
  return result;
}

}  // namespace fabrique::training
