#ifndef FABRIQUE_LIBS_KV_KEY_RANGE_H_
#define FABRIQUE_LIBS_KV_KEY_RANGE_H_

// A half-open interval of keys, [begin, end), that bounds an iterator or a scan.

#include <string>

#include "absl/strings/string_view.h"

namespace fabrique::kv {

struct KeyRange {
  // Smallest key in the range (inclusive); "" = from the first key.
  std::string begin;
  // First key past the range (exclusive); "" = up to the last key, no upper bound.
  std::string end;

  // Every key.
  static KeyRange All() { return KeyRange{}; }
  // Every key that starts with `prefix`. With composite keys from KeyBuilder, a prefix made of
  // whole components selects exactly the keys that share those components.
  static KeyRange Prefix(absl::string_view prefix);
  // Keys k with begin <= k < end.
  static KeyRange Between(absl::string_view begin, absl::string_view end) {
    return KeyRange{std::string(begin), std::string(end)};
  }

  bool has_end() const { return !end.empty(); }
  bool Contains(absl::string_view key) const { return key >= begin && (!has_end() || key < end); }
};

}  // namespace fabrique::kv

#endif  // FABRIQUE_LIBS_KV_KEY_RANGE_H_
