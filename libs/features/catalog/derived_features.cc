#include "libs/features/catalog/derived_features.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/features/catalog/feature_types.h"

namespace fabrique::features {
namespace {

bool Fits(v1::FeatureType result, v1::FeatureType declared) {
  if (result == declared) return true;
  const bool floating = declared == v1::FEATURE_TYPE_DOUBLE || declared == v1::FEATURE_TYPE_FLOAT;
  return floating && (result == v1::FEATURE_TYPE_INT64 || result == v1::FEATURE_TYPE_DOUBLE);
}

absl::Status CheckDeclaredType(const v1::FeatureSpec& feature, const Expression& expression) {
  if (feature.type() == v1::FEATURE_TYPE_FLOAT_VECTOR) {
    return absl::InvalidArgumentError(
        "is a float_vector, which an expression cannot compute; declare int64, float, double, "
        "bool or string");
  }
  if (Fits(expression.result_type(), feature.type())) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "expression \"", expression.text(), "\" gives ", FeatureTypeName(expression.result_type()),
      ", which does not fit the declared type ", FeatureTypeName(feature.type())));
}

}  // namespace

absl::StatusOr<std::vector<DerivedFeature>> CompileDerivedFeatures(
    const v1::FeatureGroupSpec& spec) {
  std::vector<DerivedFeature> derived;
  absl::flat_hash_map<std::string, v1::FeatureType> readable;
  for (const v1::FeatureSpec& feature : spec.features()) {
    if (feature.expression().empty()) readable[feature.name()] = feature.type();
  }
  for (int32_t i = 0; i < spec.features_size(); ++i) {
    const v1::FeatureSpec& feature = spec.features(i);
    if (feature.expression().empty()) continue;
    const std::string context =
        absl::StrCat("feature group \"", spec.name(), "\": feature \"", feature.name(), "\"");
    absl::StatusOr<std::unique_ptr<Expression>> compiled =
        Expression::Compile(feature.expression(), readable);
    if (!compiled.ok()) return core::WithContext(compiled.status(), context);
    RETURN_IF_ERROR(core::WithContext(CheckDeclaredType(feature, **compiled), context));
    // Readable by the derived features listed after this one.
    readable[feature.name()] = feature.type();
    derived.push_back(DerivedFeature{i, feature.name(), feature.type(), *std::move(compiled)});
  }
  return derived;
}

}  // namespace fabrique::features
