#include "libs/features/storage/tile_cache.h"

#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/match.h"
#include "libs/features/storage/storage_keys.h"

namespace fabrique::features {
size_t TileCache::Cost(const Entry& entry, size_t key_bytes) {
  // An allocator's header per heap block; its rounding is not counted.
  constexpr size_t kBlock = 16;
  // The LRU node (an Item and its two links), the index slot, the shared entry with its control
  // block, the key beyond the string's inline buffer, and the tiles and their states (ditto).
  size_t bytes = sizeof(Item) + 2 * sizeof(void*) + kBlock;
  bytes += sizeof(absl::string_view) + sizeof(std::list<Item>::iterator) + 1;
  bytes += sizeof(Entry) + 2 * sizeof(void*) + kBlock;
  if (key_bytes >= sizeof(std::string)) bytes += key_bytes + 1 + kBlock;
  bytes += entry.tiles.capacity() * sizeof(TileRef) + kBlock;
  bytes += entry.ends.capacity() * sizeof(uint32_t) + kBlock;
  if (entry.states.capacity() >= sizeof(std::string)) bytes += entry.states.capacity() + kBlock;
  return bytes;
}

absl::StatusOr<std::unique_ptr<TileCache>> TileCache::Create(Options options) {
  if (options.shards < 1) {
    return absl::InvalidArgumentError("TileCacheOptions.shards must be at least 1");
  }
  if (options.capacity_bytes == 0) return std::unique_ptr<TileCache>();
  return std::unique_ptr<TileCache>(new TileCache(options));
}

TileCache::TileCache(Options options)
    : options_(options), shard_capacity_(options.capacity_bytes / options.shards) {
  shards_.reserve(options.shards);
  for (int i = 0; i < options.shards; ++i) shards_.push_back(std::make_unique<Shard>());
}

size_t TileCache::ShardOf(absl::string_view key) const {
  return absl::Hash<absl::string_view>()(key) % shards_.size();
}

std::shared_ptr<const TileCache::Entry> TileCache::Find(absl::string_view key, Ticket* ticket) {
  ticket->shard = ShardOf(key);
  Shard& shard = *shards_[ticket->shard];
  absl::MutexLock lock(&shard.mu);
  ticket->generation = shard.generation;
  auto it = shard.index.find(key);
  if (it == shard.index.end()) return nullptr;
  shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
  return it->second->entry;
}

void TileCache::Insert(absl::string_view key, std::shared_ptr<const Entry> entry,
                       const Ticket& ticket) {
  const size_t bytes = Cost(*entry, key.size());
  if (bytes > shard_capacity_) return;
  Shard& shard = *shards_[ticket.shard];
  absl::MutexLock lock(&shard.mu);
  // A write ended since the lookup took its ticket: what it read may predate that write.
  if (shard.generation != ticket.generation) return;
  auto found = shard.index.find(key);
  if (found != shard.index.end()) EraseLocked(shard, found->second);
  shard.lru.push_front(Item{std::string(key), std::move(entry), bytes});
  shard.index.emplace(shard.lru.front().key, shard.lru.begin());
  shard.bytes += bytes;
  while (shard.bytes > shard_capacity_) {
    EraseLocked(shard, std::prev(shard.lru.end()));
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
}

void TileCache::EraseLocked(Shard& shard, std::list<Item>::iterator it) {
  shard.bytes -= it->bytes;
  shard.index.erase(it->key);
  shard.lru.erase(it);
}

void TileCache::Erase(absl::Span<const std::string> keys) {
  // Grouped by shard: one lock and one generation step per shard, whatever the batch's size.
  std::vector<std::vector<absl::string_view>> by_shard(shards_.size());
  for (const std::string& key : keys) by_shard[ShardOf(key)].push_back(key);
  for (size_t s = 0; s < shards_.size(); ++s) {
    if (by_shard[s].empty()) continue;
    Shard& shard = *shards_[s];
    absl::MutexLock lock(&shard.mu);
    ++shard.generation;
    for (absl::string_view key : by_shard[s]) {
      auto it = shard.index.find(key);
      if (it != shard.index.end()) EraseLocked(shard, it->second);
    }
  }
}

void TileCache::ErasePrefix(absl::string_view prefix) {
  for (const std::unique_ptr<Shard>& shard : shards_) {
    absl::MutexLock lock(&shard->mu);
    ++shard->generation;
    for (auto it = shard->lru.begin(); it != shard->lru.end();) {
      auto next = std::next(it);
      if (absl::StartsWith(it->key, prefix)) EraseLocked(*shard, it);
      it = next;
    }
  }
}

int64_t TileCache::entries() const {
  int64_t n = 0;
  for (const std::unique_ptr<Shard>& shard : shards_) {
    absl::MutexLock lock(&shard->mu);
    n += static_cast<int64_t>(shard->index.size());
  }
  return n;
}

size_t TileCache::bytes() const {
  size_t n = 0;
  for (const std::unique_ptr<Shard>& shard : shards_) {
    absl::MutexLock lock(&shard->mu);
    n += shard->bytes;
  }
  return n;
}

void TileCacheEraser::Add(absl::string_view group, absl::Span<const std::string> entities) {
  if (cache_ == nullptr || entities.empty()) return;
  std::string key = GroupKeyPrefix(group);
  const size_t prefix = key.size();
  for (const std::string& entity : entities) {
    key.resize(prefix);
    AppendEntity(&key, entity);
    keys_.push_back(key);
  }
}

}  // namespace fabrique::features
