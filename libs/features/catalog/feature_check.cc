#include "libs/features/catalog/feature_check.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "libs/features/catalog/feature_types.h"

namespace fabrique::features {
namespace {

constexpr v1::RejectReason kOk = v1::REJECT_REASON_UNSPECIFIED;

// Applies `value_check` to each non-null value; nulls are rejected only when the feature is
// not_null. Two loops, so that the common column without nulls runs without reading is_null.
template <typename Values, typename ValueCheck>
void Scan(const Values& values, int64_t rows, const v1::ValueColumn& column,
          const FeatureCheck& check, int32_t feature, RowMarks marks, ValueCheck value_check) {
  if (column.is_null().empty()) {
    if (!check.checks_values) return;
    for (int64_t i = 0; i < rows; ++i) {
      const v1::RejectReason reason = value_check(values[i]);
      if (reason != kOk) marks.Mark(i, reason, feature);
    }
    return;
  }
  const bool* nulls = column.is_null().data();
  for (int64_t i = 0; i < rows; ++i) {
    if (nulls[i]) {
      if (check.not_null) marks.Mark(i, v1::REJECT_REASON_NULL_VALUE, feature);
      continue;
    }
    if (!check.checks_values) continue;
    const v1::RejectReason reason = value_check(values[i]);
    if (reason != kOk) marks.Mark(i, reason, feature);
  }
}

// Bounds and finiteness of one float or double. The fields are copied into the lambdas that
// call it so that the compiler keeps them in registers (the byte stores of RowMarks could alias
// anything reached through a pointer).
inline v1::RejectReason CheckReal(double value, bool finite, double min, double max) {
  if (finite && !std::isfinite(value)) return v1::REJECT_REASON_NOT_FINITE;
  if (value < min) return v1::REJECT_REASON_BELOW_MIN;
  if (value > max) return v1::REJECT_REASON_ABOVE_MAX;
  return kOk;
}

void CheckStrings(const FeatureCheck& check, const v1::ValueColumn& column, int32_t feature,
                  RowMarks marks) {
  const auto& values = column.string_values().values();
  const size_t max_length = check.max_string_length;
  const bool has_allowed = check.has_allowed;
  const auto* allowed = &check.allowed_strings;
  Scan(values, values.size(), column, check, feature, marks,
       [max_length, has_allowed, allowed](const std::string& value) {
         if (max_length != 0 && value.size() > max_length) {
           return v1::REJECT_REASON_STRING_TOO_LONG;
         }
         if (has_allowed && !allowed->contains(absl::string_view(value))) {
           return v1::REJECT_REASON_NOT_ALLOWED;
         }
         return kOk;
       });
}

void CheckVectors(const FeatureCheck& check, const v1::ValueColumn& column, int32_t feature,
                  RowMarks marks) {
  const auto& values = column.float_vector_values().values();
  const int32_t length = check.vector_length;
  const bool finite = check.finite;
  Scan(values, values.size(), column, check, feature, marks,
       [length, finite](const v1::FloatVector& vector) {
         if (length != 0 && vector.values_size() != length) {
           return v1::REJECT_REASON_WRONG_VECTOR_LENGTH;
         }
         if (finite) {
           for (float element : vector.values()) {
             if (!std::isfinite(element)) return v1::REJECT_REASON_NOT_FINITE;
           }
         }
         return kOk;
       });
}

void CheckInt64s(const FeatureCheck& check, const v1::ValueColumn& column, int32_t feature,
                 RowMarks marks) {
  const auto& values = column.int64_values().values();
  const double min = check.min, max = check.max;
  const bool has_allowed = check.has_allowed;
  const auto* allowed = &check.allowed_int64s;
  Scan(values.data(), values.size(), column, check, feature, marks,
       [min, max, has_allowed, allowed](int64_t value) {
         const double real = static_cast<double>(value);
         if (real < min) return v1::REJECT_REASON_BELOW_MIN;
         if (real > max) return v1::REJECT_REASON_ABOVE_MAX;
         if (has_allowed && !allowed->contains(value)) return v1::REJECT_REASON_NOT_ALLOWED;
         return kOk;
       });
}

// The value at `row` of `column`, as text for a message.
std::string ValueText(const v1::ValueColumn& column, int64_t row) {
  v1::Value value;
  switch (column.values_case()) {
    case v1::ValueColumn::kFloatValues:
      value.set_float_value(column.float_values().values(row));
      break;
    case v1::ValueColumn::kDoubleValues:
      value.set_double_value(column.double_values().values(row));
      break;
    case v1::ValueColumn::kInt64Values:
      value.set_int64_value(column.int64_values().values(row));
      break;
    case v1::ValueColumn::kBoolValues:
      value.set_bool_value(column.bool_values().values(row));
      break;
    case v1::ValueColumn::kStringValues:
      return QuoteShort(column.string_values().values(row));
    default:
      break;
  }
  return DescribeValue(value);
}

// The first non-finite element of the vector at `row`, as "[i] = value".
std::string FirstNonFinite(const v1::ValueColumn& column, int64_t row) {
  const auto& elements = column.float_vector_values().values(row).values();
  for (int i = 0; i < elements.size(); ++i) {
    if (!std::isfinite(elements[i])) return absl::StrCat("[", i, "] = ", elements[i]);
  }
  return "";
}

}  // namespace

FeatureCheck FeatureCheck::FromSpec(const v1::FeatureSpec& spec) {
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  const v1::FeatureExpectations& expectations = spec.expectations();
  FeatureCheck check;
  check.name = spec.name();
  check.type = spec.type();
  check.not_null = expectations.not_null();
  check.finite = expectations.finite();
  check.has_bounds = expectations.has_min_value() || expectations.has_max_value();
  check.min = expectations.has_min_value() ? expectations.min_value().value() : -kInfinity;
  check.max = expectations.has_max_value() ? expectations.max_value().value() : kInfinity;
  check.max_string_length = static_cast<size_t>(std::max(0, expectations.max_string_length()));
  check.vector_length = spec.vector_length();
  check.has_allowed = !expectations.allowed_values().empty();
  if (check.has_allowed) {
    check.allow_true = check.allow_false = false;
    for (const v1::Value& value : expectations.allowed_values()) {
      if (value.has_string_value()) check.allowed_strings.insert(value.string_value());
      if (value.has_int64_value()) check.allowed_int64s.insert(value.int64_value());
      if (value.has_bool_value())
        (value.bool_value() ? check.allow_true : check.allow_false) = true;
    }
  }
  check.checks_values = check.finite || check.has_bounds || check.max_string_length != 0 ||
                        check.vector_length != 0 || check.has_allowed;
  return check;
}

void CheckColumn(const FeatureCheck& check, const v1::ValueColumn& column, int32_t feature,
                 RowMarks marks) {
  const bool finite = check.finite;
  const double min = check.min, max = check.max;
  switch (check.type) {
    case v1::FEATURE_TYPE_FLOAT: {
      const auto& values = column.float_values().values();
      Scan(values.data(), values.size(), column, check, feature, marks,
           [=](float value) { return CheckReal(value, finite, min, max); });
      return;
    }
    case v1::FEATURE_TYPE_DOUBLE: {
      const auto& values = column.double_values().values();
      Scan(values.data(), values.size(), column, check, feature, marks,
           [=](double value) { return CheckReal(value, finite, min, max); });
      return;
    }
    case v1::FEATURE_TYPE_INT64:
      return CheckInt64s(check, column, feature, marks);
    case v1::FEATURE_TYPE_BOOL: {
      const auto& values = column.bool_values().values();
      const bool allow_true = check.allow_true, allow_false = check.allow_false;
      Scan(values.data(), values.size(), column, check, feature, marks, [=](bool value) {
        return (value ? allow_true : allow_false) ? kOk : v1::REJECT_REASON_NOT_ALLOWED;
      });
      return;
    }
    case v1::FEATURE_TYPE_STRING:
      return CheckStrings(check, column, feature, marks);
    case v1::FEATURE_TYPE_FLOAT_VECTOR:
      return CheckVectors(check, column, feature, marks);
    default:
      return;
  }
}

std::string DescribeProblem(const FeatureCheck& check, const v1::ValueColumn* column, int64_t row,
                            v1::RejectReason reason) {
  const std::string& name = check.name;
  switch (reason) {
    case v1::REJECT_REASON_NULL_VALUE:
      return absl::StrCat(name, " is null", column == nullptr ? " (absent from the batch)" : "",
                          " but the feature is not_null");
    case v1::REJECT_REASON_BELOW_MIN:
      return absl::StrCat(name, " = ", ValueText(*column, row), " < min ", check.min);
    case v1::REJECT_REASON_ABOVE_MAX:
      return absl::StrCat(name, " = ", ValueText(*column, row), " > max ", check.max);
    case v1::REJECT_REASON_NOT_ALLOWED:
      return absl::StrCat(name, " = ", ValueText(*column, row), " is not an allowed value");
    case v1::REJECT_REASON_STRING_TOO_LONG:
      return absl::StrCat(name, " is ", column->string_values().values(row).size(),
                          " bytes long, more than max_string_length ", check.max_string_length);
    case v1::REJECT_REASON_NOT_FINITE:
      if (check.type == v1::FEATURE_TYPE_FLOAT_VECTOR) {
        return absl::StrCat(name, FirstNonFinite(*column, row), " is not finite");
      }
      return absl::StrCat(name, " = ", ValueText(*column, row), " is not finite");
    case v1::REJECT_REASON_WRONG_VECTOR_LENGTH:
      return absl::StrCat(name, " has ", column->float_vector_values().values(row).values_size(),
                          " elements, expected vector_length ", check.vector_length);
    default:
      return absl::StrCat(name, ": ", v1::RejectReason_Name(reason));
  }
}

}  // namespace fabrique::features
