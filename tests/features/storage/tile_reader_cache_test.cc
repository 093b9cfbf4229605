// TileReader with a TileCache: a cached lookup reads no tile from the store, and a write that
// commits between a lookup's read of the store and its insert into the cache is not hidden by
// what that lookup read.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/features/aggregation/aggregation_plan.h"
#include "libs/features/storage/tile_cache.h"
#include "libs/features/storage/tile_family.h"
#include "libs/features/storage/tile_reader.h"
#include "libs/features/storage/tile_updates.h"
#include "storage_test_util.h"

namespace fabrique::features {
namespace {

constexpr int64_t kMinute = 60'000'000;
constexpr int64_t kNow = 1'700'000'000'000'000 / kMinute * kMinute + 30'000'000;

// COUNT of the rows over 1 h.
std::shared_ptr<const AggregationPlan> HourlyCount() {
  v1::FeatureGroup source;
  source.mutable_spec()->set_name("payments");
  v1::AggregationSpec spec;
  spec.set_source_group("payments");
  v1::Aggregation* a = spec.add_aggregations();
  a->set_function(v1::AGGREGATION_FUNCTION_COUNT);
  a->add_windows()->set_seconds(3600);
  absl::StatusOr<std::shared_ptr<const AggregationPlan>> plan =
      AggregationPlan::Create(spec, source);
  STORAGE_REQUIRE_OK(plan);
  return *plan;
}

struct CachedTiles {
  std::unique_ptr<kv::Store> store;
  kv::ColumnFamily tiles;
  std::shared_ptr<const AggregationPlan> plan = HourlyCount();
  std::unique_ptr<TileCache> cache;
  std::unique_ptr<TileReader> reader;

  explicit CachedTiles(std::function<void()> before_cache_insert) {
    kv::StoreOptions options;
    options.path = "/in-memory/tile-cache";
    options.in_memory = true;
    options.column_families = {"tiles"};
    InstallTileFamily(&options);
    absl::StatusOr<std::unique_ptr<kv::Store>> opened = kv::Store::Open(std::move(options));
    STORAGE_REQUIRE_OK(opened);
    store = *std::move(opened);
    tiles = *store->Family("tiles");
    absl::StatusOr<std::unique_ptr<TileCache>> made = TileCache::Create({});
    STORAGE_REQUIRE_OK(made);
    cache = *std::move(made);
    TileReaderOptions reader_options;
    reader_options.store = store.get();
    reader_options.cache = cache.get();
    reader_options.before_cache_insert = std::move(before_cache_insert);
    absl::StatusOr<std::unique_ptr<TileReader>> created = TileReader::Create(reader_options);
    STORAGE_REQUIRE_OK(created);
    reader = *std::move(created);
  }

  // One row of `entity` a minute ago, written as ingest writes it: the eraser goes after the
  // commit.
  void Write(const std::string& entity) {
    TileCacheEraser eraser(cache.get());
    v1::RowBatch rows;
    rows.add_entity_keys(entity);
    rows.add_event_time_unix_micros(kNow - kMinute - static_cast<int64_t>(writes++));
    TileUpdates updates("agg", *plan);
    STORAGE_REQUIRE_OK(updates.Add(rows));
    eraser.Add("agg", updates.entities());
    kv::WriteBatch batch;
    updates.AppendTo(tiles, &batch);
    STORAGE_REQUIRE_OK(store->Write(batch));
  }

  std::optional<double> Count(const std::string& entity) {
    std::vector<std::vector<std::optional<double>>> values;
    STORAGE_REQUIRE_OK(reader->Read("agg", *plan, {entity}, kNow, {{0, 0}}, &values));
    return values[0][0];
  }

  int writes = 0;
};

TEST_CASE("A cached lookup reads no tile from the store", "[tile_cache]") {
  CachedTiles t(nullptr);
  t.Write("c");
  REQUIRE(t.Count("c") == 1);
  const int64_t read = t.reader->tiles_read();
  REQUIRE(t.Count("c") == 1);
  REQUIRE(t.reader->tiles_read() == read);
  REQUIRE(t.cache->hits() == 1);
  t.Write("c");
  REQUIRE(t.Count("c") == 2);
  REQUIRE(t.reader->tiles_read() > read);
}

TEST_CASE("A write between a lookup's read and its insert is not hidden", "[tile_cache]") {
  CachedTiles* tiles = nullptr;
  bool raced = false;
  CachedTiles t([&] {
    if (raced) return;
    raced = true;
    tiles->Write("c");
  });
  tiles = &t;
  t.Write("c");
  // Read before the second write committed: either count is right for a lookup concurrent with
  // it.
  const std::optional<double> during = t.Count("c");
  REQUIRE(raced);
  REQUIRE((during == 1 || during == 2));
  // The write has returned: its row counts.
  REQUIRE(t.Count("c") == 2);
  REQUIRE(t.Count("c") == 2);
}

}  // namespace
}  // namespace fabrique::features
