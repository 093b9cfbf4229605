#include "libs/monitoring/reference/profile_check.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "libs/monitoring/sketch/column_summary.h"

namespace fabrique::monitoring {
namespace {

absl::Status CheckColumn(const v1::DistributionProfile& column, const std::string& where) {
  if (column.name().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, " has no name"));
  }
  const std::string named = absl::StrCat(where, " '", column.name(), "'");
  if (column.summary_case() == v1::DistributionProfile::SUMMARY_NOT_SET) {
    return absl::InvalidArgumentError(
        absl::StrCat(named,
                     " has no summary (numeric or categorical): drift cannot be measured "
                     "against it"));
  }
  if (column.count() < 0 || column.missing_rate() < 0 || column.missing_rate() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(named, " has a negative count or a missing rate outside 0..1"));
  }
  // Reading it as the drift reports will is the check that counts.
  if (absl::StatusOr<ColumnSummary> read = ColumnSummary::FromProto(column); !read.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(named, ": ", read.status().message()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckProfile(const v1::ReferenceProfile& profile, bool needs_version) {
  if (needs_version &&
      (profile.model_version().model().empty() || profile.model_version().version() < 1)) {
    return absl::InvalidArgumentError(
        "a reference profile needs model_version (a model and a version >= 1)");
  }
  if (profile.row_count() < 0) {
    return absl::InvalidArgumentError("a reference profile's row_count cannot be negative");
  }
  for (int i = 0; i < profile.features_size(); ++i) {
    absl::Status checked = CheckColumn(profile.features(i), absl::StrCat("features[", i, "]"));
    if (!checked.ok()) return checked;
  }
  for (int i = 0; i < profile.predictions_size(); ++i) {
    absl::Status checked =
        CheckColumn(profile.predictions(i), absl::StrCat("predictions[", i, "]"));
    if (!checked.ok()) return checked;
  }
  if (profile.has_label() &&
      profile.label().summary_case() != v1::DistributionProfile::SUMMARY_NOT_SET) {
    if (absl::StatusOr<ColumnSummary> read = ColumnSummary::FromProto(profile.label());
        !read.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("label: ", read.status().message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace fabrique::monitoring
