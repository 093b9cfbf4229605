#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_TILE_KEYS_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_TILE_KEYS_H_

// The keys of the "tiles" column family, built with kv's order-preserving codec:
//
//   tiles  string(aggregation group) string(entity_key) uint8(level) int64(tile index) -> TileState
//
// Keys of one aggregation group are contiguous (a backfill clears them with one range delete),
// then keys of one entity, then of one pyramid level in time order. Part of the on-disk format.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace fabrique::features {

// Bytes a tile key adds after its entity: the level and the index.
inline constexpr size_t kTileSuffixBytes = 1 + 8;

// Appends the key of tile `index` at `level` to `out`, which holds EntityKeyPrefix(group, entity).
void AppendTileSuffix(std::string* out, int level, int64_t index);

std::string TileKey(absl::string_view group, absl::string_view entity, int level, int64_t index);

// [begin, end) holding every tile key of `group`.
std::string TileGroupBegin(absl::string_view group);
std::string TileGroupEnd(absl::string_view group);

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_TILE_KEYS_H_
