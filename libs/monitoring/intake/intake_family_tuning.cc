#include "libs/monitoring/intake/intake_family_tuning.h"

#include <string>
#include <utility>

#include "libs/monitoring/intake/intake_families.h"
#include "rocksdb/memtablerep.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"

namespace fabrique::monitoring {
namespace {

// The family's block-based table settings without the bloom filter kv::Store gave them.
void DropFilter(rocksdb::ColumnFamilyOptions* family) {
  const auto* table = family->table_factory->GetOptions<rocksdb::BlockBasedTableOptions>();
  if (table == nullptr || table->filter_policy == nullptr) return;
  rocksdb::BlockBasedTableOptions without = *table;
  without.filter_policy.reset();
  family->table_factory.reset(rocksdb::NewBlockBasedTableFactory(without));
}

// Indexes and filters partitioned and read through the block cache, which bounds them, with
// each file's top level (a few entries) pinned, and the partitions of level-0 files, which every
// lookup of an id that is not time-ordered probes.
void MetadataInCache(rocksdb::ColumnFamilyOptions* family) {
  const auto* table = family->table_factory->GetOptions<rocksdb::BlockBasedTableOptions>();
  if (table == nullptr || table->block_cache == nullptr) return;
  rocksdb::BlockBasedTableOptions cached = *table;
  cached.cache_index_and_filter_blocks = true;
  cached.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  cached.partition_filters = cached.filter_policy != nullptr;
  cached.metadata_cache_options.top_level_index_pinning = rocksdb::PinningTier::kAll;
  cached.metadata_cache_options.partition_pinning = rocksdb::PinningTier::kFlushedAndSimilar;
  family->table_factory.reset(rocksdb::NewBlockBasedTableFactory(cached));
}

// Level 0 and the base level (where level-0 files are merged: with dynamic level sizes,
// compression_per_level[1] names it whatever its number) uncompressed; deeper levels keep the
// family's compression.
void LeaveFreshLevelsUncompressed(rocksdb::ColumnFamilyOptions* family) {
  const int levels = family->num_levels > 2 ? family->num_levels : 2;
  family->compression_per_level.assign(static_cast<size_t>(levels), family->compression);
  family->compression_per_level[0] = rocksdb::kNoCompression;
  family->compression_per_level[1] = rocksdb::kNoCompression;
}

}  // namespace

void InstallIntakeFamilyTuning(kv::StoreOptions* options, const IntakeFamilyTuning& tuning) {
  if (tuning.entity_vector_memtable) options->concurrent_memtable_writes = false;
  auto previous = std::move(options->configure_family);
  options->configure_family = [previous, tuning](const std::string& name,
                                                 rocksdb::ColumnFamilyOptions* family) {
    if (previous) previous(name, family);
    if (tuning.fresh_levels_uncompressed &&
        (name == kPredictionsFamily || name == kPredictionIdsFamily ||
         name == kEntityIndexFamily)) {
      LeaveFreshLevelsUncompressed(family);
    }
    if (name == kEntityIndexFamily) {
      if (tuning.entity_vector_memtable) {
        family->memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
      }
      if (tuning.unread_filters_off) DropFilter(family);
    } else if (name == kPredictionIdsFamily && tuning.id_bloom_ratio > 0) {
      family->memtable_whole_key_filtering = true;
      family->memtable_prefix_bloom_size_ratio = tuning.id_bloom_ratio;
    } else if (name == kPredictionsFamily) {
      if (tuning.unread_filters_off) DropFilter(family);
      if (tuning.predictions_file_bytes > 0) {
        family->target_file_size_base = tuning.predictions_file_bytes;
      }
    }
    // Last: it keeps whatever filter the family was left with.
    if (tuning.metadata_in_cache) MetadataInCache(family);
  };
}

}  // namespace fabrique::monitoring
