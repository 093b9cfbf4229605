#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_TILE_CACHE_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_TILE_CACHE_H_

// TileCache: the merged tiles of recently looked-up entities, so that a lookup of a hot entity
// sums its windows from memory instead of seeking a few runs of tiles in RocksDB and merging each
// tile's operands on read (most of an uncached aggregate lookup's cost).
//
// An entry holds one entity's tiles of one aggregation group: every present tile that any of the
// group's windows covers as of any base tile of [first_base, last_base] (TileReader reads them at
// a miss), as RocksDB returns them (operands merged), in key order. It holds tiles, not window
// values, so windows slide with the clock with no write: a lookup computes the same cover as an
// uncached one, and decodes and merges the same tiles in the same order, bit-identical. A lookup
// past last_base misses and reloads.
//
// Coherence with writes. A write of an entity's tiles drops its entry once the write has
// committed (Erase, called before the write returns to its caller), and bumps its shard's
// generation. A lookup that misses takes a Ticket (the shard's generation) before reading the
// store, and Insert refuses its entry if the generation moved since: a write that committed
// while the lookup read may have been missed by that read. So after a write returns, no lookup
// sees the entity's tiles as they were before it. A lookup concurrent with a write may see either.
//
// Sharded by entity key; each shard is an LRU list capped at capacity_bytes / shards bytes.
//
// Thread-safe.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "libs/features/aggregation/tile_pyramid.h"
#include "libs/features/aggregation/tile_state.h"

namespace fabrique::features {

// What an entry's tiles were chosen for: the pyramid, the window lengths (in base tiles, sorted)
// and the slot count of the group's plan. An entry serves only a plan of the same shape.
struct TileCacheShape {
  int64_t tile_micros = 0;
  int fanout = 0;
  int levels = 0;
  int slots = 0;
  // Inline: a cached lookup builds one to compare with its entry's.
  absl::InlinedVector<int64_t, 4> window_tiles;
  bool operator==(const TileCacheShape& o) const {
    return tile_micros == o.tile_micros && fanout == o.fanout && levels == o.levels &&
           slots == o.slots && window_tiles == o.window_tiles;
  }
};

// One entity's cached tiles. Immutable once inserted; lookups share it.
struct TileCacheEntry {
  // Shared by the entries loaded for one shape.
  std::shared_ptr<const TileCacheShape> shape;
  // The base tiles (as-of times) whose window covers the entry holds entirely.
  int64_t first_base = 0;
  int64_t last_base = 0;
  // The present tiles, in key order (level, then index), and their states as the store encodes
  // them: tile i's is states[ends[i - 1], ends[i]) (from 0 for the first). Encoded, they take
  // only the fields the group's functions read (29 bytes for a count, sum and max, where a
  // decoded slot takes 64), and a lookup decodes them as an uncached one does.
  std::vector<TileRef> tiles;
  std::vector<uint32_t> ends;
  std::string states;

  absl::string_view State(size_t i) const {
    const uint32_t begin = i == 0 ? 0 : ends[i - 1];
    return absl::string_view(states).substr(begin, ends[i] - begin);
  }

  bool Serves(const TileCacheShape& want, int64_t base) const {
    return first_base <= base && base <= last_base && *shape == want;
  }
};

struct TileCacheOptions {
  // Bytes of entries (tiles, keys and bookkeeping: Cost) kept, all shards together; least
  // recently used entries go first. 0 disables the cache (Create returns null). Default: 64 MiB.
  size_t capacity_bytes = size_t{64} << 20;
  // Shards, each with its own lock and LRU list. Default: 16.
  int shards = 16;
};

class TileCache {
 public:
  using Options = TileCacheOptions;
  using Entry = TileCacheEntry;

  // Null when capacity_bytes is 0; INVALID_ARGUMENT when shards < 1.
  static absl::StatusOr<std::unique_ptr<TileCache>> Create(Options options);

  // The bytes `entry` under a key of `key_bytes` counts against the cap: its tiles, states and
  // key, and the cache's bookkeeping around them (for 1 h and 1 d windows of one input, about
  // 0.6 KiB an entity).
  static size_t Cost(const Entry& entry, size_t key_bytes);

  // The generation of a key's shard when a lookup missed; see Insert.
  struct Ticket {
    size_t shard = 0;
    uint64_t generation = 0;
  };

  // The entry of `key` (null if none), marked most recently used, and the ticket to insert a
  // fresh one with. `key` is EntityKeyPrefix(group, entity).
  std::shared_ptr<const Entry> Find(absl::string_view key, Ticket* ticket);
  // Inserts or replaces the entry of `key`, unless a write of the shard ended since `ticket` was
  // taken, or the entry alone exceeds a shard's share of the cap. Evicts least recently used
  // entries to stay under the cap.
  void Insert(absl::string_view key, std::shared_ptr<const Entry> entry, const Ticket& ticket);

  // Drops the entries of `keys`: call once their writes have committed, before the writes
  // return (see above).
  void Erase(absl::Span<const std::string> keys);
  // Drops every entry whose key starts with `prefix` (GroupKeyPrefix(group)): a group whose tiles
  // were rewritten wholesale.
  void ErasePrefix(absl::string_view prefix);

  // Seams for tests and metrics.
  int64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  int64_t misses() const { return misses_.load(std::memory_order_relaxed); }
  int64_t evictions() const { return evictions_.load(std::memory_order_relaxed); }
  int64_t entries() const;
  size_t bytes() const;
  size_t capacity_bytes() const { return options_.capacity_bytes; }
  // Counted by the caller: an entry found that does not serve the lookup is a miss.
  void CountHit() { hits_.fetch_add(1, std::memory_order_relaxed); }
  void CountMiss() { misses_.fetch_add(1, std::memory_order_relaxed); }

 private:
  struct Item {
    std::string key;
    std::shared_ptr<const Entry> entry;
    size_t bytes = 0;
  };
  struct Shard {
    mutable absl::Mutex mu;
    // Most recently used first.
    std::list<Item> lru ABSL_GUARDED_BY(mu);
    // Views of the keys held by `lru`'s items.
    absl::flat_hash_map<absl::string_view, std::list<Item>::iterator> index ABSL_GUARDED_BY(mu);
    size_t bytes ABSL_GUARDED_BY(mu) = 0;
    uint64_t generation ABSL_GUARDED_BY(mu) = 0;
  };

  explicit TileCache(Options options);

  size_t ShardOf(absl::string_view key) const;
  void EraseLocked(Shard& shard, std::list<Item>::iterator it)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);

  const Options options_;
  const size_t shard_capacity_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<int64_t> hits_{0};
  std::atomic<int64_t> misses_{0};
  std::atomic<int64_t> evictions_{0};
};

// The entries of the entities one write changes, dropped when it is destroyed. A writer makes one
// before its commit, adds the entities it writes, and destroys it once the write has returned
// (committed or failed: a failed write may still be visible), which keeps TileCache's promise.
// Not thread-safe.
class TileCacheEraser {
 public:
  // `cache` may be null (nothing to drop); not owned.
  explicit TileCacheEraser(TileCache* cache) : cache_(cache) {}
  ~TileCacheEraser() {
    if (cache_ != nullptr && !keys_.empty()) cache_->Erase(keys_);
  }
  TileCacheEraser(const TileCacheEraser&) = delete;
  TileCacheEraser& operator=(const TileCacheEraser&) = delete;

  // Adds `entities` of aggregation group `group`.
  void Add(absl::string_view group, absl::Span<const std::string> entities);

 private:
  TileCache* const cache_;
  std::vector<std::string> keys_;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_TILE_CACHE_H_
