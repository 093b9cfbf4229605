#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_TILE_MERGE_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_TILE_MERGE_H_

// The tiles family's merge operator: ingest adds each batch's partial aggregates to a tile with
// WriteBatch::Merge, never reading it, and RocksDB combines the operands (TileState::Merge, in
// write order) when the tile is read or compacted. Concurrent batches on the same tile therefore
// need no lock and lose nothing.
//
// An operand that does not decode (only corruption produces one) is skipped, so it never fails
// a read or a compaction: failing a compaction would stop the store.

#include <memory>
#include <string>

#include "libs/kv/options.h"

namespace rocksdb {
class MergeOperator;
}  // namespace rocksdb

namespace fabrique::features {

// The operator; stateless and thread-safe.
std::shared_ptr<rocksdb::MergeOperator> NewTileMergeOperator();

// Installs the operator on `family` through options->configure_family, keeping any
// configure_family already set.
void InstallTileMerge(kv::StoreOptions* options, const std::string& family = "tiles");

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_TILE_MERGE_H_
