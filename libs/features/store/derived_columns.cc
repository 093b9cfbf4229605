#include "libs/features/store/derived_columns.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"

namespace fabrique::features {
namespace {

// Converts an expression's result to the feature's declared type: an INT64 or DOUBLE result
// into a DOUBLE or FLOAT feature (the catalog allows no other difference).
void ToDeclaredType(v1::FeatureType declared, v1::ValueColumn* column) {
  if (declared == v1::FEATURE_TYPE_DOUBLE && column->has_int64_values()) {
    v1::Int64List ints = std::move(*column->mutable_int64_values());
    auto* doubles = column->mutable_double_values()->mutable_values();
    doubles->Reserve(ints.values_size());
    for (int64_t value : ints.values()) doubles->AddAlreadyReserved(static_cast<double>(value));
  } else if (declared == v1::FEATURE_TYPE_FLOAT &&
             (column->has_int64_values() || column->has_double_values())) {
    google::protobuf::RepeatedField<float> floats;
    if (column->has_int64_values()) {
      for (int64_t value : column->int64_values().values()) floats.Add(static_cast<float>(value));
    } else {
      for (double value : column->double_values().values()) floats.Add(static_cast<float>(value));
    }
    column->mutable_float_values()->mutable_values()->Swap(&floats);
  }
}

void AddWarning(const DerivedFeature& feature, const char* kind, const char* what, int64_t count,
                std::vector<v1::IngestWarning>* warnings) {
  if (count == 0) return;
  v1::IngestWarning& warning = warnings->emplace_back();
  warning.set_feature(feature.name);
  warning.set_kind(kind);
  warning.set_count(count);
  warning.set_message(absl::StrCat(feature.name, " = ", feature.expression->text(), ": ", what,
                                   " in ", count, count == 1 ? " row" : " rows"));
}

}  // namespace

absl::StatusOr<DerivedColumns> DerivedColumns::Compute(const ValidationPlan& plan,
                                                       const v1::RowBatch& rows) {
  DerivedColumns result(&rows);
  if (plan.derived().empty()) return result;
  for (const v1::FeatureColumn& column : rows.columns()) {
    const int32_t index = plan.FeatureIndex(column.feature().feature());
    if (index < 0) continue;  // Validation names unknown features.
    const v1::FeatureSpec& feature = plan.group().spec().features(index);
    if (feature.expression().empty()) continue;
    return absl::InvalidArgumentError(
        absl::StrCat("feature \"", feature.name(), "\" of group \"", plan.group().spec().name(),
                     "\" is derived (computed at ingest as ", feature.expression(),
                     "); remove its column from the batch"));
  }
  result.extended_ = std::make_unique<v1::RowBatch>(rows);
  for (const DerivedFeature& feature : plan.derived()) {
    v1::ValueColumn values;
    ExpressionWarnings warnings;
    RETURN_IF_ERROR(
        core::WithContext(feature.expression->Evaluate(*result.extended_, &values, &warnings),
                          absl::StrCat("computing derived feature \"", feature.name, "\"")));
    ToDeclaredType(feature.type, &values);
    v1::FeatureColumn* column = result.extended_->add_columns();
    column->mutable_feature()->set_feature(feature.name);
    *column->mutable_values() = std::move(values);
    AddWarning(feature, "division_by_zero", "division by zero", warnings.division_by_zero,
               &result.warnings_);
    AddWarning(feature, "domain", "log1p() of a value <= -1", warnings.domain, &result.warnings_);
  }
  return result;
}

}  // namespace fabrique::features
