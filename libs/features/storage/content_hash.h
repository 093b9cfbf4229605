#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_CONTENT_HASH_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_CONTENT_HASH_H_

// ContentHasher: the SHA-256 of a training set's rows over canonical bytes, recorded on the
// dataset (Dataset.content_sha256) so that a rebuild can prove it is identical. It depends only
// on the rows' content and order, never on chunking, machine or run.
//
// Canonical bytes of one row, concatenated over the rows in the order they are emitted
// (label_event_index order), integers little-endian:
//
//   int64   label_event_index
//   per entity key column (in output order):  uint32 byte length, then the key bytes
//   int64   label event time (microseconds)
//   value   the label
//   value   each feature, in output (header) order
//
// where a value is one byte 1 for null, or one byte 0 followed by: FLOAT 4 bytes (IEEE-754),
// DOUBLE 8, INT64 8, BOOL 1 (0/1), STRING uint32 length + UTF-8 bytes, FLOAT_VECTOR uint32
// count + 4 bytes per element. A label column without type contributes a null.

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "fabrique/v1/features.pb.h"
#include "libs/core/sha256.h"
#include "libs/features/storage/row_codec.h"

namespace fabrique::features {

class ContentHasher {
 public:
  ContentHasher();
  ContentHasher(const ContentHasher&) = delete;
  ContentHasher& operator=(const ContentHasher&) = delete;

  void AddInt64(int64_t value) {
    Put(value);
    MaybeSpill();
  }
  // uint32 length, then the bytes.
  void AddBytes(absl::string_view bytes);
  void AddNull() {
    buffer_[used_++] = '\x01';
    MaybeSpill();
  }
  // A present fixed-width value (FLOAT, DOUBLE, INT64; a BOOL as uint8_t 0/1): byte 0, then its
  // little-endian bytes.
  template <typename T>
  void AddPresent(T value) {
    buffer_[used_++] = '\0';
    Put(value);
    MaybeSpill();
  }
  // Feature `index` of `row` (of type `type`), or a null.
  void AddValue(const RowView& row, int index, v1::FeatureType type);
  // Row `index` of `column` (of type `type`), or a null.
  void AddValue(const v1::ValueColumn& column, int index, v1::FeatureType type);

  // The lowercase hex SHA-256 of everything added. Call once, last.
  std::string HexDigest();

 private:
  // Rows are gathered in buffer_ and hashed in large blocks: far fewer digest calls than one per
  // value. The fixed-width appends above write straight into it (they are inline and run once
  // per value of a training set); kSlack leaves room for one after the spill threshold.
  static constexpr size_t kSpillBytes = size_t{64} << 10;
  static constexpr size_t kSlack = 64;

  template <typename T>
  void Put(T value) {
    std::memcpy(buffer_.get() + used_, &value, sizeof(T));
    used_ += sizeof(T);
  }
  void Append(const void* bytes, size_t size);
  void MaybeSpill() {
    if (used_ >= kSpillBytes) Spill();
  }
  void Spill();

  core::Sha256Stream hash_;
  std::unique_ptr<char[]> buffer_;
  size_t used_ = 0;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_CONTENT_HASH_H_
