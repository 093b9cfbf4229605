#include "libs/features/storage/tile_family.h"

#include <utility>

#include "libs/features/storage/tile_keys.h"
#include "libs/features/storage/tile_merge.h"
#include "rocksdb/memtablerep.h"
#include "rocksdb/options.h"
#include "rocksdb/slice_transform.h"

namespace fabrique::features {
namespace {

class TileEntityPrefix : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "fabrique.TileEntity"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), key.size() - kTileSuffixBytes);
  }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() >= kTileSuffixBytes; }
};

}  // namespace

std::shared_ptr<const rocksdb::SliceTransform> NewTileEntityPrefix() {
  static const auto* const kPrefix =
      new std::shared_ptr<const rocksdb::SliceTransform>(std::make_shared<TileEntityPrefix>());
  return *kPrefix;
}

void InstallTileFamily(kv::StoreOptions* options, const TileFamilyOptions& tiles) {
  InstallTileMerge(options, tiles.family);
  if (tiles.hash_buckets == 0) return;
  options->concurrent_memtable_writes = false;
  auto previous = std::move(options->configure_family);
  options->configure_family = [previous, tiles](const std::string& name,
                                                rocksdb::ColumnFamilyOptions* cf) {
    if (previous) previous(name, cf);
    if (name != tiles.family) return;
    cf->prefix_extractor = NewTileEntityPrefix();
    cf->memtable_factory.reset(rocksdb::NewHashSkipListRepFactory(tiles.hash_buckets));
  };
}

}  // namespace fabrique::features
