#include "libs/serving/torchscript_loader.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/script.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/serving/calling_convention.h"
#include "libs/serving/torchscript_module.h"

namespace fabrique::serving {
namespace {

// The device `name` asks for: "auto" (CUDA when present, else the CPU), "cpu", "cuda" (the first
// GPU) or "cuda:N".
absl::StatusOr<c10::Device> ChooseDevice(const std::string& name) {
  const bool cuda = TorchScriptLoader::CudaAvailable();
  if (name == "auto" || name.empty()) return cuda ? c10::Device(c10::kCUDA, 0) : c10::Device("cpu");
  std::optional<c10::Device> device;
  try {
    device = c10::Device(name);
  } catch (const std::exception&) {
  }
  if (!device.has_value() || !(device->is_cpu() || device->is_cuda())) {
    return absl::InvalidArgumentError(
        absl::StrCat("device '", name, "' is not served; use auto, cpu, cuda or cuda:N"));
  }
  if (device->is_cpu()) return *device;
  if (!cuda) {
    return absl::FailedPreconditionError(
        absl::StrCat("device '", name,
                     "' was asked for but this process has no CUDA (no GPU, or LibTorch "
                     "built for the CPU only); ask for auto or cpu"));
  }
  const int index = device->has_index() ? device->index() : 0;
  if (index >= static_cast<int>(torch::cuda::device_count())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "device '", name, "' is absent: this machine has ", torch::cuda::device_count(), " GPUs"));
  }
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

// `rows` rows of zeros and empty strings for `inputs`; nothing when an input has a variable
// dimension besides the rows (its size cannot be guessed: a wrong one would fail a good module).
std::optional<TensorBatch> WarmUpBatch(const std::vector<TensorSpecView>& inputs, int64_t rows) {
  TensorBatch batch;
  batch.rows = rows;
  for (const TensorSpecView& spec : inputs) {
    if (std::any_of(spec.shape.begin() + 1, spec.shape.end(), [](int64_t d) { return d < 0; })) {
      return std::nullopt;
    }
    Tensor tensor;
    tensor.name = spec.name;
    tensor.type = spec.type;
    tensor.shape = spec.shape;
    tensor.shape[0] = rows;
    const size_t count = static_cast<size_t>(rows * tensor.ElementsPerRow());
    switch (spec.type) {
      case DataType::kBool:
        tensor.boolean.assign(count, 0);
        break;
      case DataType::kInt32:
        tensor.int32.assign(count, 0);
        break;
      case DataType::kInt64:
        tensor.int64.assign(count, 0);
        break;
      case DataType::kFp64:
        tensor.fp64.assign(count, 0.0);
        break;
      case DataType::kBytes:
        tensor.bytes.assign(count, "");
        break;
      case DataType::kFp32:
        tensor.fp32.assign(count, 0.0f);
        break;
    }
    batch.tensors.push_back(std::move(tensor));
  }
  return batch;
}

// Runs `runs` forwards of each batch size, so the first requests find the module compiled for
// them. A failure fails the load: the module cannot answer valid rows.
absl::Status WarmUp(const TorchScriptModule& module, std::vector<int> sizes, int runs) {
  if (sizes.empty()) sizes = {1};
  for (const int size : sizes) {
    if (size <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("warm-up batch size ", size, " is not a row count; use sizes above 0"));
    }
    const std::optional<TensorBatch> batch = WarmUpBatch(module.convention().inputs(), size);
    if (!batch.has_value()) return absl::OkStatus();
    for (int run = 0; run < runs; ++run) {
      absl::StatusOr<TensorBatch> outputs = module.Forward(*batch);
      if (outputs.ok()) continue;
      const absl::StatusCode code = outputs.status().code() == absl::StatusCode::kResourceExhausted
                                        ? absl::StatusCode::kResourceExhausted
                                        : absl::StatusCode::kInvalidArgument;
      return absl::Status(
          code, absl::StrCat("the module failed its warm-up on ", size,
                             " rows of zeros and empty strings: ", outputs.status().message()));
    }
  }
  return absl::OkStatus();
}

// The module at `path`, on `device`, in eval mode.
absl::StatusOr<torch::jit::Module> ReadModule(const std::string& path, const c10::Device& device) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    return absl::NotFoundError(absl::StrCat("no module file at '", path, "'"));
  }
  try {
    torch::jit::Module module = torch::jit::load(path, device);
    module.eval();
    return module;
  } catch (const c10::Error& failure) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", path, "' is not a TorchScript module: ", failure.what_without_backtrace()));
  } catch (const std::exception& failure) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is not a TorchScript module: ", failure.what()));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<TorchScriptLoader>> TorchScriptLoader::Create(
    TorchScriptLoaderOptions options) {
  if (options.intra_op_threads < 0) {
    return absl::InvalidArgumentError(absl::StrCat("intra_op_threads is ", options.intra_op_threads,
                                                   "; use 0 (LibTorch's default) or more"));
  }
  if (options.warmup_runs < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("warmup_runs is ", options.warmup_runs, "; use 1 or more"));
  }
  if (options.intra_op_threads > 0) at::set_num_threads(options.intra_op_threads);
  return std::unique_ptr<TorchScriptLoader>(new TorchScriptLoader(options));
}

bool TorchScriptLoader::CudaAvailable() { return torch::cuda::is_available(); }

absl::StatusOr<std::unique_ptr<LoadedModule>> TorchScriptLoader::Load(
    const std::string& path, const v1::ModelSignature& signature, const LoadOptions& options) {
  ASSIGN_OR_RETURN(const c10::Device device, ChooseDevice(options.device));
  ASSIGN_OR_RETURN(torch::jit::Module module, ReadModule(path, device));
  const auto forward = module.find_method("forward");  // c10::optional in LibTorch 1.x.
  if (!forward.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the TorchScript module at '", path, "' has no forward method"));
  }
  absl::StatusOr<CallingConvention> convention =
      CallingConvention::Decide(forward->function().getSchema(), signature);
  if (!convention.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("module '", path, "': ", convention.status().message()));
  }
  auto loaded = std::make_unique<TorchScriptModule>(std::move(module), *std::move(convention),
                                                    device, options_.intra_op_threads);
  RETURN_IF_ERROR(WarmUp(*loaded, options.warmup_batch_sizes, options_.warmup_runs));
  return loaded;
}

}  // namespace fabrique::serving
