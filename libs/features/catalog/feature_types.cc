#include "libs/features/catalog/feature_types.h"

#include "absl/strings/str_cat.h"

namespace fabrique::features {
namespace {

// The three enums share their numbering (see feature_types.h).
static_assert(static_cast<int>(v1::FEATURE_TYPE_FLOAT) == v1::ValueColumn::kFloatValues &&
              static_cast<int>(v1::FEATURE_TYPE_DOUBLE) == v1::ValueColumn::kDoubleValues &&
              static_cast<int>(v1::FEATURE_TYPE_INT64) == v1::ValueColumn::kInt64Values &&
              static_cast<int>(v1::FEATURE_TYPE_BOOL) == v1::ValueColumn::kBoolValues &&
              static_cast<int>(v1::FEATURE_TYPE_STRING) == v1::ValueColumn::kStringValues &&
              static_cast<int>(v1::FEATURE_TYPE_FLOAT_VECTOR) ==
                  v1::ValueColumn::kFloatVectorValues);
static_assert(static_cast<int>(v1::FEATURE_TYPE_FLOAT) == v1::Value::kFloatValue &&
              static_cast<int>(v1::FEATURE_TYPE_DOUBLE) == v1::Value::kDoubleValue &&
              static_cast<int>(v1::FEATURE_TYPE_INT64) == v1::Value::kInt64Value &&
              static_cast<int>(v1::FEATURE_TYPE_BOOL) == v1::Value::kBoolValue &&
              static_cast<int>(v1::FEATURE_TYPE_STRING) == v1::Value::kStringValue &&
              static_cast<int>(v1::FEATURE_TYPE_FLOAT_VECTOR) == v1::Value::kFloatVectorValue);

constexpr size_t kShownBytes = 64;
constexpr int kShownElements = 4;

}  // namespace

absl::string_view FeatureTypeName(v1::FeatureType type) {
  switch (type) {
    case v1::FEATURE_TYPE_FLOAT:
      return "float";
    case v1::FEATURE_TYPE_DOUBLE:
      return "double";
    case v1::FEATURE_TYPE_INT64:
      return "int64";
    case v1::FEATURE_TYPE_BOOL:
      return "bool";
    case v1::FEATURE_TYPE_STRING:
      return "string";
    case v1::FEATURE_TYPE_FLOAT_VECTOR:
      return "float_vector";
    default:
      return "unspecified";
  }
}

bool IsNumericType(v1::FeatureType type) {
  return type == v1::FEATURE_TYPE_FLOAT || type == v1::FEATURE_TYPE_DOUBLE ||
         type == v1::FEATURE_TYPE_INT64;
}

bool IsFloatingType(v1::FeatureType type) {
  return type == v1::FEATURE_TYPE_FLOAT || type == v1::FEATURE_TYPE_DOUBLE ||
         type == v1::FEATURE_TYPE_FLOAT_VECTOR;
}

bool SupportsAllowedValues(v1::FeatureType type) {
  return type == v1::FEATURE_TYPE_STRING || type == v1::FEATURE_TYPE_INT64 ||
         type == v1::FEATURE_TYPE_BOOL;
}

v1::FeatureType ValueType(const v1::Value& value) {
  return static_cast<v1::FeatureType>(value.kind_case());
}

std::string QuoteShort(absl::string_view text) {
  if (text.size() <= kShownBytes) return absl::StrCat("\"", text, "\"");
  return absl::StrCat("\"", text.substr(0, kShownBytes), "...\"");
}

std::string DescribeValue(const v1::Value& value) {
  switch (value.kind_case()) {
    case v1::Value::kFloatValue:
      return absl::StrCat(value.float_value());
    case v1::Value::kDoubleValue:
      return absl::StrCat(value.double_value());
    case v1::Value::kInt64Value:
      return absl::StrCat(value.int64_value());
    case v1::Value::kBoolValue:
      return value.bool_value() ? "true" : "false";
    case v1::Value::kStringValue:
      return QuoteShort(value.string_value());
    case v1::Value::kFloatVectorValue: {
      const auto& values = value.float_vector_value().values();
      std::string out = "[";
      for (int i = 0; i < values.size() && i < kShownElements; ++i) {
        absl::StrAppend(&out, i == 0 ? "" : ", ", values[i]);
      }
      if (values.size() > kShownElements) absl::StrAppend(&out, ", ...");
      return absl::StrCat(out, "]");
    }
    default:
      return "null";
  }
}

}  // namespace fabrique::features
