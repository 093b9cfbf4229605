#ifndef FABRIQUE_LIBS_TRAINING_TABULAR_TRAINER_H_
#define FABRIQUE_LIBS_TRAINING_TABULAR_TRAINER_H_

// Trains a linear model or an MLP on tabular rows, on the CPU (cpu_mlp.h's engine) or a CUDA
// device (LibTorch's autograd):
// preprocessing fitted on the training split (tabular_data.h), mini-batches shuffled by the
// seed, Adam or SGD, the task's loss (class-weighted where asked), an evaluation of the
// validation split after every epoch, early stopping on the task's primary metric (the best
// epoch's weights are kept), and an exported TorchScript module with the preprocessing and the
// output activation inside (torchscript_export.h).
//
// The steps are computed by an engine (training_engine.h) under one epoch loop. The header keeps
// LibTorch out of its includes: LibTorch is linked privately, so callers (the trainer service,
// the tests, the CLI) neither see its include paths nor pay its compile time.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fabrique/v1/common.pb.h"
#include "libs/core/clock.h"
#include "libs/training/tabular_data.h"

namespace fabrique::training {

struct TrainConfig {
  v1::Task task = v1::TASK_BINARY_CLASSIFICATION;
  int num_classes = 0;     // Multi-class; 0 = 1 + the largest training label.
  v1::ModelFamily family;  // Neither set = linear.
  v1::LossFunction loss = v1::LOSS_FUNCTION_UNSPECIFIED;
  v1::Optimizer optimizer;
  int batch_size = 256;
  int epochs = 10;
  int early_stopping_patience = 0;  // 0 = never stop early.
  std::vector<double> class_weights;
  bool balance_classes = false;
  uint64_t seed = 0;
  v1::Device device = v1::DEVICE_AUTO;
  int threads = 0;  // Intra-op CPU threads; 0 = what the process may use (core::UsableCpus).
  // Who computes the steps. kAuto: CpuMlp (cpu_mlp.h) on the CPU when this build has it,
  // LibTorch's autograd otherwise (and always on CUDA). kLibTorch: autograd even on the CPU.
  enum class Engine { kAuto, kLibTorch };
  Engine engine = Engine::kAuto;
  // Times the training steps (samples_per_second, train_seconds). Not owned; nullptr = a
  // monotonic clock (steady_clock), which a step of the wall clock cannot move.
  core::Clock* clock = nullptr;
};

// Progress, reported after every batch (the caller throttles) and at the end of each epoch.
struct TrainProgress {
  int epoch = 0;  // 1-based.
  int epochs_total = 0;
  int64_t batch = 0;
  int64_t batches_per_epoch = 0;
  double train_loss = 0;       // Mean loss of the epoch so far.
  double validation_loss = 0;  // After the last full epoch.
  v1::Metric validation_metric;
  // This epoch's throughput so far: its training rows over the time its steps took. Neither the
  // progress callback's time (a progress write) nor validation counts, and each epoch stands
  // alone, so a slow first epoch (oneDNN generating its kernels, threads starting) shows as
  // such instead of inflating every later figure of a run average.
  double samples_per_second = 0;
  bool epoch_end = false;
};

struct TrainResult {
  std::vector<v1::Metric> validation_metrics;  // Of the kept (best) epoch, with baselines.
  int epochs_completed = 0;
  int best_epoch = 0;
  double objective_value = 0;  // The primary metric on validation at the best epoch.
  std::string device;          // "cpu" or "cuda:0".
  std::string engine;          // "cpu-mlp (oneDNN)" or "libtorch".
  // Time the epochs' steps took (not preprocessing, validation, progress callbacks or export).
  double train_seconds = 0;
  double samples_per_second = 0;  // Training samples processed per second of that time.
  Preprocessing preprocessing;
  // Validation predictions of the kept model: P(class 1), or per-class rows, or targets.
  std::vector<double> validation_predictions;
  int num_classes = 0;
  // The exported TorchScript module (torch::jit::save bytes) with the preprocessing inside.
  std::string torchscript;
};

using ProgressFn = std::function<void(const TrainProgress&)>;

// Epoch checkpoints of one training. A checkpoint holds everything the epochs after it depend
// on: the engine's parameters and optimiser state, the shuffling generator's state, and the
// best epoch so far (its weights, metrics and predictions). Training resumed from epoch E's
// checkpoint therefore continues as the uninterrupted training would have after epoch E: on the
// CPU engine the final model is bit-identical (same data, seed and thread count); on CUDA,
// dropout draws from the device's generator, which is not kept, so only its expectation is.
struct Checkpointing {
  // Called after each completed epoch with its number (1-based) and the checkpoint's bytes; an
  // error stops the training with it. Empty = none kept.
  std::function<absl::Status(int epoch, std::string checkpoint)> save;
  // Bytes `save` was given, by a training of the same spec on the same data: training resumes
  // after that epoch. Empty = from the start.
  std::string resume;
};

// Trains and exports. INVALID_ARGUMENT for bad settings or tables; FAILED_PRECONDITION for an
// empty training split, `cuda` without a GPU, or a loss that went NaN ("diverged at epoch k",
// with a hint); CANCELLED when `cancel` became true (checked every batch); INVALID_ARGUMENT when
// `checkpoints->resume` is not a checkpoint of this training.
absl::StatusOr<TrainResult> TrainTabular(const LabeledTable& train, const LabeledTable& validation,
                                         const TrainConfig& config, const ProgressFn& progress = {},
                                         const std::atomic<bool>* cancel = nullptr,
                                         const Checkpointing* checkpoints = nullptr);

// Runs an exported module on raw rows (as inference will): numeric features in order, NaN for
// missing, and the categorical strings. Returns, per row, P(class 1), the class probabilities
// (row-major), or the prediction.
absl::StatusOr<std::vector<double>> PredictTorchScript(const std::string& torchscript,
                                                       const RawTable& table);

// Whether a CUDA device is usable here.
bool CudaAvailable();

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_TABULAR_TRAINER_H_
