#ifndef FABRIQUE_TOOLS_BENCH_INFERENCE_BENCH_MODELS_H_
#define FABRIQUE_TOOLS_BENCH_INFERENCE_BENCH_MODELS_H_

// The models the inference benchmark serves, built in-process the way the trainer exports them
// (libs/training's BuildTorchScript: forward(numeric, categorical) with its own preprocessing),
// with random weights, since speed does not depend on them; and the same modules loaded in this
// process by libs/serving's TorchScript loader, the in-process baseline and the reference every
// answer is checked against. This header has plain types: only its .cc compiles against LibTorch.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "fabrique/v1/common.pb.h"
#include "libs/serving/loaded_module.h"
#include "libs/serving/tensor_batch.h"

namespace fabrique::bench {

// The shape of one served model: an MLP over `width` numeric inputs.
struct ModelShape {
  std::string name;                      // The registry's model name: "fmnist", "tabular50".
  int width = 0;                         // Numeric inputs per row.
  int classes = 2;                       // 2: binary (sigmoid, one output); more: softmax.
  std::vector<int> hidden = {256, 128};  // The trainer's Fashion-MNIST MLP (training_bench).
};

// fmnist: 784 pixels, the trainer's 256-128 ReLU MLP, 10-class softmax.
ModelShape FashionShape();
// tabular50: 50 numeric features, the same MLP, binary.
ModelShape Tabular50Shape();

// The signature a version of `shape` is registered with: one FP32 input "x" [-1, width] and one
// FP32 output "y" [-1, outputs].
v1::ModelSignature PlainSignature(const ModelShape& shape);
// The signature of a version fed by the feature store: one FP32 input [-1, 1] per feature
// f0..f{width-1} of `group` (schema version 1, FLOAT), the same output.
v1::ModelSignature FeatureSignature(const ModelShape& shape, const std::string& group);
// Elements per output row: 1 (binary) or `classes`.
int OutputWidth(const ModelShape& shape);

// Writes the TorchScript module of `shape` with weights drawn from `seed` to `path`.
absl::Status WriteModule(const ModelShape& shape, uint32_t seed, const std::string& path);

// `rows` rows of "x" (FP32, [rows, width]), values drawn from `seed`.
serving::TensorBatch RandomRows(const ModelShape& shape, int64_t rows, uint32_t seed);

// Loads modules in this process, as the inference server does, with `intra_op_threads` per
// forward call (LibTorch's pool is process-wide: one loader per process).
class InProcessModels {
 public:
  static absl::StatusOr<std::unique_ptr<InProcessModels>> Create(int intra_op_threads);

  // The module at `path` called with `signature`, warmed up at `warmup_batch` rows.
  absl::StatusOr<std::unique_ptr<serving::LoadedModule>> Load(const std::string& path,
                                                              const v1::ModelSignature& signature,
                                                              int warmup_batch);

 private:
  explicit InProcessModels(std::unique_ptr<serving::ModuleLoader> loader)
      : loader_(std::move(loader)) {}
  std::unique_ptr<serving::ModuleLoader> loader_;
};

// Rows per second of `module` scoring `batch` over and over from `threads` threads for
// `duration` (at least one call each).
double InProcessRowsPerSecond(const serving::LoadedModule& module,
                              const serving::TensorBatch& batch, int threads,
                              absl::Duration duration);

}  // namespace fabrique::bench

#endif  // FABRIQUE_TOOLS_BENCH_INFERENCE_BENCH_MODELS_H_
