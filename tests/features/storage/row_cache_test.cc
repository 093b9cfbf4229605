// RowCache on its own: options, least-recently-used eviction under the byte cap, and the write
// brackets that keep a lookup from inserting, or trusting, a row that a write may have replaced.

#include "libs/features/storage/row_cache.h"

#include <memory>
#include <string>

#include "catch2/catch.hpp"

namespace fabrique::features {
namespace {

std::unique_ptr<RowCache> Make(size_t capacity_bytes, int shards = 1) {
  RowCacheOptions options;
  options.capacity_bytes = capacity_bytes;
  options.shards = shards;
  absl::StatusOr<std::unique_ptr<RowCache>> cache = RowCache::Create(options);
  REQUIRE(cache.ok());
  return *std::move(cache);
}

bool Has(RowCache& cache, const std::string& key, std::string* row = nullptr) {
  RowCache::Ticket ticket;
  std::string found;
  const bool hit = cache.Find(key, &found, &ticket);
  if (row != nullptr) *row = found;
  return hit;
}

void Load(RowCache& cache, const std::string& key, const std::string& row) {
  RowCache::Ticket ticket;
  std::string ignored;
  cache.Find(key, &ignored, &ticket);
  cache.Insert(key, row, ticket);
}

TEST_CASE("A row cache of 0 bytes is none, and shards must be positive", "[row_cache]") {
  REQUIRE(Make(0) == nullptr);
  RowCacheOptions options;
  options.shards = 0;
  REQUIRE(RowCache::Create(options).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("A row is copied out as inserted, and replaced by a later insert", "[row_cache]") {
  std::unique_ptr<RowCache> cache = Make(1 << 20, 4);
  const std::string row(200, 'r');
  Load(*cache, "online/c1", row);
  std::string found;
  REQUIRE(Has(*cache, "online/c1", &found));
  REQUIRE(found == row);
  REQUIRE_FALSE(Has(*cache, "online/c2"));
  Load(*cache, "online/c1", "newer");
  REQUIRE(Has(*cache, "online/c1", &found));
  REQUIRE(found == "newer");
  REQUIRE(cache->entries() == 1);
  REQUIRE(cache->bytes() == RowCache::Cost(9, 5));
  REQUIRE(cache->hits() == 3);
  REQUIRE(cache->misses() == 2);
}

TEST_CASE("The least recently used rows go first, and the cap holds", "[row_cache]") {
  const std::string row(100, 'x');
  const size_t one = RowCache::Cost(2, row.size());
  std::unique_ptr<RowCache> cache = Make(3 * one);
  for (const char* key : {"k1", "k2", "k3"}) Load(*cache, key, row);
  REQUIRE(Has(*cache, "k1"));  // k1 is now the most recently used; k2 the least.
  Load(*cache, "k4", row);
  REQUIRE_FALSE(Has(*cache, "k2"));
  REQUIRE(Has(*cache, "k1"));
  REQUIRE(Has(*cache, "k3"));
  REQUIRE(Has(*cache, "k4"));
  REQUIRE(cache->bytes() <= 3 * one);
  REQUIRE(cache->evictions() == 1);
  // A row bigger than a shard's share is never kept.
  Load(*cache, "big", std::string(4 * one, 'b'));
  REQUIRE_FALSE(Has(*cache, "big"));
}

TEST_CASE("A write drops its rows and refuses what lookups read around its commit", "[row_cache]") {
  std::unique_ptr<RowCache> cache = Make(1 << 20);
  Load(*cache, "k1", "old");
  Load(*cache, "k2", "other");
  RowCache::Ticket before_write;
  std::string row;
  REQUIRE_FALSE(cache->Find("k3", &row, &before_write));
  RowCache::Ticket k2_ticket;
  REQUIRE(cache->Find("k2", &row, &k2_ticket));
  {
    const std::string key = "k1";
    RowCacheWrite write(cache.get());
    write.Add(key);
    write.Begin();
    // Dropped before the commit: no lookup can find the row the write replaces.
    REQUIRE_FALSE(Has(*cache, "k1"));
    // Rows of the shard not written stay, but a lookup that found one before the write began
    // can no longer trust it to be the store's at a later snapshot.
    REQUIRE(Has(*cache, "k2"));
    REQUIRE_FALSE(cache->Unchanged(k2_ticket));
    // During the write, a lookup that missed cannot insert what it read: it may predate the
    // commit.
    RowCache::Ticket during;
    REQUIRE_FALSE(cache->Find("k1", &row, &during));
    cache->Insert("k1", "read during the write", during);
    REQUIRE_FALSE(Has(*cache, "k1"));
    REQUIRE_FALSE(cache->Unchanged(during));
  }
  // After it, a ticket taken before the write still cannot insert.
  cache->Insert("k3", "read before the write", before_write);
  REQUIRE_FALSE(Has(*cache, "k3"));
  // A ticket taken after the write can, and sees no change until the next write.
  RowCache::Ticket after;
  REQUIRE_FALSE(cache->Find("k1", &row, &after));
  cache->Insert("k1", "new", after);
  REQUIRE(Has(*cache, "k1", &row));
  REQUIRE(row == "new");
  REQUIRE(cache->Unchanged(after));
  // A bracket never begun changes nothing; a null cache is allowed.
  {
    RowCacheWrite unused(cache.get());
    unused.Add("k1");
  }
  REQUIRE(cache->Unchanged(after));
  RowCacheWrite none(nullptr);
  none.Add("k1");
  none.Begin();
}

TEST_CASE("A write leaves other shards' rows trusted", "[row_cache]") {
  std::unique_ptr<RowCache> cache = Make(1 << 20, 8);
  // Two keys in different shards.
  RowCache::Ticket first, second;
  std::string row;
  std::string other;
  cache->Find("k0", &row, &first);
  for (int i = 1; other.empty(); ++i) {
    const std::string key = "k" + std::to_string(i);
    cache->Find(key, &row, &second);
    if (second.shard != first.shard) other = key;
  }
  cache->Insert(other, "row", second);
  REQUIRE(cache->Find(other, &row, &second));
  const std::string key = "k0";
  RowCacheWrite write(cache.get());
  write.Add(key);
  write.Begin();
  REQUIRE(cache->Unchanged(second));
  REQUIRE(Has(*cache, other));
}

}  // namespace
}  // namespace fabrique::features
