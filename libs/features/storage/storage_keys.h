#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_STORAGE_KEYS_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_STORAGE_KEYS_H_

// The keys of the feature store's two column families, built with kv's order-preserving codec:
//
//   online   string(group) string(entity_key)                                  -> latest row
//   history  string(group) string(entity_key) descending_int64(event_time_us)  -> row
//
// Keys of one group are contiguous, then keys of one entity; in history an entity's rows run
// newest first, so "the newest row with event_time <= T" is a single Seek to
// HistoryKey(group, entity, T), and a history key is always its entity prefix plus exactly 8
// bytes of time. The online key of an entity equals the history prefix of that entity (the
// families are separate key spaces). This layout is part of the on-disk format: never change it.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fabrique::features {

// Bytes of the event time at the end of every history key.
inline constexpr size_t kHistoryTimeBytes = 8;

// The encoded prefix shared by every key of `group`, in both families.
std::string GroupKeyPrefix(absl::string_view group);
// The encoded prefix of `entity`'s keys in `group`: its online key, and the prefix of its
// history keys.
std::string EntityKeyPrefix(absl::string_view group, absl::string_view entity);
// Appends the encoded `entity` to `out`, which already holds GroupKeyPrefix(group): builds online
// keys and history prefixes in a reused buffer without allocating per key.
void AppendEntity(std::string* out, absl::string_view entity);
// Appends the 8 bytes of a history key's event time (newest first).
void AppendEventTime(std::string* out, int64_t event_time_micros);

std::string OnlineKey(absl::string_view group, absl::string_view entity);
std::string HistoryKey(absl::string_view group, absl::string_view entity,
                       int64_t event_time_micros);

// The event time of a history key, read from its last 8 bytes. The key must be a history key
// (at least 8 bytes long); see ParseHistoryKey for a checked decode.
int64_t HistoryKeyEventTime(absl::string_view history_key);

// Length of the first encoded string component at the start of `key` (terminator included), or
// 0 when there is none. GroupKeyPrefix(group) is key.substr(0, that length), so the retention
// filter finds a key's group without decoding or allocating.
size_t EncodedStringLength(absl::string_view key);

struct HistoryKeyParts {
  std::string group;
  std::string entity;
  int64_t event_time_micros = 0;
};
// Decodes a history key; DATA_LOSS when it is malformed.
absl::StatusOr<HistoryKeyParts> ParseHistoryKey(absl::string_view key);
// Decodes the entity of an online key or history key of `group_prefix`'s group; DATA_LOSS when
// malformed.
absl::StatusOr<std::string> ParseEntity(absl::string_view key, absl::string_view group_prefix);

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_STORAGE_KEYS_H_
