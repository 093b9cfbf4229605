#include "libs/features/storage/row_schema.h"

#include <limits>

#include "absl/strings/str_cat.h"

namespace fabrique::features {

int64_t DurationMicros(const google::protobuf::Duration& duration) {
  constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / 1'000'000 - 1;
  if (duration.seconds() < 0 || (duration.seconds() == 0 && duration.nanos() <= 0)) return 0;
  if (duration.seconds() >= kMaxSeconds) return std::numeric_limits<int64_t>::max();
  return duration.seconds() * 1'000'000 + duration.nanos() / 1000;
}

absl::StatusOr<RowSchema> RowSchema::FromFeatureGroup(const v1::FeatureGroup& group) {
  const v1::FeatureGroupSpec& spec = group.spec();
  if (spec.name().empty()) {
    return absl::InvalidArgumentError("feature group has no name");
  }
  RowSchema schema;
  schema.group_ = spec.name();
  schema.version_ = group.schema_version();
  schema.ttl_micros_ = DurationMicros(spec.ttl());
  schema.retention_micros_ = DurationMicros(spec.retention());
  const int n = spec.features_size();
  schema.types_.reserve(n);
  schema.names_.reserve(n);
  schema.index_.reserve(n);
  int32_t previous_since = 0;
  for (int i = 0; i < n; ++i) {
    const v1::FeatureSpec& feature = spec.features(i);
    if (feature.name().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("feature #", i, " of group '", spec.name(), "' has no name"));
    }
    if (feature.type() == v1::FEATURE_TYPE_UNSPECIFIED ||
        !v1::FeatureType_IsValid(feature.type())) {
      return absl::InvalidArgumentError(
          absl::StrCat("feature '", spec.name(), ":", feature.name(), "' has no valid type"));
    }
    if (feature.since_version() < previous_since) {
      return absl::InvalidArgumentError(
          absl::StrCat("features of group '", spec.name(), "' are not in storage order: '",
                       feature.name(), "' (since version ", feature.since_version(),
                       ") follows a feature added in version ", previous_since));
    }
    previous_since = feature.since_version();
    if (!schema.index_.emplace(feature.name(), i).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("group '", spec.name(), "' lists feature '", feature.name(), "' twice"));
    }
    schema.types_.push_back(feature.type());
    schema.names_.push_back(feature.name());
  }
  return schema;
}

int RowSchema::IndexOf(absl::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? -1 : it->second;
}

}  // namespace fabrique::features
