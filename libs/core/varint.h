#ifndef FABRIQUE_LIBS_CORE_VARINT_H_
#define FABRIQUE_LIBS_CORE_VARINT_H_

// Base-128 varints (protobuf's wire form: 7 bits a byte, low bits first, the high bit set on
// every byte but the last), for the compact values and keys the services store themselves.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/string_view.h"

namespace fabrique::core {

inline void AppendVarint(std::string* out, uint64_t value) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

// Reads a varint of at most as many bytes as an unsigned T needs, at *pos of `data`, and moves
// *pos past it; false when it is cut off or longer than that.
template <typename T>
bool ReadVarint(absl::string_view data, size_t* pos, T* value) {
  static_assert(std::numeric_limits<T>::is_integer && !std::numeric_limits<T>::is_signed);
  constexpr int kBits = std::numeric_limits<T>::digits;
  T result = 0;
  for (int shift = 0; shift < kBits; shift += 7) {
    if (*pos >= data.size()) return false;
    const auto byte = static_cast<uint8_t>(data[(*pos)++]);
    result |= static_cast<T>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *value = result;
      return true;
    }
  }
  return false;
}

}  // namespace fabrique::core

#endif  // FABRIQUE_LIBS_CORE_VARINT_H_
