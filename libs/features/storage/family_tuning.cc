#include "libs/features/storage/family_tuning.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "libs/features/storage/hash_memtable.h"
#include "libs/features/storage/run_memtable.h"
#include "rocksdb/convenience.h"
#include "rocksdb/memtablerep.h"
#include "rocksdb/options.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"

namespace fabrique::features {
namespace {

// Rebuilds the family's block-based table factory (made by kv, with its shared block cache and
// bloom filter) with `adjust` applied to a copy of its options.
template <typename Adjust>
void AdjustTable(rocksdb::ColumnFamilyOptions* family, Adjust adjust) {
  if (family->table_factory == nullptr) return;
  const auto* current = family->table_factory->GetOptions<rocksdb::BlockBasedTableOptions>();
  if (current == nullptr) return;  // Not a block-based table: leave it alone.
  rocksdb::BlockBasedTableOptions table = *current;
  adjust(table);
  family->table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
}

// The whole key as the "prefix": lets the online family use a hash-indexed memtable, since every
// read of it is a point lookup of one whole key (never a scan).
class WholeKeyTransform : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "fabrique.WholeKey"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override { return key; }
  bool InDomain(const rocksdb::Slice&) const override { return true; }
};

bool Lz4Supported() {
  const std::vector<rocksdb::CompressionType> supported = rocksdb::GetSupportedCompressions();
  return std::find(supported.begin(), supported.end(), rocksdb::kLZ4Compression) != supported.end();
}

}  // namespace

void TuneFeatureFamilies(kv::StoreOptions* options, const FamilyTuning& tuning) {
  // RocksDB refuses to open a database with concurrent memtable writes and a memtable that does
  // not support them (the run and the hash memtables).
  if (tuning.history_append_only_memtable || tuning.online_hash_buckets > 0) {
    options->concurrent_memtable_writes = false;
  }
  if (tuning.memtable_cap_bytes > 0) options->total_write_buffer_bytes = tuning.memtable_cap_bytes;
  auto previous = std::move(options->configure_family);
  options->configure_family = [previous, tuning](const std::string& family,
                                                 rocksdb::ColumnFamilyOptions* cf) {
    if (previous) previous(family, cf);
    if (family == tuning.history_family) {
      AdjustTable(cf, [&tuning](rocksdb::BlockBasedTableOptions& table) {
        table.block_size = tuning.history_block_bytes;
        // History is only scanned and sought into, never read by whole key, so a whole-key
        // bloom filter would only cost its hashing on every flush, compaction and bulk file,
        // and memory held by each open file that grows with the rows kept.
        if (!tuning.history_filter) table.filter_policy.reset();
      });
      if (tuning.history_lz4 && Lz4Supported()) cf->compression = rocksdb::kLZ4Compression;
      if (tuning.history_append_only_memtable) {
        cf->memtable_factory = NewRunMemTableFactory(cf->comparator);
      }
    } else if (family == tuning.online_family) {
      AdjustTable(cf, [&tuning](rocksdb::BlockBasedTableOptions& table) {
        table.data_block_index_type = rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash;
        if (tuning.online_prepopulate_block_cache) {
          table.prepopulate_block_cache =
              rocksdb::BlockBasedTableOptions::PrepopulateBlockCache::kFlushOnly;
        }
      });
      // Feature values (floats above all) hardly compress, and every block-cache miss of a
      // lookup would pay a decompression.
      cf->compression = rocksdb::kNoCompression;
      // A bloom filter over the memtable's keys: a lookup of an entity the memtable does not
      // hold (most of them, between flushes) skips the memtable search.
      cf->memtable_whole_key_filtering = true;
      cf->memtable_prefix_bloom_size_ratio = 0.02;
      // A hash-indexed memtable (hash_memtable.h): ingest's one online write per entity and
      // batch, and every lookup, find their key in a hash bucket instead of a skip list of the
      // whole memtable (whose inserts were 40% of the server's ingest CPU). Flushes pay for it
      // by sorting its entries once, in the background. Only point lookups read this family,
      // which is what it serves well; the whole-key prefix extractor sends them to the bucket.
      if (tuning.online_hash_buckets > 0) {
        cf->prefix_extractor = std::make_shared<WholeKeyTransform>();
        cf->memtable_factory = NewHashMemTableFactory(tuning.online_hash_buckets, cf->comparator);
      }
    }
  };
}

}  // namespace fabrique::features
