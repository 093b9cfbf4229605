#include "libs/features/storage/row_cache.h"

#include <cstring>
#include <new>
#include <utility>

#include "absl/hash/hash.h"

namespace fabrique::features {

size_t RowCache::Cost(size_t key_bytes, size_t row_bytes) {
  // The entry's heap block with an allocator's header (its rounding is not counted), and its
  // index slot at the hash map's 7/8 maximum load, with its control byte.
  constexpr size_t kBlock = 16;
  const size_t entry = sizeof(Entry) + key_bytes + row_bytes + kBlock;
  const size_t slot = (sizeof(absl::string_view) + sizeof(Entry*) + 1) * 8 / 7;
  return entry + slot;
}

RowCache::Entry* RowCache::Entry::New(absl::string_view key, absl::string_view row, size_t bytes) {
  void* block = ::operator new(sizeof(Entry) + key.size() + row.size());
  Entry* entry = new (block) Entry;
  entry->bytes = bytes;
  entry->key_size = static_cast<uint32_t>(key.size());
  entry->row_size = static_cast<uint32_t>(row.size());
  char* data = reinterpret_cast<char*>(entry + 1);
  std::memcpy(data, key.data(), key.size());
  std::memcpy(data + key.size(), row.data(), row.size());
  return entry;
}

void RowCache::Entry::Delete(Entry* entry) {
  entry->~Entry();
  ::operator delete(entry);
}

RowCache::Shard::~Shard() {
  for (Entry* entry = lru.next; entry != &lru;) {
    Entry* next = entry->next;
    Entry::Delete(entry);
    entry = next;
  }
}

void RowCache::MoveFirst(Shard& shard, Entry* entry) {
  if (entry->prev != nullptr) {
    entry->prev->next = entry->next;
    entry->next->prev = entry->prev;
  }
  entry->prev = &shard.lru;
  entry->next = shard.lru.next;
  shard.lru.next->prev = entry;
  shard.lru.next = entry;
}

absl::StatusOr<std::unique_ptr<RowCache>> RowCache::Create(Options options) {
  if (options.shards < 1) {
    return absl::InvalidArgumentError("RowCacheOptions.shards must be at least 1");
  }
  if (options.capacity_bytes == 0) return std::unique_ptr<RowCache>();
  return std::unique_ptr<RowCache>(new RowCache(options));
}

RowCache::RowCache(Options options)
    : options_(options), shard_capacity_(options.capacity_bytes / options.shards) {
  shards_.reserve(options.shards);
  // The indexes grow as entries come. Sized up front for the cap, each would hold about 1.5 MiB
  // of slots, and entries land in them at random: 10,000 entries touched about 30 MiB of pages.
  for (int i = 0; i < options.shards; ++i) shards_.push_back(std::make_unique<Shard>());
}

uint32_t RowCache::ShardOf(absl::string_view key) const {
  return static_cast<uint32_t>(absl::Hash<absl::string_view>()(key) % shards_.size());
}

bool RowCache::Find(absl::string_view key, std::string* row, Ticket* ticket) {
  ticket->shard = ShardOf(key);
  Shard& shard = *shards_[ticket->shard];
  {
    absl::MutexLock lock(&shard.mu);
    ticket->generation = shard.generation;
    auto it = shard.index.find(key);
    if (it != shard.index.end()) {
      MoveFirst(shard, it->second);
      const absl::string_view cached = it->second->row();
      row->assign(cached.data(), cached.size());
      hits_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void RowCache::Insert(absl::string_view key, absl::string_view row, const Ticket& ticket) {
  const size_t bytes = Cost(key.size(), row.size());
  if (bytes > shard_capacity_) return;
  // Built outside the lock: the copy is most of an insert.
  Entry* entry = Entry::New(key, row, bytes);
  Shard& shard = *shards_[ticket.shard];
  absl::MutexLock lock(&shard.mu);
  // A write began or ended since the ticket, or is under way: the row read may predate it.
  if (shard.generation != ticket.generation || shard.writes_in_flight > 0) {
    Entry::Delete(entry);
    return;
  }
  auto found = shard.index.find(key);
  if (found != shard.index.end()) EraseLocked(shard, found->second);
  MoveFirst(shard, entry);
  shard.index.emplace(entry->key(), entry);
  shard.bytes += bytes;
  while (shard.bytes > shard_capacity_) {
    EraseLocked(shard, shard.lru.prev);
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
}

bool RowCache::Unchanged(const Ticket& ticket) const {
  const Shard& shard = *shards_[ticket.shard];
  absl::MutexLock lock(&shard.mu);
  return shard.generation == ticket.generation && shard.writes_in_flight == 0;
}

void RowCache::EraseLocked(Shard& shard, Entry* entry) {
  shard.bytes -= entry->bytes;
  shard.index.erase(entry->key());
  entry->prev->next = entry->next;
  entry->next->prev = entry->prev;
  Entry::Delete(entry);
}

void RowCache::BeginWrite(const std::vector<std::vector<absl::string_view>>& keys_by_shard) {
  for (size_t s = 0; s < keys_by_shard.size(); ++s) {
    if (keys_by_shard[s].empty()) continue;
    Shard& shard = *shards_[s];
    absl::MutexLock lock(&shard.mu);
    ++shard.generation;
    ++shard.writes_in_flight;
    for (absl::string_view key : keys_by_shard[s]) {
      auto it = shard.index.find(key);
      if (it != shard.index.end()) EraseLocked(shard, it->second);
    }
  }
}

void RowCache::EndWrite(const std::vector<std::vector<absl::string_view>>& keys_by_shard) {
  for (size_t s = 0; s < keys_by_shard.size(); ++s) {
    if (keys_by_shard[s].empty()) continue;
    Shard& shard = *shards_[s];
    absl::MutexLock lock(&shard.mu);
    ++shard.generation;
    --shard.writes_in_flight;
  }
}

int64_t RowCache::entries() const {
  int64_t n = 0;
  for (const std::unique_ptr<Shard>& shard : shards_) {
    absl::MutexLock lock(&shard->mu);
    n += static_cast<int64_t>(shard->index.size());
  }
  return n;
}

size_t RowCache::bytes() const {
  size_t n = 0;
  for (const std::unique_ptr<Shard>& shard : shards_) {
    absl::MutexLock lock(&shard->mu);
    n += shard->bytes;
  }
  return n;
}

RowCacheWrite::RowCacheWrite(RowCache* cache) : cache_(cache) {
  if (cache_ != nullptr) keys_by_shard_.resize(cache_->shards_.size());
}

RowCacheWrite::~RowCacheWrite() {
  if (begun_) cache_->EndWrite(keys_by_shard_);
}

void RowCacheWrite::Add(absl::string_view key) {
  if (cache_ != nullptr) keys_by_shard_[cache_->ShardOf(key)].push_back(key);
}

void RowCacheWrite::Begin() {
  if (cache_ == nullptr || begun_) return;
  begun_ = true;
  cache_->BeginWrite(keys_by_shard_);
}

}  // namespace fabrique::features
