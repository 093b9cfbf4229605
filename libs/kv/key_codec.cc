#include "libs/kv/key_codec.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace fabrique::kv {
namespace {

constexpr uint64_t kSignBit = uint64_t{1} << 63;
// Inside an encoded string, 0x00 is always followed by one of these two bytes.
constexpr char kEscape = '\x00';
constexpr char kEscapedZero = '\xff';
constexpr char kTerminator = '\x01';

void AppendBigEndian(std::string* out, uint64_t value, size_t width) {
  // Written to the stack and appended at once: one capacity check rather than one a byte.
  char bytes[8];
  for (size_t i = 0; i < width; ++i) {
    bytes[i] = static_cast<char>((value >> (8 * (width - 1 - i))) & 0xff);
  }
  out->append(bytes, width);
}

}  // namespace

void AppendUint8(std::string* out, uint8_t value) { AppendBigEndian(out, value, 1); }
void AppendUint32(std::string* out, uint32_t value) { AppendBigEndian(out, value, 4); }
void AppendUint64(std::string* out, uint64_t value) { AppendBigEndian(out, value, 8); }

// Flipping the sign bit maps INT64_MIN..INT64_MAX onto 0..UINT64_MAX in order.
void AppendInt64(std::string* out, int64_t value) {
  AppendUint64(out, static_cast<uint64_t>(value) ^ kSignBit);
}

void AppendDescendingUint64(std::string* out, uint64_t value) { AppendUint64(out, ~value); }

void AppendDescendingInt64(std::string* out, int64_t value) {
  AppendUint64(out, ~(static_cast<uint64_t>(value) ^ kSignBit));
}

void AppendString(std::string* out, absl::string_view value) {
  // Names and ids seldom hold a zero byte: they are copied whole, not byte by byte (a record's
  // keys encode five strings, and the byte loop was a few percent of the monitor's intake).
  if (std::memchr(value.data(), kEscape, value.size()) == nullptr) {
    const char terminator[2] = {kEscape, kTerminator};
    out->reserve(out->size() + value.size() + 2);
    out->append(value.data(), value.size());
    out->append(terminator, 2);
    return;
  }
  out->reserve(out->size() + value.size() + 2);
  for (char c : value) {
    out->push_back(c);
    if (c == kEscape) out->push_back(kEscapedZero);
  }
  out->push_back(kEscape);
  out->push_back(kTerminator);
}

std::string PrefixSuccessor(absl::string_view prefix) {
  std::string successor(prefix);
  // Drop trailing 0xFF bytes (nothing is greater in that position), then bump the last byte.
  while (!successor.empty() && static_cast<uint8_t>(successor.back()) == 0xff) {
    successor.pop_back();
  }
  if (!successor.empty()) successor.back() = static_cast<char>(successor.back() + 1);
  return successor;
}

KeyBuilder& KeyBuilder::AddUint8(uint8_t value) {
  AppendUint8(&key_, value);
  return *this;
}
KeyBuilder& KeyBuilder::AddUint32(uint32_t value) {
  AppendUint32(&key_, value);
  return *this;
}
KeyBuilder& KeyBuilder::AddUint64(uint64_t value) {
  AppendUint64(&key_, value);
  return *this;
}
KeyBuilder& KeyBuilder::AddInt64(int64_t value) {
  AppendInt64(&key_, value);
  return *this;
}
KeyBuilder& KeyBuilder::AddDescendingUint64(uint64_t value) {
  AppendDescendingUint64(&key_, value);
  return *this;
}
KeyBuilder& KeyBuilder::AddDescendingInt64(int64_t value) {
  AppendDescendingInt64(&key_, value);
  return *this;
}
KeyBuilder& KeyBuilder::AddString(absl::string_view value) {
  AppendString(&key_, value);
  return *this;
}
KeyBuilder& KeyBuilder::AddEncoded(absl::string_view encoded) {
  key_.append(encoded.data(), encoded.size());
  return *this;
}

absl::StatusOr<uint64_t> KeyReader::ReadFixed(size_t width) {
  if (key_.size() - pos_ < width) {
    return absl::InvalidArgumentError(absl::StrCat("key too short: expected a ", width,
                                                   "-byte integer at offset ", pos_, " but only ",
                                                   key_.size() - pos_, " bytes remain"));
  }
  uint64_t value = 0;
  for (size_t i = 0; i < width; ++i) {
    value = (value << 8) | static_cast<uint8_t>(key_[pos_ + i]);
  }
  pos_ += width;
  return value;
}

absl::StatusOr<uint8_t> KeyReader::ReadUint8() {
  absl::StatusOr<uint64_t> value = ReadFixed(1);
  if (!value.ok()) return value.status();
  return static_cast<uint8_t>(*value);
}

absl::StatusOr<uint32_t> KeyReader::ReadUint32() {
  absl::StatusOr<uint64_t> value = ReadFixed(4);
  if (!value.ok()) return value.status();
  return static_cast<uint32_t>(*value);
}

absl::StatusOr<uint64_t> KeyReader::ReadUint64() { return ReadFixed(8); }

absl::StatusOr<int64_t> KeyReader::ReadInt64() {
  absl::StatusOr<uint64_t> value = ReadFixed(8);
  if (!value.ok()) return value.status();
  return static_cast<int64_t>(*value ^ kSignBit);
}

absl::StatusOr<uint64_t> KeyReader::ReadDescendingUint64() {
  absl::StatusOr<uint64_t> value = ReadFixed(8);
  if (!value.ok()) return value.status();
  return ~*value;
}

absl::StatusOr<int64_t> KeyReader::ReadDescendingInt64() {
  absl::StatusOr<uint64_t> value = ReadFixed(8);
  if (!value.ok()) return value.status();
  return static_cast<int64_t>(~*value ^ kSignBit);
}

absl::StatusOr<std::string> KeyReader::ReadString() {
  // Most strings hold no zero byte: the first 0x00 is then their terminator.
  const absl::string_view rest = key_.substr(pos_);
  const void* first_zero = std::memchr(rest.data(), kEscape, rest.size());
  if (first_zero != nullptr) {
    const size_t at = static_cast<const char*>(first_zero) - rest.data();
    if (at + 1 < rest.size() && rest[at + 1] == kTerminator) {
      pos_ += at + 2;
      return std::string(rest.substr(0, at));
    }
  }
  std::string value;
  for (size_t i = pos_; i < key_.size(); ++i) {
    if (key_[i] != kEscape) {
      value.push_back(key_[i]);
      continue;
    }
    if (i + 1 == key_.size()) break;  // A lone 0x00 at the end: the terminator is cut off.
    if (key_[i + 1] == kTerminator) {
      pos_ = i + 2;
      return value;
    }
    if (key_[i + 1] != kEscapedZero) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed string in key at offset ", i, ": 0x00 followed by 0x",
                       absl::Hex(static_cast<uint8_t>(key_[i + 1]), absl::kZeroPad2),
                       " (expected 0xff or 0x01)"));
    }
    value.push_back(kEscape);
    ++i;
  }
  return absl::InvalidArgumentError(absl::StrCat("malformed string in key at offset ", pos_,
                                                 ": no 0x00 0x01 terminator before the end"));
}

}  // namespace fabrique::kv
