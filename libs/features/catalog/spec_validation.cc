#include "libs/features/catalog/spec_validation.h"

#include <cmath>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/features/catalog/feature_types.h"
#include "libs/features/catalog/names.h"

namespace fabrique::features {
namespace {

// A valid Duration that is not negative. Both fields are checked so that a malformed one
// (seconds and nanos of different signs, nanos out of range) is refused too.
absl::Status ValidateDuration(absl::string_view what, const google::protobuf::Duration& duration) {
  if (duration.seconds() < 0 || duration.nanos() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is negative (", duration.seconds(), "s); use 0 for no limit"));
  }
  if (duration.nanos() > 999'999'999) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " has nanos ", duration.nanos(), " out of range [0, 999999999]"));
  }
  return absl::OkStatus();
}

absl::Status ValidateBounds(v1::FeatureType type, const v1::FeatureExpectations& expectations) {
  const bool has_min = expectations.has_min_value();
  const bool has_max = expectations.has_max_value();
  if (!has_min && !has_max) return absl::OkStatus();
  if (!IsNumericType(type)) {
    return absl::InvalidArgumentError(
        absl::StrCat("min_value/max_value apply only to numeric features (float, double, int64), "
                     "not to ",
                     FeatureTypeName(type), "; remove them"));
  }
  const double min = expectations.min_value().value();
  const double max = expectations.max_value().value();
  if ((has_min && std::isnan(min)) || (has_max && std::isnan(max))) {
    return absl::InvalidArgumentError("min_value/max_value must not be NaN");
  }
  if (has_min && has_max && min > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("min_value ", min, " is greater than max_value ", max, "; swap them"));
  }
  return absl::OkStatus();
}

absl::Status ValidateAllowedValues(v1::FeatureType type,
                                   const v1::FeatureExpectations& expectations) {
  if (expectations.allowed_values().empty()) return absl::OkStatus();
  if (!SupportsAllowedValues(type)) {
    return absl::InvalidArgumentError(
        absl::StrCat("allowed_values apply only to string, int64 and bool features, not to ",
                     FeatureTypeName(type), "; use min_value/max_value instead"));
  }
  for (int i = 0; i < expectations.allowed_values_size(); ++i) {
    const v1::Value& value = expectations.allowed_values(i);
    if (ValueType(value) == type) continue;
    return absl::InvalidArgumentError(absl::StrCat(
        "allowed_values[", i, "] is ",
        value.kind_case() == v1::Value::KIND_NOT_SET ? "null" : FeatureTypeName(ValueType(value)),
        " (", DescribeValue(value), ") but the feature is ", FeatureTypeName(type),
        "; give values of the feature's type"));
  }
  return absl::OkStatus();
}

absl::Status ValidateFeature(const v1::FeatureSpec& feature) {
  if (feature.type() == v1::FEATURE_TYPE_UNSPECIFIED || !v1::FeatureType_IsValid(feature.type())) {
    return absl::InvalidArgumentError(
        "type is not specified; set one of float, double, int64, bool, string, float_vector");
  }
  if (feature.vector_length() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("vector_length ", feature.vector_length(), " is negative; 0 = any length"));
  }
  if (feature.vector_length() != 0 && feature.type() != v1::FEATURE_TYPE_FLOAT_VECTOR) {
    return absl::InvalidArgumentError(
        absl::StrCat("vector_length applies only to float_vector features, not to ",
                     FeatureTypeName(feature.type()), "; remove it"));
  }
  return ValidateExpectations(feature.type(), feature.expectations());
}

}  // namespace

absl::Status ValidateEntity(const v1::Entity& entity) {
  RETURN_IF_ERROR(ValidateName("entity name", entity.name()));
  return core::WithContext(ValidateName("join key", entity.join_key()),
                           absl::StrCat("entity \"", entity.name(), "\""));
}

absl::Status ValidateExpectations(v1::FeatureType type,
                                  const v1::FeatureExpectations& expectations) {
  RETURN_IF_ERROR(ValidateBounds(type, expectations));
  if (expectations.max_string_length() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_string_length ", expectations.max_string_length(), " is negative; 0 = no limit"));
  }
  if (expectations.max_string_length() > 0 && type != v1::FEATURE_TYPE_STRING) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_string_length applies only to string features, not to ",
                     FeatureTypeName(type), "; remove it"));
  }
  if (expectations.finite() && !IsFloatingType(type)) {
    return absl::InvalidArgumentError(
        absl::StrCat("finite applies only to float, double and float_vector features, not to ",
                     FeatureTypeName(type), "; remove it"));
  }
  return ValidateAllowedValues(type, expectations);
}

absl::Status ValidateFeatureGroupSpec(const v1::FeatureGroupSpec& spec) {
  RETURN_IF_ERROR(ValidateName("feature group name", spec.name()));
  const std::string context = absl::StrCat("feature group \"", spec.name(), "\"");
  RETURN_IF_ERROR(core::WithContext(ValidateName("entity name", spec.entity()), context));
  RETURN_IF_ERROR(core::WithContext(ValidateDuration("ttl", spec.ttl()), context));
  RETURN_IF_ERROR(core::WithContext(ValidateDuration("retention", spec.retention()), context));
  if (spec.features().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": has no features; add at least one"));
  }
  absl::flat_hash_set<absl::string_view> seen;
  for (int i = 0; i < spec.features_size(); ++i) {
    const v1::FeatureSpec& feature = spec.features(i);
    RETURN_IF_ERROR(core::WithContext(
        ValidateName(absl::StrCat("features[", i, "] name"), feature.name()), context));
    if (!seen.insert(feature.name()).second) {
      return absl::InvalidArgumentError(absl::StrCat(context, ": feature \"", feature.name(),
                                                     "\" is listed twice; names must be unique"));
    }
    RETURN_IF_ERROR(core::WithContext(ValidateFeature(feature),
                                      absl::StrCat(context, ": feature \"", feature.name(), "\"")));
  }
  return absl::OkStatus();
}

}  // namespace fabrique::features
