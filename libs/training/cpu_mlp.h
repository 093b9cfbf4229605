#ifndef FABRIQUE_LIBS_TRAINING_CPU_MLP_H_
#define FABRIQUE_LIBS_TRAINING_CPU_MLP_H_

// An MLP (or a linear model) trained on the CPU with explicit forward and backward passes: the
// engine tabular_trainer.h uses on the CPU, LibTorch's autograd being kept for CUDA.
//
// Why not LibTorch on the CPU as well: Debian's LibTorch multiplies matrices through OpenBLAS,
// which on this AVX-512 hardware reaches about 59 GFLOPS on a Fashion-MNIST training step's
// products where oneDNN's sgemm reaches 260 (2 cores, batch 2048); and autograd allocates every
// intermediate afresh at every step, which the kernel then has to zero-fill. This engine
// multiplies through oneDNN, keeps every buffer from one step to the next (sized for the largest
// batch), and does bias, activation, dropout, the loss and its gradient, and the optimiser update
// each in one pass over memory. Its semantics are LibTorch's (torch::nn::Linear layout, the same
// losses with the same reductions and class weights, torch::optim's Adam and SGD with L2 weight
// decay), and tests/training/cpu_mlp_test.cc holds the two engines to the same numbers step by
// step.
//
// Plain C++ and OpenMP (the threads oneDNN uses too): no LibTorch headers.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fabrique::training {

enum class MlpActivation { kRelu, kTanh, kSigmoid, kGelu };

// The loss on the last layer's outputs, each as LibTorch computes it with mean reduction:
//   kSoftmaxCrossEntropy  cross_entropy on logits; targets are class indices; with class weights,
//                         the weighted sum divided by the sum of the rows' weights.
//   kBinaryCrossEntropy   binary_cross_entropy_with_logits on one logit; targets 0 or 1; with
//                         class weights, each row weighs its class's weight (mean over rows).
//   kSquaredError, kAbsoluteError, kHuber (delta 1)  on one output.
enum class MlpLoss {
  kSoftmaxCrossEntropy,
  kBinaryCrossEntropy,
  kSquaredError,
  kAbsoluteError,
  kHuber
};

struct CpuMlpOptions {
  std::vector<int> sizes;  // Inputs, each hidden layer, outputs: at least two entries.
  MlpActivation activation = MlpActivation::kRelu;
  double dropout = 0;  // After each hidden activation, in [0, 1).
  MlpLoss loss = MlpLoss::kSoftmaxCrossEntropy;
  std::vector<float> class_weights;  // Empty: every row weighs 1.
  bool adam = true;                  // Else SGD.
  double learning_rate = 1e-3;
  double weight_decay = 0;  // L2, added to the gradient (torch::optim's weight_decay).
  double momentum = 0;      // SGD only.
  int64_t max_batch = 256;  // Buffers are sized for it once.
  int threads = 0;          // 0: every core.
  uint64_t seed = 0;        // Of the dropout masks.
};

class CpuMlp {
 public:
  // Whether this build has the engine (it needs oneDNN; without it, LibTorch trains on the CPU).
  static bool Available();

  // weights[l] is layer l's [sizes[l+1] x sizes[l]] row-major matrix, biases[l] its sizes[l+1]
  // values. INVALID_ARGUMENT when they do not fit the sizes, or for bad options.
  static absl::StatusOr<std::unique_ptr<CpuMlp>> Create(CpuMlpOptions options,
                                                        std::vector<std::vector<float>> weights,
                                                        std::vector<std::vector<float>> biases);

  // One optimisation step on `count` (at most max_batch) rows of x, a [rows x inputs] row-major
  // matrix, picked by `rows`, against their targets (class index, 0/1, or value). Returns the
  // batch's loss before the update; NaN (and no update) when the rows' weights sum to 0.
  // Targets must be valid class indices for the classification losses: the caller checks them
  // (TrainTabular does), the engine does not, per row.
  double Step(const float* x, const float* targets, const int64_t* rows, int64_t count);

  // The last layer's outputs (logits, or the standardised prediction) for the first n rows of x,
  // dropout off, into out [n x outputs].
  void Predict(const float* x, int64_t n, float* out);

  // The loss over the first n rows of x and targets, dropout off (the reduction over all n).
  double Loss(const float* x, const float* targets, int64_t n);

  // The parameters and the optimiser's state (moments, step count), as epoch checkpoints keep
  // them; LoadState puts them back, so training goes on as if it had never stopped (the dropout
  // masks follow the step count). INVALID_ARGUMENT when the state is not of this network.
  std::string SaveState() const;
  absl::Status LoadState(absl::string_view state);

  const std::vector<std::vector<float>>& weights() const { return weights_; }
  const std::vector<std::vector<float>>& biases() const { return biases_; }

 private:
  explicit CpuMlp(CpuMlpOptions options) : options_(std::move(options)) {}

  int layers() const { return static_cast<int>(weights_.size()); }
  void SetThreads() const;
  // Runs the layers on `count` rows of `input` into pre_ / post_, the last layer's outputs
  // ending in pre_.back(). With `training`, dropout applies.
  void Forward(const float* input, int64_t count, bool training);
  // The loss's numerator and denominator over `count` rows, and with `gradient`, the gradient of
  // numerator/denominator with respect to the outputs into delta_.back().
  void OutputLoss(const float* targets, int64_t count, bool gradient, double* numerator,
                  double* denominator);
  void Backward(const float* input, int64_t count);
  void Update();

  CpuMlpOptions options_;
  std::vector<std::vector<float>> weights_, biases_;
  std::vector<std::vector<float>> weight_grads_, bias_grads_;
  // Optimiser state per parameter array: Adam's moments, or SGD's momentum buffer (first).
  std::vector<std::vector<float>> first_moment_, second_moment_;
  int64_t steps_ = 0;
  // Per layer, max_batch rows: the pre-activation (the activation itself for tanh and sigmoid,
  // whose derivatives come from it), the activation after dropout, the dropout mask, and the
  // loss's gradient with respect to the pre-activation.
  std::vector<std::vector<float>> pre_, post_, delta_;
  std::vector<std::vector<uint8_t>> keep_;
  std::vector<float> batch_;  // The gathered input rows.
  std::vector<float> batch_targets_;
};

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_CPU_MLP_H_
