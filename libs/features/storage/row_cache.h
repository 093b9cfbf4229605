#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_ROW_CACHE_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_ROW_CACHE_H_

// RowCache: the online rows of recently looked-up entities, as the store returns them (the
// newest row, operands merged), so that a lookup of a hot entity copies its row from a hash map
// instead of searching RocksDB's memtables, filters, indexes and cached blocks, about 4 µs an
// entity once the rows have left the memtables (two thirds of a 100-entity lookup's server CPU at
// 1M entities). It holds encoded rows, not answers: TTL is applied when a row is read, as for a
// row read from the store, so rows expire in the cache as they do in the store.
//
// Coherence with writes. A write of online rows brackets its commit with a RowCacheWrite:
// before the commit it drops the entries of the entities it writes and marks their shards as
// written (in flight, and the shard's generation moved); once the commit has returned, committed
// or failed, it unmarks them and moves the generation again. A lookup that misses takes a Ticket
// (its shard's generation) before it reads the store, and Insert refuses the row when the
// generation moved since or a write of the shard is in flight: the read may predate that write's
// commit. So an entry always holds the entity's row as the store has it now, and after a write
// returns no lookup sees the rows it replaced.
//
// One state for every entity of a lookup. An entry found at time t is the store's row from t
// until the next write of that entity begins. A lookup that mixes entries with rows read from the
// store (under a snapshot taken after it searched the cache) checks with Unchanged that no write
// began or ended in those entries' shards meanwhile; if one did, it reads those entities from the
// store under the same snapshot. So a lookup never sees half of a committed batch.
//
// Sharded by key; each shard is an LRU list capped at capacity_bytes / shards bytes.
//
// Thread-safe.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace fabrique::features {

struct RowCacheOptions {
  // Bytes of entries (key, row and bookkeeping: Cost) kept, all shards together; least recently
  // used entries go first. 0 disables the cache (Create returns null). Default: 256 MiB, about
  // 860,000 rows of 50 float features.
  size_t capacity_bytes = size_t{256} << 20;
  // Shards, each with its own lock, LRU list and index. Many and small: an index grows by
  // rehashing under its shard's lock, which stalls the lookups of that shard while the cache
  // fills, in proportion to the shard's size. Default: 256 (1 MiB each at the default cap).
  int shards = 256;
};

class RowCache {
 public:
  using Options = RowCacheOptions;

  // Null when capacity_bytes is 0; INVALID_ARGUMENT when shards < 1.
  static absl::StatusOr<std::unique_ptr<RowCache>> Create(Options options);

  // The bytes an entry of a `key_bytes` key and a `row_bytes` row counts against the cap.
  static size_t Cost(size_t key_bytes, size_t row_bytes);

  // A key's shard and its generation when the cache was searched; see Insert and Unchanged.
  struct Ticket {
    uint32_t shard = 0;
    uint64_t generation = 0;
  };

  // Copies the row of `key` (the online family's key) into `row` and marks it most recently
  // used; false when there is none. Either way, `ticket` is the key's, as of now.
  bool Find(absl::string_view key, std::string* row, Ticket* ticket);
  // Inserts or replaces the row of `key`, read from the store after `ticket` was taken, unless a
  // write of the shard began or ended since, one is in flight, or the entry alone exceeds a
  // shard's share of the cap. Evicts least recently used entries to stay under the cap.
  void Insert(absl::string_view key, absl::string_view row, const Ticket& ticket);
  // Whether no write of the ticket's shard began or ended since the ticket was taken, and none
  // is in flight: then what Find returned with it is still the store's row.
  bool Unchanged(const Ticket& ticket) const;

  // Seams for tests and metrics. Hits and misses count entities looked up.
  int64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  int64_t misses() const { return misses_.load(std::memory_order_relaxed); }
  int64_t evictions() const { return evictions_.load(std::memory_order_relaxed); }
  int64_t entries() const;
  size_t bytes() const;
  size_t capacity_bytes() const { return options_.capacity_bytes; }

 private:
  friend class RowCacheWrite;

  // One entry in one heap block: its links in its shard's LRU list, then its key and row. One
  // allocation an entry, not two (a list node and a string): on a cache filling up, malloc was
  // the biggest cost of a miss.
  struct Entry {
    Entry* prev = nullptr;
    Entry* next = nullptr;
    size_t bytes = 0;
    uint32_t key_size = 0;
    uint32_t row_size = 0;
    const char* data() const { return reinterpret_cast<const char*>(this + 1); }
    absl::string_view key() const { return absl::string_view(data(), key_size); }
    absl::string_view row() const { return absl::string_view(data() + key_size, row_size); }
    static Entry* New(absl::string_view key, absl::string_view row, size_t bytes);
    static void Delete(Entry* entry);
  };
  struct Shard {
    Shard() { lru.prev = lru.next = &lru; }
    ~Shard();
    mutable absl::Mutex mu;
    // The sentinel of a circular list, most recently used first.
    Entry lru;
    // The entries by key (views of their own keys).
    absl::flat_hash_map<absl::string_view, Entry*> index ABSL_GUARDED_BY(mu);
    size_t bytes ABSL_GUARDED_BY(mu) = 0;
    uint64_t generation ABSL_GUARDED_BY(mu) = 0;
    int writes_in_flight ABSL_GUARDED_BY(mu) = 0;
  };

  explicit RowCache(Options options);

  uint32_t ShardOf(absl::string_view key) const;
  // Moves `entry` (linked or new) to the front of `shard`'s list.
  static void MoveFirst(Shard& shard, Entry* entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  void EraseLocked(Shard& shard, Entry* entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  // RowCacheWrite's two steps; `keys_by_shard[s]` holds the keys written in shard s.
  void BeginWrite(const std::vector<std::vector<absl::string_view>>& keys_by_shard);
  void EndWrite(const std::vector<std::vector<absl::string_view>>& keys_by_shard);

  const Options options_;
  const size_t shard_capacity_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<int64_t> hits_{0};
  std::atomic<int64_t> misses_{0};
  std::atomic<int64_t> evictions_{0};
};

// Brackets one write of online rows (see RowCache): Add the online keys the write will change,
// call Begin before the commit, and destroy it once the commit has returned, committed or failed
// (a failed write may still be visible). Destroyed without Begin, it does nothing. Not
// thread-safe.
class RowCacheWrite {
 public:
  // `cache` may be null (nothing to do); not owned.
  explicit RowCacheWrite(RowCache* cache);
  ~RowCacheWrite();
  RowCacheWrite(const RowCacheWrite&) = delete;
  RowCacheWrite& operator=(const RowCacheWrite&) = delete;

  // `key` must stay valid until the object is destroyed.
  void Add(absl::string_view key);
  void Begin();

 private:
  RowCache* const cache_;
  std::vector<std::vector<absl::string_view>> keys_by_shard_;
  bool begun_ = false;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_ROW_CACHE_H_
