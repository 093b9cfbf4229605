#include "libs/features/storage/tile_keys.h"

#include "libs/features/storage/storage_keys.h"
#include "libs/kv/key_codec.h"

namespace fabrique::features {

void AppendTileSuffix(std::string* out, int level, int64_t index) {
  kv::AppendUint8(out, static_cast<uint8_t>(level));
  kv::AppendInt64(out, index);
}

std::string TileKey(absl::string_view group, absl::string_view entity, int level, int64_t index) {
  std::string key = EntityKeyPrefix(group, entity);
  AppendTileSuffix(&key, level, index);
  return key;
}

std::string TileGroupBegin(absl::string_view group) { return GroupKeyPrefix(group); }

std::string TileGroupEnd(absl::string_view group) {
  // The encoded group ends with the terminator 0x00 0x01; 0x00 0x02 sorts after every key that
  // starts with it and before the next group's keys.
  std::string end = GroupKeyPrefix(group);
  end.back() = '\x02';
  return end;
}

}  // namespace fabrique::features
