#ifndef FABRIQUE_LIBS_TRAINING_CPU_MLP_ENGINE_H_
#define FABRIQUE_LIBS_TRAINING_CPU_MLP_ENGINE_H_

// The CPU engine of the epoch loop: cpu_mlp.h's explicit forward and backward passes (oneDNN's
// products), configured with LibTorch's semantics for the task's loss, the optimiser and the
// class weights. No LibTorch header.

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "fabrique/v1/common.pb.h"
#include "libs/training/training_engine.h"

namespace fabrique::training {

// The engine, starting from `initial` (input side first). `activation` and `dropout` apply
// between hidden layers. UNIMPLEMENTED in a build without oneDNN; INVALID_ARGUMENT when the
// layers do not fit the data.
absl::StatusOr<std::unique_ptr<TrainingEngine>> MakeCpuMlpEngine(const EngineSetup& setup,
                                                                 std::vector<DenseLayer> initial,
                                                                 v1::Activation activation,
                                                                 double dropout);

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_CPU_MLP_ENGINE_H_
