#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_HASH_MEMTABLE_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_HASH_MEMTABLE_H_

// A RocksDB memtable for column families read only by whole key (the online view): a hash table
// of buckets, each a list of entries with the newest first, and no ordered index at all.
//
//   insert   one hash and one pointer swap: ingest writes one online merge operand per entity
//            and batch, scattered over the entities;
//   lookup   hashes the key and reads its bucket (about as many entries as the memtable holds
//            per bucket);
//   flush    collects the entries bucket by bucket, each key's together, and sorts the keys
//            once on 8 bytes of each held beside it, which costs a fraction of what RocksDB's
//            hash skip-list memtable pays at that point: it inserts every entry into a new skip
//            list (24% of the server's CPU in streaming ingest before this memtable, about 12%
//            with a sort of every entry, less again sorting keys: ingest writes about five
//            entries per key between flushes).
//
// Relies on two of RocksDB's non-public types, as memtable_support.h says.
//
// An iterator over the whole memtable (a flush, an ingestion's overlap check, a total-order
// read) pays that sort; a prefix iterator sees only the entries of the key it seeks, so use it
// with a whole-key prefix extractor (FamilyTuning installs one). Inserts must not be concurrent
// (RocksDB's concurrent_memtable_writes off): each bucket lists a key's entries newest first
// because they arrive in sequence order; lookups may run concurrently with the insert.

#include <cstddef>
#include <memory>

namespace rocksdb {
class Comparator;
class MemTableRepFactory;
}  // namespace rocksdb

namespace fabrique::features {

// `buckets`: the hash table's size, fixed for the memtable's life; about one per key written
// between flushes. 8 bytes each. `comparator`: the family's (ColumnFamilyOptions::comparator;
// null = RocksDB's default, bytewise); flushes sort bytewise keys several times faster.
std::shared_ptr<rocksdb::MemTableRepFactory> NewHashMemTableFactory(
    size_t buckets, const rocksdb::Comparator* comparator);

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_HASH_MEMTABLE_H_
