#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_RUN_MEMTABLE_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_RUN_MEMTABLE_H_

// A RocksDB memtable for column families written in ascending runs of keys and read mostly once
// flushed (history: ingest writes each batch's rows in key order, see BatchKeys):
//
//   insert  appends the entry to a vector;
//   flush   puts the entries in order by merging the ascending runs they were written in: one
//           pass finds the runs, then each pass merges pairs of runs, reading the entries in the
//           order they were written and comparing bytewise keys on 16 bytes held beside each
//           entry. RocksDB's vector memtable, which it replaces, sorts the whole vector with
//           comparisons of entries read from random places of the memtable (10% of the
//           server's CPU in streaming ingest). Entries written in no order at all fall back to
//           a sort;
//   reads   a scan of a memtable still written to copies and orders its entries, as RocksDB's
//           vector memtable does (history is rarely scanned before its flush); a read of one key
//           (Get) walks the entries for that key instead of ordering them all.
//
// Inserts must not be concurrent (RocksDB's concurrent_memtable_writes off); reads may run
// concurrently with them. Reads of one key compare user keys bytewise for equality, as the
// store's comparators do.

#include <memory>

namespace rocksdb {
class Comparator;
class MemTableRepFactory;
}  // namespace rocksdb

namespace fabrique::features {

// `comparator`: the family's (ColumnFamilyOptions::comparator; null = RocksDB's default,
// bytewise); flushes order bytewise keys several times faster.
std::shared_ptr<rocksdb::MemTableRepFactory> NewRunMemTableFactory(
    const rocksdb::Comparator* comparator);

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_RUN_MEMTABLE_H_
