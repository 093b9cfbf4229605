#include "libs/serving/tensor_batch.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace fabrique::serving {
namespace {

struct TypeName {
  DataType type;
  absl::string_view name;
};
constexpr TypeName kTypeNames[] = {{DataType::kBool, "BOOL"},   {DataType::kInt32, "INT32"},
                                   {DataType::kInt64, "INT64"}, {DataType::kFp32, "FP32"},
                                   {DataType::kFp64, "FP64"},   {DataType::kBytes, "BYTES"}};

// Calls `f` with the pointer to the element vector of `type` in Tensor, so each operation below
// is written once for all six types (on one tensor or on two of the same type).
template <typename F>
auto WithMember(DataType type, F&& f) {
  switch (type) {
    case DataType::kBool:
      return f(&Tensor::boolean);
    case DataType::kInt32:
      return f(&Tensor::int32);
    case DataType::kInt64:
      return f(&Tensor::int64);
    case DataType::kFp64:
      return f(&Tensor::fp64);
    case DataType::kBytes:
      return f(&Tensor::bytes);
    case DataType::kFp32:
      break;
  }
  return f(&Tensor::fp32);
}

// INVALID_ARGUMENT unless `tensor` has `reference`'s name, type and per-row shape.
absl::Status CheckSameKind(const Tensor& reference, const Tensor& tensor) {
  if (tensor.name != reference.name || tensor.type != reference.type ||
      tensor.shape.size() != reference.shape.size() ||
      !std::equal(tensor.shape.begin() + (tensor.shape.empty() ? 0 : 1), tensor.shape.end(),
                  reference.shape.begin() + (reference.shape.empty() ? 0 : 1))) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot join rows of tensor '", tensor.name, "' (", DataTypeName(tensor.type),
                     ") to rows of tensor '", reference.name, "' (", DataTypeName(reference.type),
                     ") with another shape"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DataType> ParseDataType(absl::string_view name) {
  for (const TypeName& entry : kTypeNames) {
    if (entry.name == name) return entry.type;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "datatype '", name, "' is not served; use BOOL, INT32, INT64, FP32, FP64 or BYTES"));
}

absl::string_view DataTypeName(DataType type) {
  for (const TypeName& entry : kTypeNames) {
    if (entry.type == type) return entry.name;
  }
  return "FP32";
}

int64_t Tensor::rows() const { return shape.empty() ? 0 : shape[0]; }

int64_t Tensor::ElementsPerRow() const {
  int64_t count = 1;
  for (size_t d = 1; d < shape.size(); ++d) count *= shape[d];
  return count;
}

int64_t Tensor::ElementCount() const {
  return WithMember(type, [&](auto member) { return int64_t((this->*member).size()); });
}

absl::StatusOr<TensorBatch> ConcatRows(const std::vector<const TensorBatch*>& parts) {
  TensorBatch joined;
  if (parts.empty()) return joined;
  joined.tensors.reserve(parts[0]->tensors.size());
  for (const Tensor& first : parts[0]->tensors) {
    Tensor& out = joined.tensors.emplace_back();
    out.name = first.name;
    out.type = first.type;
    out.shape = first.shape;
    if (!out.shape.empty()) out.shape[0] = 0;
  }
  for (const TensorBatch* part : parts) {
    if (part->tensors.size() != joined.tensors.size()) {
      return absl::InvalidArgumentError(absl::StrCat("cannot join a batch of ",
                                                     part->tensors.size(), " tensors to one of ",
                                                     joined.tensors.size()));
    }
    for (size_t t = 0; t < part->tensors.size(); ++t) {
      const Tensor& in = part->tensors[t];
      Tensor& out = joined.tensors[t];
      if (absl::Status same = CheckSameKind(out, in); !same.ok()) return same;
      WithMember(out.type, [&](auto member) {
        (out.*member).insert((out.*member).end(), (in.*member).begin(), (in.*member).end());
      });
      if (!out.shape.empty()) out.shape[0] += in.rows();
    }
    joined.rows += part->rows;
  }
  return joined;
}

absl::StatusOr<TensorBatch> SliceRows(const TensorBatch& batch, int64_t begin, int64_t count) {
  if (begin < 0 || count < 0 || begin + count > batch.rows) {
    return absl::OutOfRangeError(absl::StrCat("rows [", begin, ", ", begin + count,
                                              ") are not inside a batch of ", batch.rows));
  }
  TensorBatch slice;
  slice.rows = count;
  slice.tensors.reserve(batch.tensors.size());
  for (const Tensor& in : batch.tensors) {
    Tensor& out = slice.tensors.emplace_back();
    out.name = in.name;
    out.type = in.type;
    out.shape = in.shape;
    if (!out.shape.empty()) out.shape[0] = count;
    const int64_t per_row = in.ElementsPerRow();
    WithMember(in.type, [&](auto member) {
      const auto& source = in.*member;
      (out.*member)
          .assign(source.begin() + begin * per_row, source.begin() + (begin + count) * per_row);
    });
  }
  return slice;
}

}  // namespace fabrique::serving
