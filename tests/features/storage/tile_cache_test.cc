// TileCache on its own: options, least-recently-used eviction under the byte cap, and the
// tickets that keep a lookup which read the store before a write from inserting what it read
// after the write's Erase.

#include "libs/features/storage/tile_cache.h"

#include <memory>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/features/storage/storage_keys.h"

namespace fabrique::features {
namespace {

std::shared_ptr<const TileCacheEntry> EntryOf(int tiles) {
  auto entry = std::make_shared<TileCacheEntry>();
  auto shape = std::make_shared<TileCacheShape>();
  shape->slots = 1;
  entry->shape = shape;
  for (int i = 0; i < tiles; ++i) {
    entry->tiles.push_back({0, i});
    TileState state(1);
    state.slot(0).Add(i, i);
    state.AppendTo(&entry->states);
    entry->ends.push_back(static_cast<uint32_t>(entry->states.size()));
  }
  return entry;
}

std::unique_ptr<TileCache> Make(size_t capacity_bytes, int shards = 1) {
  TileCacheOptions options;
  options.capacity_bytes = capacity_bytes;
  options.shards = shards;
  absl::StatusOr<std::unique_ptr<TileCache>> cache = TileCache::Create(options);
  REQUIRE(cache.ok());
  return *std::move(cache);
}

bool Has(TileCache& cache, const std::string& key) {
  TileCache::Ticket ticket;
  return cache.Find(key, &ticket) != nullptr;
}

TEST_CASE("A tile cache of 0 bytes is none, and shards must be positive", "[tile_cache]") {
  REQUIRE(Make(0) == nullptr);
  TileCacheOptions options;
  options.shards = 0;
  REQUIRE(TileCache::Create(options).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("The least recently used entries go first, and the cap holds", "[tile_cache]") {
  const size_t one = TileCache::Cost(*EntryOf(10), 2);
  std::unique_ptr<TileCache> cache = Make(3 * one);
  TileCache::Ticket ticket;
  for (const char* key : {"k1", "k2", "k3"}) {
    REQUIRE(cache->Find(key, &ticket) == nullptr);
    cache->Insert(key, EntryOf(10), ticket);
  }
  REQUIRE(cache->entries() == 3);
  REQUIRE(Has(*cache, "k1"));  // Now the most recently used.
  cache->Find("k4", &ticket);
  cache->Insert("k4", EntryOf(10), ticket);
  REQUIRE(cache->evictions() == 1);
  REQUIRE_FALSE(Has(*cache, "k2"));
  REQUIRE(Has(*cache, "k1"));
  REQUIRE(Has(*cache, "k3"));
  REQUIRE(Has(*cache, "k4"));
  REQUIRE(cache->bytes() <= 3 * one);
  // An entry larger than the whole cap is not kept, and evicts nothing.
  cache->Find("big", &ticket);
  cache->Insert("big", EntryOf(1000), ticket);
  REQUIRE_FALSE(Has(*cache, "big"));
  REQUIRE(cache->entries() == 3);
}

TEST_CASE("A write that ends after a lookup's ticket makes its insert a no-op", "[tile_cache]") {
  std::unique_ptr<TileCache> cache = Make(size_t{1} << 20, 4);
  TileCache::Ticket before;
  REQUIRE(cache->Find("k", &before) == nullptr);
  // The write commits and erases while the lookup reads the store.
  cache->Erase({"k"});
  cache->Insert("k", EntryOf(3), before);
  REQUIRE_FALSE(Has(*cache, "k"));
  // A lookup that starts after the write inserts.
  TileCache::Ticket after;
  cache->Find("k", &after);
  cache->Insert("k", EntryOf(3), after);
  REQUIRE(Has(*cache, "k"));
  // The eraser of a write drops its entities' entries when it goes.
  const std::string key = EntityKeyPrefix("g", "e1");
  cache->Find(key, &after);
  cache->Insert(key, EntryOf(3), after);
  REQUIRE(Has(*cache, key));
  {
    TileCacheEraser eraser(cache.get());
    eraser.Add("g", {"e1", "e2"});
    REQUIRE(Has(*cache, key));
  }
  REQUIRE_FALSE(Has(*cache, key));
}

TEST_CASE("Erasing a group's prefix drops its entries only", "[tile_cache]") {
  std::unique_ptr<TileCache> cache = Make(size_t{1} << 20, 4);
  TileCache::Ticket ticket;
  for (const char* group : {"a", "ab", "b"}) {
    const std::string key = EntityKeyPrefix(group, "e");
    cache->Find(key, &ticket);
    cache->Insert(key, EntryOf(2), ticket);
  }
  cache->ErasePrefix(GroupKeyPrefix("a"));
  REQUIRE_FALSE(Has(*cache, EntityKeyPrefix("a", "e")));
  REQUIRE(Has(*cache, EntityKeyPrefix("ab", "e")));
  REQUIRE(Has(*cache, EntityKeyPrefix("b", "e")));
}

}  // namespace
}  // namespace fabrique::features
