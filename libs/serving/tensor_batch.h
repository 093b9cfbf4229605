#ifndef FABRIQUE_LIBS_SERVING_TENSOR_BATCH_H_
#define FABRIQUE_LIBS_SERVING_TENSOR_BATCH_H_

// The rows a model scores and the answers it gives, as plain C++: what the Open Inference
// Protocol codec decodes a request into, what the dynamic batcher concatenates and splits, and
// what a loaded module consumes and produces. No gRPC and no LibTorch here, so every part of
// serving but the module itself is built and tested without either.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fabrique::serving {

// Element types, named as the Open Inference Protocol names them ("FP32", ...).
enum class DataType { kBool, kInt32, kInt64, kFp32, kFp64, kBytes };

// INVALID_ARGUMENT naming `name` and the types served when it is none of them.
absl::StatusOr<DataType> ParseDataType(absl::string_view name);
// "BOOL", "INT32", "INT64", "FP32", "FP64" or "BYTES".
absl::string_view DataTypeName(DataType type);

// One named tensor: row-major elements, the batch (row) dimension first. Exactly the vector of
// its type holds the elements; the others stay empty.
struct Tensor {
  std::string name;
  DataType type = DataType::kFp32;
  std::vector<int64_t> shape;  // shape[0] = rows; the rest as the signature says.

  std::vector<float> fp32;
  std::vector<double> fp64;
  std::vector<int64_t> int64;
  std::vector<int32_t> int32;
  std::vector<uint8_t> boolean;  // 0 or 1, one byte each (BOOL on the wire).
  std::vector<std::string> bytes;

  // shape[0], or 0 for a tensor without a shape.
  int64_t rows() const;
  // The product of the dimensions after the first (1 for a rank-1 tensor).
  int64_t ElementsPerRow() const;
  // The number of elements held by the vector of `type`.
  int64_t ElementCount() const;
};

// Rows to score, or their answers: one Tensor per signature input (or output), in signature
// order, all with the same number of rows.
struct TensorBatch {
  std::vector<Tensor> tensors;
  int64_t rows = 0;
};

// Appends the rows of `parts`, in order, into one batch. INVALID_ARGUMENT when the parts differ
// in tensor count, names, types or per-row shapes (the batcher only joins requests already
// validated against the same signature, so this is a bug guard, not user input).
absl::StatusOr<TensorBatch> ConcatRows(const std::vector<const TensorBatch*>& parts);

// Rows [begin, begin + count) of `batch`, every tensor sliced alike. OUT_OF_RANGE when the range
// is not inside the batch.
absl::StatusOr<TensorBatch> SliceRows(const TensorBatch& batch, int64_t begin, int64_t count);

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_TENSOR_BATCH_H_
