#ifndef FABRIQUE_LIBS_FEATURES_CATALOG_CLASSIFICATION_H_
#define FABRIQUE_LIBS_FEATURES_CATALOG_CLASSIFICATION_H_

// Data classification: how sensitive each feature's data is. A group has a sensitivity (unset =
// INTERNAL) and each feature may set its own (unset = the group's). Only the data steward's
// ClassifyFeatures changes it; an apply of the group's schema keeps it, so a data engineer's
// spec file, which never mentions it, cannot declassify personal data by leaving it out.
//
//   EffectiveSensitivity(group.spec(), feature)      // never UNSPECIFIED
//   ASSIGN_OR_RETURN(spec, KeepClassification(current, desired));   // before planning an apply
//   ASSIGN_OR_RETURN(spec, Classified(current->spec(), request));   // ClassifyFeatures

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fabrique/v1/features.pb.h"

namespace fabrique::features {

// The group's sensitivity: its own, or INTERNAL when unset.
v1::Sensitivity GroupSensitivity(const v1::FeatureGroupSpec& group);
// The feature's sensitivity: its own, else its group's.
v1::Sensitivity EffectiveSensitivity(const v1::FeatureGroupSpec& group,
                                     const v1::FeatureSpec& feature);
// Names of the group's features whose sensitivity is PERSONAL_DATA, sorted.
std::vector<std::string> PersonalFeatures(const v1::FeatureGroupSpec& group);

// Adds `feature` to `out` (sorted, each once) when it is in `personal` (sorted).
void AddIfPersonal(const std::vector<std::string>& personal, absl::string_view feature,
                   std::vector<std::string>* out);

// `desired` with the classification of `current` (nullptr for a new group): an unset sensitivity
// takes the stored one and every reason is the stored one. FAILED_PRECONDITION naming the group
// or each feature whose sensitivity `desired` would change (a new feature's from unset).
absl::StatusOr<v1::FeatureGroupSpec> KeepClassification(const v1::FeatureGroup* current,
                                                        v1::FeatureGroupSpec desired);

// `current` after `request`: the group's or one feature's sensitivity and reason set.
// INVALID_ARGUMENT for an empty reason or a sensitivity outside the enum; NOT_FOUND naming a
// feature the group lacks.
absl::StatusOr<v1::FeatureGroupSpec> Classified(const v1::FeatureGroupSpec& current,
                                                const v1::ClassifyFeaturesRequest& request);

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_CATALOG_CLASSIFICATION_H_
