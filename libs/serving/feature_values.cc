#include "libs/serving/feature_values.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace fabrique::serving {

v1::FeatureType TypeOfValues(const v1::ValueColumn& values) {
  switch (values.values_case()) {
    case v1::ValueColumn::kFloatValues:
      return v1::FEATURE_TYPE_FLOAT;
    case v1::ValueColumn::kDoubleValues:
      return v1::FEATURE_TYPE_DOUBLE;
    case v1::ValueColumn::kInt64Values:
      return v1::FEATURE_TYPE_INT64;
    case v1::ValueColumn::kBoolValues:
      return v1::FEATURE_TYPE_BOOL;
    case v1::ValueColumn::kStringValues:
      return v1::FEATURE_TYPE_STRING;
    case v1::ValueColumn::kFloatVectorValues:
      return v1::FEATURE_TYPE_FLOAT_VECTOR;
    case v1::ValueColumn::VALUES_NOT_SET:
      break;
  }
  return v1::FEATURE_TYPE_UNSPECIFIED;
}

std::string FeatureRefText(const v1::FeatureRef& ref) {
  return ref.group().empty() ? ref.feature() : absl::StrCat(ref.group(), ":", ref.feature());
}

int64_t ValueCount(const v1::ValueColumn& values) {
  switch (values.values_case()) {
    case v1::ValueColumn::kFloatValues:
      return values.float_values().values_size();
    case v1::ValueColumn::kDoubleValues:
      return values.double_values().values_size();
    case v1::ValueColumn::kInt64Values:
      return values.int64_values().values_size();
    case v1::ValueColumn::kBoolValues:
      return values.bool_values().values_size();
    case v1::ValueColumn::kStringValues:
      return values.string_values().values_size();
    case v1::ValueColumn::kFloatVectorValues:
      return values.float_vector_values().values_size();
    case v1::ValueColumn::VALUES_NOT_SET:
      break;
  }
  return 0;
}

std::string FeatureTypeText(v1::FeatureType type) {
  const std::string& name = v1::FeatureType_Name(type);
  const std::string prefix = "FEATURE_TYPE_";
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

bool FeedsInput(v1::FeatureType type, DataType input, int64_t width) {
  switch (type) {
    case v1::FEATURE_TYPE_FLOAT:
    case v1::FEATURE_TYPE_DOUBLE:
    case v1::FEATURE_TYPE_INT64:
    case v1::FEATURE_TYPE_BOOL:
      return input == DataType::kFp32 && width == 1;
    case v1::FEATURE_TYPE_FLOAT_VECTOR:
      return input == DataType::kFp32;
    case v1::FEATURE_TYPE_STRING:
      return input == DataType::kBytes && width == 1;
    default:
      return false;
  }
}

bool IsNullAt(const v1::ValueColumn& values, int row) {
  return row < values.is_null_size() && values.is_null(row);
}

absl::Status AppendValue(const v1::ValueColumn& values, int row, int64_t width, Tensor* tensor) {
  std::vector<float>& out = tensor->fp32;
  switch (values.values_case()) {
    case v1::ValueColumn::kFloatValues:
      out.push_back(values.float_values().values(row));
      break;
    case v1::ValueColumn::kDoubleValues:
      out.push_back(static_cast<float>(values.double_values().values(row)));
      break;
    case v1::ValueColumn::kInt64Values:
      out.push_back(static_cast<float>(values.int64_values().values(row)));
      break;
    case v1::ValueColumn::kBoolValues:
      out.push_back(values.bool_values().values(row) ? 1.0f : 0.0f);
      break;
    case v1::ValueColumn::kStringValues:
      tensor->bytes.push_back(values.string_values().values(row));
      break;
    case v1::ValueColumn::kFloatVectorValues: {
      const auto& vector = values.float_vector_values().values(row).values();
      if (vector.size() != width) {
        return absl::InvalidArgumentError(
            absl::StrCat("a vector of ", vector.size(), " elements where the model takes ", width));
      }
      out.insert(out.end(), vector.begin(), vector.end());
      break;
    }
    case v1::ValueColumn::VALUES_NOT_SET:
      AppendMissing(width, tensor);
      break;
  }
  return absl::OkStatus();
}

void AppendMissing(int64_t width, Tensor* tensor) {
  if (tensor->type == DataType::kBytes) {
    tensor->bytes.emplace_back();
  } else {
    tensor->fp32.insert(tensor->fp32.end(), width, std::nanf(""));
  }
}

std::vector<v1::Value> FedValues(const TensorBatch& inputs, int64_t row) {
  std::vector<v1::Value> values;
  for (const Tensor& tensor : inputs.tensors) {
    v1::Value& value = values.emplace_back();
    const int64_t width = tensor.ElementsPerRow();
    const int64_t begin = row * width;
    if (tensor.type == DataType::kBytes) {
      if (begin < static_cast<int64_t>(tensor.bytes.size()))
        value.set_string_value(tensor.bytes[begin]);
      continue;
    }
    if (tensor.type != DataType::kFp32 ||
        begin + width > static_cast<int64_t>(tensor.fp32.size())) {
      continue;
    }
    const auto first = tensor.fp32.begin() + begin;
    if (std::all_of(first, first + width, [](float x) { return std::isnan(x); })) continue;
    if (width == 1) {
      value.set_float_value(*first);
    } else {
      value.mutable_float_vector_value()->mutable_values()->Add(first, first + width);
    }
  }
  return values;
}

}  // namespace fabrique::serving
