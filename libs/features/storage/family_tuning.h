#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_FAMILY_TUNING_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_FAMILY_TUNING_H_

// RocksDB settings of the feature store's two families, for their access patterns. Call on the
// StoreOptions before opening the store (with InstallRetentionFilter; either order):
//
//   history  large data blocks: its reads are scans and forward seeks (history reads, the
//            point-in-time join, compaction), where one read of 32 KiB costs far less than eight
//            of 4 KiB (each is a system call plus a decompression); no bloom filter (nothing
//            reads it by whole key; its filters grew with the rows kept); LZ4 compression; and an
//            append-only memtable (run_memtable.h): ingest appends each row instead of
//            inserting it in a skip list, and the flush orders the rows once, by merging the
//            ascending runs each batch writes them in. Ingest is write-mostly and history is only
//            ever scanned, so the price (an iterator over the unflushed rows sorts a copy of them
//            first, up to write_buffer_bytes of rows) is paid by training-set builds and history
//            reads, not by the hot path.
//   online   a hash index inside each data block, so a point lookup finds its key in a block in
//            one probe instead of a binary search (RocksDB's data_block_index_type); no
//            compression (a cache miss costs no decompression); a hash-indexed memtable with a
//            bloom filter (the family is only ever read by whole key; hash_memtable.h).
//
// The memtables of all the store's families together are capped (memtable_cap_bytes), so that
// the memory ingest holds unflushed is bounded whatever the number of families it writes.
//
// Both memtables rule out concurrent memtable writes (set off here when either is on).

#include <cstddef>
#include <string>

#include "libs/kv/options.h"

namespace fabrique::features {

struct FamilyTuning {
  // Default: "history" and "online".
  std::string history_family = "history";
  std::string online_family = "online";
  // Uncompressed size of a history data block, in bytes. Default: 32 KiB.
  size_t history_block_bytes = size_t{32} << 10;
  // Compresses history with LZ4 (when RocksDB has it), which decompresses about twice as fast as
  // the default Snappy at a similar ratio: training-set builds read history block after block.
  // Default: true.
  bool history_lz4 = true;
  // Keeps kv's whole-key bloom filter on history's files. Default: false.
  bool history_filter = false;
  // Gives history the append-only memtable (see above). Default: true.
  bool history_append_only_memtable = true;
  // Hash buckets of the online family's memtable (see above); 0 = RocksDB's skip list.
  // About one per entity written between flushes. Default: 256Ki (2 MiB per memtable).
  size_t online_hash_buckets = size_t{256} << 10;
  // Puts the data blocks of each flushed online file into the block cache as the flush writes
  // them (RocksDB's prepopulate_block_cache), as in the memtable they leave. Without it every
  // first read of a block after a flush misses the cache, and a memory-only lookup that meets one
  // is answered again from the start on a thread that may wait for the disk (measured with
  // 1M entities stored: 6% of a run's block reads missed, none with it; the lookup rate moved
  // within noise). RocksDB 7.8 does this for flushes only: a compaction's output comes back into
  // the cache as lookups read it. Off by default: it fills the block cache at the pace of ingest
  // (every entity written, read or not, and blocks of files that compaction soon replaces), so
  // under steady ingest the feature store's memory climbed until the cache was full (+35% over
  // 8 minutes of the soak, tools/bench/soak; without it the soak's lookups kept 5-7 MiB of
  // blocks in the cache). Default: false.
  bool online_prepopulate_block_cache = false;
  // Cap on the memtables of all the store's families together, in bytes (kv's
  // total_write_buffer_bytes): past it RocksDB flushes one. Without it each family may hold a
  // full memtable (64 MiB each for history and online under ingest), and the store's memory saws
  // up and down by their sum as they fill and flush. 0: no cap. Default: 64 MiB.
  size_t memtable_cap_bytes = size_t{64} << 20;
};

// Adds the settings through options->configure_family, keeping any configure_family already set.
void TuneFeatureFamilies(kv::StoreOptions* options, const FamilyTuning& tuning = {});

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_FAMILY_TUNING_H_
