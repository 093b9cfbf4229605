#ifndef FABRIQUE_LIBS_FEATURES_CATALOG_DERIVED_FEATURES_H_
#define FABRIQUE_LIBS_FEATURES_CATALOG_DERIVED_FEATURES_H_

// The derived features of a group (FeatureSpec.expression), compiled once per definition and kept
// with its ValidationPlan, so that ingest evaluates them without parsing anything.
//
// A derived feature reads the group's features that are not derived, and the derived ones listed
// before it; never itself or a later one, so that every batch computes them in spec order. Its
// expression's result must fit the declared type: INT64 into INT64, DOUBLE or FLOAT; DOUBLE into
// DOUBLE or FLOAT; BOOL into BOOL; STRING into STRING. FLOAT_VECTOR features cannot be derived,
// nor read by an expression.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fabrique/v1/features.pb.h"
#include "libs/features/expressions/expression.h"

namespace fabrique::features {

struct DerivedFeature {
  int32_t index = 0;  // In the group's spec.
  std::string name;
  v1::FeatureType type = v1::FEATURE_TYPE_UNSPECIFIED;  // Declared; the column ingest writes.
  std::unique_ptr<const Expression> expression;
};

// Compiles the derived features of `spec`, in spec order (empty when it has none).
// INVALID_ARGUMENT naming the group and the feature, with the expression's own error (its text
// and position) or the type that does not fit.
absl::StatusOr<std::vector<DerivedFeature>> CompileDerivedFeatures(
    const v1::FeatureGroupSpec& spec);

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_CATALOG_DERIVED_FEATURES_H_
