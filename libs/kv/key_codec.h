#ifndef FABRIQUE_LIBS_KV_KEY_CODEC_H_
#define FABRIQUE_LIBS_KV_KEY_CODEC_H_

// Order-preserving key encodings. RocksDB compares keys as raw bytes (memcmp), so every value that
// goes into a key is encoded such that comparing the encodings byte by byte gives the same order
// as comparing the values, and a composite key (a tuple of values) sorts by its first component,
// then its second, and so on:
//
//   unsigned integers   big-endian, fixed width
//   signed integers     big-endian with the sign bit flipped, so negatives sort first
//   descending variants every bit inverted, so the largest value sorts first ("latest first")
//   strings             0x00 escaped as 0x00 0xFF, then a 0x00 0x01 terminator. No encoded string
//                       is a prefix of another, so ("a", 2) < ("a\0", 1) < ("ab", 0) holds for
//                       composite keys as it does for tuples.
//
// Build keys with KeyBuilder and take them apart with KeyReader:
//
//   std::string key = KeyBuilder().AddString(entity).AddDescendingInt64(event_time_us).key();
//   KeyReader reader(key);
//   ASSIGN_OR_RETURN(std::string entity, reader.ReadString());
//   ASSIGN_OR_RETURN(int64_t event_time_us, reader.ReadDescendingInt64());
//
// The encodings are part of the on-disk format of every service: never change one, add a new one.

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fabrique::kv {

// Appends `value` to `out` in its order-preserving encoding.
void AppendUint8(std::string* out, uint8_t value);
void AppendUint32(std::string* out, uint32_t value);
void AppendUint64(std::string* out, uint64_t value);
void AppendInt64(std::string* out, int64_t value);
// Larger values sort first: use for "newest first" timestamps.
void AppendDescendingUint64(std::string* out, uint64_t value);
void AppendDescendingInt64(std::string* out, int64_t value);
// Any bytes, embedded 0x00 and 0xFF included; the empty string is valid.
void AppendString(std::string* out, absl::string_view value);

// Returns the smallest key that is greater than every key starting with `prefix`, for use as an
// exclusive upper bound. Returns "" when there is none (the prefix is empty or all 0xFF), which
// callers must read as "no upper bound".
std::string PrefixSuccessor(absl::string_view prefix);

// Builds a composite key one component at a time. The order of the components is the sort order
// of the keys. Each Add* returns *this so calls chain.
class KeyBuilder {
 public:
  KeyBuilder() = default;
  // Starts from an already encoded prefix (for example a table tag shared by many keys).
  explicit KeyBuilder(absl::string_view encoded_prefix) : key_(encoded_prefix) {}

  KeyBuilder& AddUint8(uint8_t value);
  KeyBuilder& AddUint32(uint32_t value);
  KeyBuilder& AddUint64(uint64_t value);
  KeyBuilder& AddInt64(int64_t value);
  KeyBuilder& AddDescendingUint64(uint64_t value);
  KeyBuilder& AddDescendingInt64(int64_t value);
  KeyBuilder& AddString(absl::string_view value);
  // Appends bytes as they are, without escaping: only for pieces that are already encoded.
  KeyBuilder& AddEncoded(absl::string_view encoded);

  // The key built so far. Any prefix of component boundaries is itself a valid scan prefix.
  const std::string& key() const& { return key_; }
  std::string key() && { return std::move(key_); }

 private:
  std::string key_;
};

// Reads the components of a key in the order they were added. Each Read* consumes one component;
// on malformed input (too short, a bad escape, a missing terminator) it returns INVALID_ARGUMENT
// naming the byte offset and leaves the reader where it was. Callers that decode keys read back
// from a store may prefer to report such an error as DATA_LOSS.
class KeyReader {
 public:
  // `key` must outlive the reader.
  explicit KeyReader(absl::string_view key) : key_(key) {}

  absl::StatusOr<uint8_t> ReadUint8();
  absl::StatusOr<uint32_t> ReadUint32();
  absl::StatusOr<uint64_t> ReadUint64();
  absl::StatusOr<int64_t> ReadInt64();
  absl::StatusOr<uint64_t> ReadDescendingUint64();
  absl::StatusOr<int64_t> ReadDescendingInt64();
  absl::StatusOr<std::string> ReadString();

  // True when every byte has been consumed.
  bool done() const { return pos_ == key_.size(); }
  // The bytes not read yet, still encoded.
  absl::string_view remaining() const { return key_.substr(pos_); }

 private:
  absl::StatusOr<uint64_t> ReadFixed(size_t width);

  absl::string_view key_;
  size_t pos_ = 0;
};

}  // namespace fabrique::kv

#endif  // FABRIQUE_LIBS_KV_KEY_CODEC_H_
