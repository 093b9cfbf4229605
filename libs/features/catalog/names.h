#ifndef FABRIQUE_LIBS_FEATURES_CATALOG_NAMES_H_
#define FABRIQUE_LIBS_FEATURES_CATALOG_NAMES_H_

// The naming rule of the catalog: entities, join keys, feature groups and features are named
// [a-z][a-z0-9_]*, at most kMaxNameLength bytes. Names end up in RocksDB keys, CSV headers,
// Prometheus labels and Python attribute names; this alphabet is safe in all of them and keeps
// "Amount" and "amount" from ever meaning two different features.

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace fabrique::features {

// Longest accepted name, in bytes: long enough for any sensible name, short enough that a
// malicious one cannot bloat every key and log line.
inline constexpr size_t kMaxNameLength = 128;

// True when `name` follows the naming rule.
bool IsValidName(absl::string_view name);

// OK when `name` follows the naming rule; otherwise INVALID_ARGUMENT saying which name (`what`,
// e.g. "feature group name") is wrong, quoting it, and what the rule is.
absl::Status ValidateName(absl::string_view what, absl::string_view name);

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_CATALOG_NAMES_H_
