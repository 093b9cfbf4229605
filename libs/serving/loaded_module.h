#ifndef FABRIQUE_LIBS_SERVING_LOADED_MODULE_H_
#define FABRIQUE_LIBS_SERVING_LOADED_MODULE_H_

// The seam between serving and LibTorch: a model version loaded into memory, and what loads one.
// The TorchScript implementation (torchscript_loader.h) is the only part of serving that links
// LibTorch; the model set, the batcher and the adapters see these interfaces, so their tests use
// fakes that answer in microseconds.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fabrique/v1/common.pb.h"
#include "libs/serving/tensor_batch.h"

namespace fabrique::serving {

// A model version ready to score. Forward may be called from several threads at once (one per
// instance); it never throws.
class LoadedModule {
 public:
  virtual ~LoadedModule() = default;
  // Scores `inputs` (one tensor per signature input, in signature order, already validated
  // against the signature) and returns one tensor per signature output, in signature order,
  // with inputs.rows rows. INVALID_ARGUMENT when the module refuses the values (its message
  // names the input when it can), INTERNAL for a failure of the module itself.
  virtual absl::StatusOr<TensorBatch> Forward(const TensorBatch& inputs) const = 0;
  // Where it runs: "cpu" or "cuda:0".
  virtual std::string device() const = 0;
};

struct LoadOptions {
  // "auto" (CUDA when present, else the CPU), "cpu" or "cuda".
  std::string device = "auto";
  // Batch sizes warm-up runs through the module before it takes traffic, each several times, so
  // the profiling executor has specialised for them; empty = {1}.
  std::vector<int> warmup_batch_sizes;
};

class ModuleLoader {
 public:
  virtual ~ModuleLoader() = default;
  // Loads the TorchScript module stored at `path`, checks that it can be called with
  // `signature`'s inputs and returns its outputs, and warms it up. INVALID_ARGUMENT when the
  // file is not a TorchScript module or does not fit the signature (saying how),
  // FAILED_PRECONDITION when the device asked for is absent.
  virtual absl::StatusOr<std::unique_ptr<LoadedModule>> Load(const std::string& path,
                                                             const v1::ModelSignature& signature,
                                                             const LoadOptions& options) = 0;
};

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_LOADED_MODULE_H_
