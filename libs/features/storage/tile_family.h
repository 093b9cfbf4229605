#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_TILE_FAMILY_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_TILE_FAMILY_H_

// The tiles family's RocksDB settings, tuned for what reads it: a lookup reads a few runs of one
// entity's tiles (TileReader), each with a Seek.
//
//   * the merge operator (tile_merge.h);
//   * a prefix extractor on the entity part of the key (all of it but the level and index), so
//     that a Seek skips the files whose prefix bloom filter lacks the entity, and a memtable
//     hashed by entity: a Seek searches the skip list of the entity's own tiles, not one of every
//     tile written since the last flush (the memtable holds the recent tiles, the ones every
//     lookup reads, so this search was most of a lookup's cost). Ingest inserts into the same
//     short lists. Iterators over the family are in prefix mode: keys are in order within an
//     entity, and a reader seeks again for each entity (TileReader does).
//
// Turns concurrent memtable writes off: the hashed memtable does not support them (the feature
// store's history memtable already needs them off).

#include <cstddef>
#include <memory>
#include <string>

#include "libs/kv/options.h"

namespace rocksdb {
class SliceTransform;
}  // namespace rocksdb

namespace fabrique::features {

struct TileFamilyOptions {
  // Default: "tiles".
  std::string family = "tiles";
  // Hash buckets of the memtable: about one per entity written between flushes; 0 = RocksDB's
  // skip list and no prefix extractor. Default: 64Ki (512 KiB per memtable).
  size_t hash_buckets = size_t{64} << 10;
};

// The entity part of a tile key (tile_keys.h): the key without its level and index.
std::shared_ptr<const rocksdb::SliceTransform> NewTileEntityPrefix();

// Installs the settings above through options->configure_family, keeping any set before.
void InstallTileFamily(kv::StoreOptions* options, const TileFamilyOptions& tiles = {});

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_TILE_FAMILY_H_
