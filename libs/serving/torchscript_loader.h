#ifndef FABRIQUE_LIBS_SERVING_TORCHSCRIPT_LOADER_H_
#define FABRIQUE_LIBS_SERVING_TORCHSCRIPT_LOADER_H_

// Loads TorchScript modules (the trainer's, or ones a squad scripted or traced) for serving: picks
// the device, decides how forward is called from its schema and the version's signature
// (calling_convention.h), and warms the module up before it takes traffic. The only part of
// serving that links LibTorch, privately: this header has plain types, so what includes it does
// not compile against LibTorch.
//
//   TorchScriptLoaderOptions options;
//   options.intra_op_threads = 4;
//   ASSIGN_OR_RETURN(auto loader, TorchScriptLoader::Create(options));
//   ASSIGN_OR_RETURN(auto module, loader->Load(path, version.signature(), LoadOptions()));
//   ASSIGN_OR_RETURN(TensorBatch outputs, module->Forward(inputs));

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "libs/serving/loaded_module.h"

namespace fabrique::serving {

struct TorchScriptLoaderOptions {
  // Threads one forward call uses for its operators (LibTorch's intra-op threads, set on each
  // thread that calls forward, since OpenMP keeps the setting per thread). 0 = LibTorch's
  // default (the machine's cores). Default 0.
  int intra_op_threads = 0;
  // Forward calls per warm-up batch size before Load returns; at least 1. Default 3: the
  // profiling executor records shapes on its first call, compiles the optimised plan on the
  // second, and the third runs that plan once so the first request does not pay for either.
  int warmup_runs = 3;
};

class TorchScriptLoader : public ModuleLoader {
 public:
  // INVALID_ARGUMENT for a negative thread count or fewer than one warm-up run.
  static absl::StatusOr<std::unique_ptr<TorchScriptLoader>> Create(
      TorchScriptLoaderOptions options);

  // Whether this process can run modules on CUDA (what the "auto" device picks).
  static bool CudaAvailable();

  // See ModuleLoader::Load. Also NOT_FOUND when there is no file at `path`, INVALID_ARGUMENT for
  // a device name other than "auto", "cpu", "cuda" or "cuda:N", and the reason of a warm-up run
  // that fails (INVALID_ARGUMENT, or RESOURCE_EXHAUSTED when the device ran out of memory).
  // Warm-up feeds zeros and empty strings, and is skipped when an input's shape has a variable
  // dimension besides the rows (the rows it would need cannot be known).
  absl::StatusOr<std::unique_ptr<LoadedModule>> Load(const std::string& path,
                                                     const v1::ModelSignature& signature,
                                                     const LoadOptions& options) override;

 private:
  explicit TorchScriptLoader(TorchScriptLoaderOptions options) : options_(options) {}

  TorchScriptLoaderOptions options_;
};

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_TORCHSCRIPT_LOADER_H_
