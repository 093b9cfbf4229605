#ifndef FABRIQUE_LIBS_FEATURES_CATALOG_SPEC_VALIDATION_H_
#define FABRIQUE_LIBS_FEATURES_CATALOG_SPEC_VALIDATION_H_

// Checks of a definition on its own, before the catalog compares it with what is stored: names,
// types, duplicates, durations and expectations that contradict their feature's type. Each error
// is INVALID_ARGUMENT naming the definition, the feature and what to fix, so that
// `fabrique features apply FILE` can be corrected from the message alone.
//
// What needs the rest of the catalog (the entity exists, the schema may evolve that way) is
// checked by Catalog and schema_evolution.h.

#include "absl/status/status.h"
#include "fabrique/v1/features.pb.h"

namespace fabrique::features {

// OK when the entity's name and join key follow the naming rule.
absl::Status ValidateEntity(const v1::Entity& entity);

// OK when the group's name and entity name follow the naming rule, it has at least one feature,
// every feature has a valid unique name and a type, TTL and retention are non-negative, and every
// feature's expectations fit its type.
absl::Status ValidateFeatureGroupSpec(const v1::FeatureGroupSpec& spec);

// OK when `expectations` fit a feature of `type`: min/max only for numeric types, not NaN,
// min <= max; max_string_length only for strings and >= 0; allowed values only for string,
// int64 and bool, each non-null and of the feature's type; `finite` only for float, double and
// float vectors. Messages start with what is wrong (the caller prefixes the feature).
absl::Status ValidateExpectations(v1::FeatureType type,
                                  const v1::FeatureExpectations& expectations);

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_CATALOG_SPEC_VALIDATION_H_
