#include "libs/features/catalog/classification.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace fabrique::features {
namespace {

std::string Name(v1::Sensitivity sensitivity) {
  return v1::Sensitivity_IsValid(sensitivity) ? v1::Sensitivity_Name(sensitivity)
                                              : absl::StrCat(static_cast<int>(sensitivity));
}

// Why `desired` may not change `stored` through an apply, or "" when it does not change it.
std::string Change(absl::string_view what, v1::Sensitivity stored, v1::Sensitivity desired) {
  if (desired == v1::SENSITIVITY_UNSPECIFIED || desired == stored) return "";
  return absl::StrCat(what, " would change sensitivity from ", Name(stored), " to ", Name(desired));
}

}  // namespace

v1::Sensitivity GroupSensitivity(const v1::FeatureGroupSpec& group) {
  return group.sensitivity() == v1::SENSITIVITY_UNSPECIFIED ? v1::SENSITIVITY_INTERNAL
                                                            : group.sensitivity();
}

v1::Sensitivity EffectiveSensitivity(const v1::FeatureGroupSpec& group,
                                     const v1::FeatureSpec& feature) {
  return feature.sensitivity() == v1::SENSITIVITY_UNSPECIFIED ? GroupSensitivity(group)
                                                              : feature.sensitivity();
}

std::vector<std::string> PersonalFeatures(const v1::FeatureGroupSpec& group) {
  std::vector<std::string> names;
  for (const v1::FeatureSpec& feature : group.features()) {
    if (EffectiveSensitivity(group, feature) == v1::SENSITIVITY_PERSONAL_DATA) {
      names.push_back(feature.name());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

void AddIfPersonal(const std::vector<std::string>& personal, absl::string_view feature,
                   std::vector<std::string>* out) {
  if (!std::binary_search(personal.begin(), personal.end(), feature)) return;
  auto at = std::lower_bound(out->begin(), out->end(), feature);
  if (at == out->end() || *at != feature) out->insert(at, std::string(feature));
}

absl::StatusOr<v1::FeatureGroupSpec> KeepClassification(const v1::FeatureGroup* current,
                                                        v1::FeatureGroupSpec desired) {
  static const v1::FeatureGroupSpec* const kNone = new v1::FeatureGroupSpec();
  const v1::FeatureGroupSpec& stored = current == nullptr ? *kNone : current->spec();
  std::vector<std::string> problems;
  if (std::string problem = Change("the group", stored.sensitivity(), desired.sensitivity());
      !problem.empty()) {
    problems.push_back(std::move(problem));
  }
  desired.set_sensitivity(stored.sensitivity());
  desired.set_sensitivity_reason(stored.sensitivity_reason());
  absl::flat_hash_map<absl::string_view, const v1::FeatureSpec*> kept;
  for (const v1::FeatureSpec& feature : stored.features()) kept[feature.name()] = &feature;
  for (v1::FeatureSpec& feature : *desired.mutable_features()) {
    auto it = kept.find(feature.name());
    const v1::Sensitivity was =
        it == kept.end() ? v1::SENSITIVITY_UNSPECIFIED : it->second->sensitivity();
    if (std::string problem =
            Change(absl::StrCat("feature \"", feature.name(), "\""), was, feature.sensitivity());
        !problem.empty()) {
      problems.push_back(std::move(problem));
    }
    feature.set_sensitivity(was);
    feature.set_sensitivity_reason(it == kept.end() ? "" : it->second->sensitivity_reason());
  }
  if (problems.empty()) return desired;
  return absl::FailedPreconditionError(absl::StrCat(
      "feature group \"", desired.name(), "\": ", absl::StrJoin(problems, "; "),
      ". Sensitivity is the data steward's to set, with ClassifyFeatures (features.classify); "
      "leave it out of the spec, or as it is stored"));
}

absl::StatusOr<v1::FeatureGroupSpec> Classified(const v1::FeatureGroupSpec& current,
                                                const v1::ClassifyFeaturesRequest& request) {
  if (!v1::Sensitivity_IsValid(request.sensitivity())) {
    return absl::InvalidArgumentError(absl::StrCat("sensitivity ", Name(request.sensitivity()),
                                                   " is not one of the Sensitivity values"));
  }
  if (request.reason().empty()) {
    return absl::InvalidArgumentError(
        "ClassifyFeaturesRequest.reason is required: say why, it is kept with the "
        "classification");
  }
  v1::FeatureGroupSpec next = current;
  if (request.feature().empty()) {
    next.set_sensitivity(request.sensitivity());
    next.set_sensitivity_reason(request.reason());
    return next;
  }
  for (v1::FeatureSpec& feature : *next.mutable_features()) {
    if (feature.name() != request.feature()) continue;
    feature.set_sensitivity(request.sensitivity());
    feature.set_sensitivity_reason(request.reason());
    return next;
  }
  return absl::NotFoundError(absl::StrCat("feature group \"", current.name(),
                                          "\" has no feature \"", request.feature(), "\""));
}

}  // namespace fabrique::features
