#ifndef FABRIQUE_LIBS_SERVING_TORCH_TENSORS_H_
#define FABRIQUE_LIBS_SERVING_TORCH_TENSORS_H_

// Copies between serving's plain tensors (tensor_batch.h) and LibTorch's. Internal to the
// TorchScript loader: this header compiles against LibTorch.

#include <torch/script.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/serving/tensor_batch.h"

namespace fabrique::serving {

// The LibTorch element type of `type`; BYTES has none (strings travel as List[str]).
torch::Dtype TorchDtype(DataType type);

// `tensor`'s elements (any type but BYTES) as a LibTorch tensor of its shape on `device`. A copy:
// a module that writes into its arguments never changes the caller's rows.
torch::Tensor ToTorch(const Tensor& tensor, const c10::Device& device);

// `tensor`'s BYTES elements, flattened row-major.
c10::List<std::string> ToStringList(const Tensor& tensor);

// `value` (on any device, of any real or boolean dtype) as the tensor `name` of `type` and
// `shape`, converted on the CPU (e.g. double to FP32). INTERNAL naming `name` when `value` holds
// something else than shape's element count or is not made of real numbers or booleans.
absl::StatusOr<Tensor> FromTorch(const torch::Tensor& value, const std::string& name, DataType type,
                                 std::vector<int64_t> shape);

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_TORCH_TENSORS_H_
