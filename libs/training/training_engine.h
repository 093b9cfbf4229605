#ifndef FABRIQUE_LIBS_TRAINING_TRAINING_ENGINE_H_
#define FABRIQUE_LIBS_TRAINING_TRAINING_ENGINE_H_

// What computes the steps of TrainTabular's epoch loop (tabular_trainer.h): the CPU engine
// (cpu_mlp_engine.h, over cpu_mlp.h) or LibTorch's autograd (torch_engine.h). Both start from
// the same initial weights (drawn from the seed as torch::nn::Linear draws them) and visit the
// rows in the same order, so for one seed they train the same model. Plain types only: the
// loop, not the engines' users, decides where LibTorch is needed.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "libs/training/tabular_trainer.h"

namespace fabrique::training {

// The encoded rows of both splits and their targets (class index, 0/1, or the standardised
// value), as the engines take them.
struct EncodedData {
  int64_t n_train = 0, n_valid = 0;
  int width = 0;
  std::vector<float> x_train, x_valid, y_train, y_valid;
};

// One linear layer's parameters, on the CPU: weight [outputs x inputs] row-major, and bias.
struct DenseLayer {
  int inputs = 0, outputs = 0;
  std::vector<float> weight, bias;
};

// What an engine is made from. The pointers must outlive the engine.
struct EngineSetup {
  const EncodedData* data = nullptr;
  const TrainConfig* config = nullptr;
  int outputs = 1;                    // 1, or the classes of a multi-class task.
  std::vector<double> class_weights;  // Per class; empty = every row weighs 1.
  int threads = 1;                    // Intra-op CPU threads.
};

// The optimiser's learning rate: the config's, 1e-3 when it gives none.
inline double LearningRate(const TrainConfig& config) {
  return config.optimizer.learning_rate() > 0 ? config.optimizer.learning_rate() : 1e-3;
}

class TrainingEngine {
 public:
  virtual ~TrainingEngine() = default;
  // "cpu-mlp (oneDNN)" or "libtorch" (TrainResult::engine).
  virtual std::string name() const = 0;
  // Starts an epoch that visits the training rows in `order`, a permutation of [0, n_train). The
  // engine keeps its own copy: `order` need be valid only during the call.
  virtual void BeginEpoch(const int64_t* order) = 0;
  // One optimisation step on positions [begin, end) of the epoch's order; the batch's loss.
  virtual double Step(int64_t begin, int64_t end) = 0;
  // The validation split's raw outputs [n_valid x outputs] and loss, dropout off.
  virtual std::vector<float> ValidationOutputs() = 0;
  virtual double ValidationLoss() = 0;
  // Each layer's parameters, input side first, copied.
  virtual std::vector<DenseLayer> Parameters() = 0;
  // The parameters and the optimiser's state, for an epoch checkpoint, and their restoration:
  // an engine restored from a state trains on exactly as the one that saved it would have.
  // LoadState: INVALID_ARGUMENT for a state of another engine or network.
  virtual std::string SaveState() = 0;
  virtual absl::Status LoadState(const std::string& state) = 0;
};

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_TRAINING_ENGINE_H_
