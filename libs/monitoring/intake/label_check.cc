#include "libs/monitoring/intake/label_check.h"

#include <cmath>
#include <optional>

#include "absl/strings/str_cat.h"

namespace fabrique::monitoring {
namespace {

// The label as a number, or nullopt when it is not one (strings, vectors, bools).
std::optional<double> Numeric(const v1::Value& label) {
  switch (label.kind_case()) {
    case v1::Value::kFloatValue:
      return label.float_value();
    case v1::Value::kDoubleValue:
      return label.double_value();
    case v1::Value::kInt64Value:
      return static_cast<double>(label.int64_value());
    default:
      return std::nullopt;
  }
}

absl::string_view KindName(const v1::Value& label) {
  switch (label.kind_case()) {
    case v1::Value::kFloatValue:
      return "float";
    case v1::Value::kDoubleValue:
      return "double";
    case v1::Value::kInt64Value:
      return "int64";
    case v1::Value::kBoolValue:
      return "bool";
    case v1::Value::kStringValue:
      return "string";
    case v1::Value::kFloatVectorValue:
      return "float vector";
    case v1::Value::KIND_NOT_SET:
      break;
  }
  return "missing";
}

absl::Status Wrong(const v1::Value& label, absl::string_view expected) {
  return absl::InvalidArgumentError(
      absl::StrCat("label is a ", KindName(label), ", expected ", expected));
}

absl::Status CheckBinary(const v1::Value& label) {
  if (label.kind_case() == v1::Value::kBoolValue) return absl::OkStatus();
  std::optional<double> number = Numeric(label);
  if (!number) return Wrong(label, "a bool or 0/1 for a binary classification model");
  if (*number != 0.0 && *number != 1.0) {
    return absl::InvalidArgumentError(
        absl::StrCat("label ", *number, " is not 0 or 1 for a binary classification model"));
  }
  return absl::OkStatus();
}

absl::Status CheckMulticlass(const v1::Value& label) {
  if (label.kind_case() == v1::Value::kStringValue) return absl::OkStatus();
  if (label.kind_case() != v1::Value::kInt64Value) {
    return Wrong(label, "a class name or index for a multiclass model");
  }
  if (label.int64_value() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("label ", label.int64_value(), " is a negative class index"));
  }
  return absl::OkStatus();
}

absl::Status CheckRegression(const v1::Value& label) {
  std::optional<double> number = Numeric(label);
  if (!number) return Wrong(label, "a number for a regression model");
  if (!std::isfinite(*number)) {
    return absl::InvalidArgumentError(
        absl::StrCat("label ", *number, " is not finite for a regression model"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckLabel(v1::Task task, const v1::Value& label) {
  if (label.kind_case() == v1::Value::KIND_NOT_SET) {
    return absl::InvalidArgumentError("label is missing");
  }
  if (label.kind_case() == v1::Value::kFloatVectorValue) {
    return Wrong(label, "a single value");
  }
  switch (task) {
    case v1::TASK_BINARY_CLASSIFICATION:
      return CheckBinary(label);
    case v1::TASK_MULTICLASS_CLASSIFICATION:
      return CheckMulticlass(label);
    case v1::TASK_REGRESSION:
      return CheckRegression(label);
    default:
      return absl::OkStatus();
  }
}

}  // namespace fabrique::monitoring
