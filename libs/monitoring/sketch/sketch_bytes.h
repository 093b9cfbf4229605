#ifndef FABRIQUE_LIBS_MONITORING_SKETCH_SKETCH_BYTES_H_
#define FABRIQUE_LIBS_MONITORING_SKETCH_SKETCH_BYTES_H_

// Little-endian fixed-width integers and doubles, written the same on every host, for the
// sketch's persisted bytes. The reader never reads past the end: it reports false instead.

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/string_view.h"

namespace fabrique::monitoring {

class ByteWriter {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(uint32_t v) {
    for (int i = 0; i < 4; ++i) U8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void U64(uint64_t v) {
    for (int i = 0; i < 8; ++i) U8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void F64(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    U64(bits);
  }
  void Raw(absl::string_view bytes) { out_.append(bytes.data(), bytes.size()); }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class ByteReader {
 public:
  explicit ByteReader(absl::string_view in) : in_(in) {}
  bool U8(uint8_t* v) {
    if (in_.empty()) return false;
    *v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool U32(uint32_t* v) {
    if (in_.size() < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i)
      *v |= static_cast<uint32_t>(static_cast<uint8_t>(in_[i])) << (8 * i);
    in_.remove_prefix(4);
    return true;
  }
  bool U64(uint64_t* v) {
    if (in_.size() < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i)
      *v |= static_cast<uint64_t>(static_cast<uint8_t>(in_[i])) << (8 * i);
    in_.remove_prefix(8);
    return true;
  }
  bool F64(double* v) {
    uint64_t bits;
    if (!U64(&bits)) return false;
    std::memcpy(v, &bits, sizeof bits);
    return true;
  }
  bool Raw(size_t n, absl::string_view* bytes) {
    if (in_.size() < n) return false;
    *bytes = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  size_t left() const { return in_.size(); }

 private:
  absl::string_view in_;
};

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_SKETCH_SKETCH_BYTES_H_
