#include "libs/serving/torch_tensors.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace fabrique::serving {
namespace {

// The elements of `tensor`'s type as untyped memory, and LibTorch's name for them. BOOL travels
// as bytes of 0 or 1: read as uint8, then converted.
std::pair<void*, torch::Dtype> Elements(const Tensor& tensor) {
  void* data = nullptr;
  torch::Dtype dtype = torch::kFloat32;
  switch (tensor.type) {
    case DataType::kBool:
      data = const_cast<uint8_t*>(tensor.boolean.data());
      dtype = torch::kUInt8;
      break;
    case DataType::kInt32:
      data = const_cast<int32_t*>(tensor.int32.data());
      dtype = torch::kInt32;
      break;
    case DataType::kInt64:
      data = const_cast<int64_t*>(tensor.int64.data());
      dtype = torch::kInt64;
      break;
    case DataType::kFp64:
      data = const_cast<double*>(tensor.fp64.data());
      dtype = torch::kFloat64;
      break;
    case DataType::kFp32:
    case DataType::kBytes:
      data = const_cast<float*>(tensor.fp32.data());
      break;
  }
  return {data, dtype};
}

// Copies the `count` elements of `value` (contiguous, on the CPU, of dtype T) into `out`.
template <typename T>
void CopyOut(const torch::Tensor& value, int64_t count, std::vector<T>& out) {
  const T* data = value.data_ptr<T>();
  out.assign(data, data + count);
}

}  // namespace

torch::Dtype TorchDtype(DataType type) {
  switch (type) {
    case DataType::kBool:
      return torch::kBool;
    case DataType::kInt32:
      return torch::kInt32;
    case DataType::kInt64:
      return torch::kInt64;
    case DataType::kFp64:
      return torch::kFloat64;
    case DataType::kFp32:
    case DataType::kBytes:
      break;
  }
  return torch::kFloat32;
}

torch::Tensor ToTorch(const Tensor& tensor, const c10::Device& device) {
  const auto [data, dtype] = Elements(tensor);
  // An empty vector's data() may be null, which from_blob refuses even for zero elements.
  if (data == nullptr) return torch::empty(tensor.shape, TorchDtype(tensor.type)).to(device);
  torch::Tensor view = torch::from_blob(data, tensor.shape, dtype);
  if (tensor.type == DataType::kBool) return view.to(device, torch::kBool);
  // On the CPU a clone is the copy; to another device, the transfer is.
  return device.is_cpu() ? view.clone() : view.to(device);
}

c10::List<std::string> ToStringList(const Tensor& tensor) {
  c10::List<std::string> list;
  list.reserve(tensor.bytes.size());
  for (const std::string& value : tensor.bytes) list.push_back(value);
  return list;
}

absl::StatusOr<Tensor> FromTorch(const torch::Tensor& value, const std::string& name, DataType type,
                                 std::vector<int64_t> shape) {
  const torch::ScalarType from = value.scalar_type();
  if (type == DataType::kBytes || !(c10::isFloatingType(from) || c10::isIntegralType(from, true))) {
    return absl::InternalError(absl::StrCat("the module's output '", name, "' is a tensor of ",
                                            c10::toString(from), " where the signature says ",
                                            DataTypeName(type)));
  }
  Tensor out;
  out.name = name;
  out.type = type;
  out.shape = std::move(shape);
  int64_t count = 1;
  for (int64_t d : out.shape) count *= d;
  if (value.numel() != count) {
    return absl::InternalError(absl::StrCat("the module's output '", name, "' has ", value.numel(),
                                            " elements where its shape holds ", count));
  }
  // Converted where the value is (BOOL: nonzero is true, one byte each), then brought to the CPU.
  const torch::Tensor converted =
      type == DataType::kBool ? value.ne(0).to(torch::kUInt8) : value.to(TorchDtype(type));
  const torch::Tensor cpu = converted.to(torch::kCPU).contiguous();
  switch (type) {
    case DataType::kBool:
      CopyOut(cpu, count, out.boolean);
      break;
    case DataType::kInt32:
      CopyOut(cpu, count, out.int32);
      break;
    case DataType::kInt64:
      CopyOut(cpu, count, out.int64);
      break;
    case DataType::kFp64:
      CopyOut(cpu, count, out.fp64);
      break;
    case DataType::kFp32:
    case DataType::kBytes:
      CopyOut(cpu, count, out.fp32);
      break;
  }
  return out;
}

}  // namespace fabrique::serving
