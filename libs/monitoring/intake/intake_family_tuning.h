#ifndef FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_FAMILY_TUNING_H_
#define FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_FAMILY_TUNING_H_

// RocksDB settings of the intake's index families, tuned for how a batch of predictions writes
// them and how outcomes read them (intake_keys.h has the keys):
//
//   entity_index   an append-only (vector) memtable, sorted once when it is flushed. A batch's
//                  records name entities in no order, so in RocksDB's skip list each entry was
//                  inserted at a random place, searched from the top: the costliest part of
//                  storing a record. The family is read only when outcomes are joined by entity,
//                  by one iterator per batch of outcomes, which sorts a copy of the memtable once
//                  (IntakeStore::AppendOutcomes). A memtable hashed by entity was tried: its flush
//                  then sorts every entry into a skip list, which cost as much as it saved.
//   prediction_ids a whole-key bloom filter in the memtable: every batch asks whether each of its
//                  ids is stored, and nearly all are not, which the filter answers without a
//                  search of the memtable.
//   predictions    no bloom filter, and small files. It is read by scans and by the keys the
//                  indexes hold, never for a key that may be absent, so a filter would only cost
//                  its hashing on every flush and compaction. Its keys come nearly in time order,
//                  so a compaction of fresh files overlaps only the newest file already stored,
//                  which it rewrites whole: a small file bounds that rewrite.
//   entity_index   (also) no bloom filter: it is only ever sought into, never read by whole key.
//   all three      no compression of the files a flush writes and of the level they are first
//                  compacted into; the levels below keep the family's compression (snappy). Every
//                  record passes through those two levels, and they are the ones compactions
//                  rewrite most often: compressing them was about 5% of the monitor's CPU per
//                  record (snappy was 9% of it over gRPC), while in a large database most stored
//                  bytes sit in the bottom level, still compressed. With RocksDB's dynamic level
//                  sizes (kv::Store) the first level compacted into is the base level, so a monitor
//                  whose predictions fit in it stores them uncompressed: 1M records took 442 MiB
//                  on disk instead of 254 MiB (monitor_intake_bench --keep).
//   every family   its files' indexes and filters in the block cache, in partitions under a small
//                  pinned top level, not held beside it by each open file. Held beside, they grow
//                  with the predictions kept (some 6 bytes a record in a soak: 1.3 MiB for 211k
//                  records, so about 225 MB a day at 400 predictions a second), and the monitor's
//                  memory had no bound; in the cache they are bounded by it. The partitions of
//                  level-0 files are pinned: every batch asks whether each of its ids is stored,
//                  and ids that are not time-ordered are looked for in every level-0 file. The
//                  price, with such ids: 2-4% of the intake's records a second.
//
// Needs concurrent memtable writes off (the vector memtable does not support them), as the
// intake has them anyway (IntakeStore::Open).

#include <cstddef>

#include "libs/kv/options.h"

namespace fabrique::monitoring {

struct IntakeFamilyTuning {
  // Whether the entity index's memtable is the append-only vector (else RocksDB's skip list).
  // Default: true.
  bool entity_vector_memtable = true;
  // Bits of the prediction ids' memtable bloom filter, as a share of the memtable's size;
  // 0 = none. Default: 0.02.
  double id_bloom_ratio = 0.02;
  // Whether the predictions and entity index families' files go without bloom filters.
  // Default: true.
  bool unread_filters_off = true;
  // Target size of the predictions family's files, in bytes; 0 = RocksDB's (64 MiB).
  // Default: 8 MiB.
  size_t predictions_file_bytes = size_t{8} << 20;
  // Whether the predictions, prediction ids and entity index families leave level 0 and the
  // base level uncompressed (compression_per_level). Default: true.
  bool fresh_levels_uncompressed = true;
  // Whether every family's indexes and filters are partitioned and kept in the block cache
  // (see above), each file's top level and level-0 files' partitions pinned. Default: true.
  bool metadata_in_cache = true;
};

// Installs the settings above through options->configure_family, keeping any set before.
void InstallIntakeFamilyTuning(kv::StoreOptions* options, const IntakeFamilyTuning& tuning = {});

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_FAMILY_TUNING_H_
