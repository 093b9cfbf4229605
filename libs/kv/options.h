#ifndef FABRIQUE_LIBS_KV_OPTIONS_H_
#define FABRIQUE_LIBS_KV_OPTIONS_H_

// Options for opening a Store and for its reads and writes.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace rocksdb {
class Env;
struct ColumnFamilyOptions;
}  // namespace rocksdb

namespace fabrique::kv {

class Snapshot;

// How durable a write is when it returns. A write is always in the write-ahead log before it is
// acknowledged, so it survives a crash of the process; kSync also fsyncs the log, so it survives
// a power loss or a kernel crash, at the price of one fsync (RocksDB groups concurrent ones).
enum class SyncMode {
  kStoreDefault,  // StoreOptions::sync_writes decides.
  kSync,          // fsync the write-ahead log before returning.
  kNoSync,        // Leave the log in the OS page cache.
};

struct StoreOptions {
  // Directory that holds the database. Created, with missing parents, when create_if_missing.
  // Required: there is no default.
  std::string path;

  // Column families the caller needs besides "default", which always exists. Families already in
  // the database are opened as well, whether listed or not. Names must be unique and non-empty.
  // Default: none.
  std::vector<std::string> column_families;

  // Creates the database when `path` holds none; when false, a missing database is NOT_FOUND.
  // Default: true.
  bool create_if_missing = true;

  // Creates listed column families that the database lacks; when false, a missing one is
  // NOT_FOUND naming it. Default: true.
  bool create_missing_column_families = true;

  // Whether writes made with SyncMode::kStoreDefault fsync the write-ahead log before returning
  // (see SyncMode). Default: false (survives a process crash, not a power loss).
  bool sync_writes = false;

  // Capacity of the LRU block cache shared by every column family, in bytes; 0 disables it.
  // Default: 64 MiB.
  size_t block_cache_bytes = size_t{64} << 20;

  // Bloom filter bits per key in SST files, which spare a disk read for most lookups of absent
  // keys; 0 disables them. Default: 10 (about 1% false positives).
  double bloom_bits_per_key = 10.0;

  // Size of one memtable per column family, in bytes, before it is flushed to disk.
  // Default: 64 MiB.
  size_t write_buffer_bytes = size_t{64} << 20;

  // Cap on the memtables of all column families together, in bytes: past it RocksDB flushes
  // the largest one (db_write_buffer_size). Without a cap a database of N families may hold N
  // full memtables, N x write_buffer_bytes, and its memory climbs for as long as writes trickle
  // into them. 0: no cap. Default: 0.
  size_t total_write_buffer_bytes = 0;

  // SST files held open at once (RocksDB's max_open_files). Each open file takes one descriptor
  // of the process's limit (core::OpenFileLimit) and keeps its table reader in memory; past the
  // cap the least recently read are closed and opened again when next read (a read of their
  // footer and index). -1: every file, for as long as the store is open, so a store that outgrows
  // the limit fails its next file or connection with EMFILE. 0: a quarter of the process's limit
  // when the store opens, at least 64, or every file when the limit is unlimited (see
  // ResolvedMaxOpenFiles). Otherwise at least 20, RocksDB's floor. RocksDB spreads the cap over
  // 64 shards, each rounded up to whole files, so a store may pass it by a few dozen files.
  // Default: 0.
  int max_open_files = 0;

  // Threads for background flushes and compactions, shared by the column families.
  // Default: 2.
  int background_jobs = 2;

  // Lets several writers insert into the memtables at once (RocksDB's
  // allow_concurrent_memtable_write). Must be false when any family uses a memtable that does
  // not support it, such as the append-only vector memtable. Default: true.
  bool concurrent_memtable_writes = true;

  // Lets a group of concurrent writers insert into the memtables while the next group writes the
  // log (RocksDB's enable_pipelined_write): more writes a second from many threads, a little
  // more latency for one. Default: false.
  bool pipelined_writes = false;

  // Keeps the database in memory (rocksdb::NewMemEnv, owned by the Store): nothing is written to
  // disk and everything is lost when the Store closes. For tests. Cannot be combined with `env`.
  // Default: false.
  bool in_memory = false;

  // The Env seam: the rocksdb::Env through which every file is read and written, for example a
  // shared in-memory Env (NewInMemoryEnv) that outlives several Stores, or a fault-injecting one.
  // Not owned; must outlive the Store. Default: nullptr = rocksdb::Env::Default(), the real disk.
  rocksdb::Env* env = nullptr;

  // Collects RocksDB tickers and histograms (block cache hits, stalls, bytes written) for
  // metrics, read through Store::statistics(). Costs a few percent of CPU. Default: false.
  bool enable_statistics = false;

  // Called on RocksDB's flush thread each time a flush has written its file, just before the
  // flushed memtable's memory is freed; for instance to hand that memory back to the system soon
  // after (server::MemoryReturn::Soon). Must be quick and thread-safe. Default: none.
  std::function<void()> after_flush;
  // Adjusts a column family's RocksDB options just before it is opened or created, for features
  // this library does not wrap yet (a compaction filter for retention, a merge operator, a prefix
  // extractor). Called with the family's name, once per family per open. Default: none.
  std::function<void(const std::string& family, rocksdb::ColumnFamilyOptions* options)>
      configure_family;
};

// The cap a Store with StoreOptions::max_open_files = `configured` holds open, in a process whose
// open-file limit is `process_limit` (-1: unlimited or unknown): -1 means every file.
int ResolvedMaxOpenFiles(int configured, int64_t process_limit);

// Options for one read or iterator.
struct ReadOptions {
  // Reads the Store as it was when this snapshot was taken. Not owned; must outlive the read and
  // any iterator made with it. Default: nullptr = the latest committed state.
  const Snapshot* snapshot = nullptr;

  // Whether the blocks read are kept in the block cache. Set false for large one-off scans
  // (training sets, backfills) so they do not evict the hot set. Default: true.
  bool fill_cache = true;

  // Reads only what is in memory (the memtables and the block cache), never the disk: a read that
  // would need a file fails with an error for which IsNotInMemory() is true, at once. Lets a
  // latency-critical caller answer from memory on its own thread and hand only the rest to a
  // thread that may wait for the disk. Default: false.
  bool memory_only = false;

  // Iterates in the order of the whole key even in a family with a prefix extractor, whose
  // iterators otherwise keep order only within the prefix of the key they seek to (and may skip
  // files by their prefix bloom filters). For scans across prefixes. Default: false.
  bool total_order_seek = false;
};

// True for the error of a ReadOptions::memory_only read that needed the disk.
bool IsNotInMemory(const absl::Status& status);

}  // namespace fabrique::kv

#endif  // FABRIQUE_LIBS_KV_OPTIONS_H_
