#include "libs/features/storage/storage_keys.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "libs/kv/key_codec.h"

namespace fabrique::features {

std::string GroupKeyPrefix(absl::string_view group) {
  std::string prefix;
  kv::AppendString(&prefix, group);
  return prefix;
}

std::string EntityKeyPrefix(absl::string_view group, absl::string_view entity) {
  std::string prefix = GroupKeyPrefix(group);
  kv::AppendString(&prefix, entity);
  return prefix;
}

void AppendEntity(std::string* out, absl::string_view entity) { kv::AppendString(out, entity); }

void AppendEventTime(std::string* out, int64_t event_time_micros) {
  kv::AppendDescendingInt64(out, event_time_micros);
}

std::string OnlineKey(absl::string_view group, absl::string_view entity) {
  return EntityKeyPrefix(group, entity);
}

std::string HistoryKey(absl::string_view group, absl::string_view entity,
                       int64_t event_time_micros) {
  std::string key = EntityKeyPrefix(group, entity);
  AppendEventTime(&key, event_time_micros);
  return key;
}

int64_t HistoryKeyEventTime(absl::string_view history_key) {
  // The inverse of kv::AppendDescendingInt64: big-endian, bits inverted, sign bit flipped.
  uint64_t encoded = 0;
  const char* p = history_key.data() + history_key.size() - kHistoryTimeBytes;
  for (size_t i = 0; i < kHistoryTimeBytes; ++i) {
    encoded = (encoded << 8) | static_cast<uint8_t>(p[i]);
  }
  return static_cast<int64_t>(~encoded ^ (uint64_t{1} << 63));
}

size_t EncodedStringLength(absl::string_view key) {
  // Inside an encoded string 0x00 is followed by 0xFF (an escaped zero) or 0x01 (the end).
  size_t pos = 0;
  while (pos < key.size()) {
    const void* zero = std::memchr(key.data() + pos, 0, key.size() - pos);
    if (zero == nullptr) return 0;
    pos = static_cast<size_t>(static_cast<const char*>(zero) - key.data());
    if (pos + 1 >= key.size()) return 0;
    if (key[pos + 1] == '\x01') return pos + 2;
    pos += 2;
  }
  return 0;
}

absl::StatusOr<HistoryKeyParts> ParseHistoryKey(absl::string_view key) {
  kv::KeyReader reader(key);
  HistoryKeyParts parts;
  absl::StatusOr<std::string> group = reader.ReadString();
  absl::StatusOr<std::string> entity =
      group.ok() ? reader.ReadString() : absl::StatusOr<std::string>(group.status());
  absl::StatusOr<int64_t> time =
      entity.ok() ? reader.ReadDescendingInt64() : absl::StatusOr<int64_t>(entity.status());
  if (!time.ok() || !reader.done()) {
    return absl::DataLossError(absl::StrCat(
        "malformed history key: ", time.ok() ? "trailing bytes" : time.status().message()));
  }
  parts.group = std::move(*group);
  parts.entity = std::move(*entity);
  parts.event_time_micros = *time;
  return parts;
}

absl::StatusOr<std::string> ParseEntity(absl::string_view key, absl::string_view group_prefix) {
  if (key.substr(0, group_prefix.size()) != group_prefix) {
    return absl::DataLossError("key does not belong to the expected feature group");
  }
  kv::KeyReader reader(key.substr(group_prefix.size()));
  absl::StatusOr<std::string> entity = reader.ReadString();
  if (!entity.ok()) {
    return absl::DataLossError(
        absl::StrCat("malformed entity in key: ", entity.status().message()));
  }
  return entity;
}

}  // namespace fabrique::features
