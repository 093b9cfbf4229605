#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_ROW_SCHEMA_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_ROW_SCHEMA_H_

// RowSchema: what storage needs from a feature group's definition, compiled once per call from
// the fabrique::v1::FeatureGroup proto the catalog hands out: the features in storage order with
// their types, a name -> index map, the TTL and the retention.
//
// Storage order is the order of FeatureGroupSpec.features. Schema evolution only appends
// features (the catalog refuses removals and type changes), so feature i has the same type in
// every schema version that has it, and a row written under version v holds exactly the first
// n(v) features. That is what lets rows written under older versions be read under newer ones.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/features.pb.h"

namespace fabrique::features {

class RowSchema {
 public:
  // Compiles `group`. INVALID_ARGUMENT when it has no name, a feature without a name or type, a
  // duplicate feature name, or features whose since_version decreases (not in storage order).
  static absl::StatusOr<RowSchema> FromFeatureGroup(const v1::FeatureGroup& group);

  const std::string& group() const { return group_; }
  int32_t version() const { return version_; }
  // Number of features.
  int size() const { return static_cast<int>(types_.size()); }
  v1::FeatureType type(int index) const { return types_[index]; }
  const std::string& name(int index) const { return names_[index]; }
  // Index of the feature called `name`, or -1.
  int IndexOf(absl::string_view name) const;
  // Online values older than this are EXPIRED; 0 = never. Microseconds.
  int64_t ttl_micros() const { return ttl_micros_; }
  // History older than this is dropped by compaction; 0 = kept forever. Microseconds.
  int64_t retention_micros() const { return retention_micros_; }

 private:
  RowSchema() = default;

  std::string group_;
  int32_t version_ = 0;
  std::vector<v1::FeatureType> types_;
  std::vector<std::string> names_;
  absl::flat_hash_map<std::string, int> index_;
  int64_t ttl_micros_ = 0;
  int64_t retention_micros_ = 0;
};

// Whether a value of `event_time` is older than `ttl` at `now` (all microseconds): age = now -
// event_time > ttl. A ttl <= 0 never expires; an age too large for int64 expires.
inline bool IsExpired(int64_t now, int64_t event_time, int64_t ttl) {
  if (ttl <= 0) return false;
  int64_t age = 0;
  if (__builtin_sub_overflow(now, event_time, &age)) return event_time < now;
  return age > ttl;
}

// Microseconds of a google.protobuf.Duration (saturating; negative counts as 0 = none).
int64_t DurationMicros(const google::protobuf::Duration& duration);

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_ROW_SCHEMA_H_
