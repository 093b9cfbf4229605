#ifndef FABRIQUE_LIBS_SERVING_TORCHSCRIPT_MODULE_H_
#define FABRIQUE_LIBS_SERVING_TORCHSCRIPT_MODULE_H_

// A loaded TorchScript module as serving calls it: rows in, through its calling convention, on
// its device, answers back on the CPU; LibTorch's exceptions turned into statuses. Internal to the
// TorchScript loader: this header compiles against LibTorch.

#include <torch/script.h>

#include <exception>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "libs/serving/calling_convention.h"
#include "libs/serving/loaded_module.h"

namespace fabrique::serving {

class TorchScriptModule : public LoadedModule {
 public:
  // `module` is already on `device` and in eval mode. `intra_op_threads`: threads each forward
  // call's operators use, set on the calling thread (0 = leave the thread's setting alone).
  TorchScriptModule(torch::jit::Module module, CallingConvention convention, c10::Device device,
                    int intra_op_threads = 0)
      : module_(std::move(module)),
        convention_(std::move(convention)),
        device_(device),
        intra_op_threads_(intra_op_threads) {}

  // Runs forward under InferenceMode (no autograd records). Safe from several threads at once:
  // TorchScript's executor locks where it compiles, and calls share nothing else.
  absl::StatusOr<TensorBatch> Forward(const TensorBatch& inputs) const override;
  std::string device() const override { return device_.str(); }

  const CallingConvention& convention() const { return convention_; }

 private:
  // LibTorch's forward is not a const member, though running it changes nothing a caller sees.
  mutable torch::jit::Module module_;
  CallingConvention convention_;
  c10::Device device_;
  int intra_op_threads_;
};

// The status of what a forward call threw. INVALID_ARGUMENT when the module refused the values:
// it raised (an exception or a failed assert in its code) or an operator failed on the inputs'
// shapes or indices; RESOURCE_EXHAUSTED when memory ran out; INTERNAL otherwise.
absl::Status ForwardFailure(const std::exception_ptr& error);

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_TORCHSCRIPT_MODULE_H_
