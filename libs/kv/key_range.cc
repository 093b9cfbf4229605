#include "libs/kv/key_range.h"

#include "libs/kv/key_codec.h"

namespace fabrique::kv {

KeyRange KeyRange::Prefix(absl::string_view prefix) {
  // PrefixSuccessor returns "" when no key is greater than all keys with the prefix, which is
  // exactly the "no upper bound" that `end` == "" means.
  return KeyRange{std::string(prefix), PrefixSuccessor(prefix)};
}

}  // namespace fabrique::kv
