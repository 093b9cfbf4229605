// The lookup caches' Prometheus metrics: their counters and gauges as each cache has them, and
// nothing without a cache.

#include "services/features/cache_metrics.h"

#include <map>
#include <memory>
#include <string>

#include "catch2/catch.hpp"
#include "prometheus/metric_type.h"

namespace fabrique::services {
namespace {

std::map<std::string, double> Values(const CacheMetrics& metrics) {
  std::map<std::string, double> values;
  for (const prometheus::MetricFamily& family : metrics.Collect()) {
    REQUIRE(family.metric.size() == 1);
    REQUIRE_FALSE(family.help.empty());
    values[family.name] = family.type == prometheus::MetricType::Counter
                              ? family.metric[0].counter.value
                              : family.metric[0].gauge.value;
  }
  return values;
}

TEST_CASE("The tile cache's metrics read the cache at each scrape", "[tile_cache]") {
  REQUIRE(TileCacheMetrics(nullptr)->Collect().empty());
  std::unique_ptr<features::TileCache> cache = *features::TileCache::Create({});
  const std::shared_ptr<CacheMetrics> metrics = TileCacheMetrics(cache.get());
  features::TileCache::Ticket ticket;
  cache->Find("k", &ticket);
  cache->CountMiss();
  cache->Insert("k", std::make_shared<features::TileCacheEntry>(), ticket);
  cache->CountHit();
  cache->CountHit();
  const std::map<std::string, double> values = Values(*metrics);
  REQUIRE(values.at("fabrique_features_tile_cache_hits_total") == 2);
  REQUIRE(values.at("fabrique_features_tile_cache_misses_total") == 1);
  REQUIRE(values.at("fabrique_features_tile_cache_evictions_total") == 0);
  REQUIRE(values.at("fabrique_features_tile_cache_entries") == 1);
  REQUIRE(values.at("fabrique_features_tile_cache_bytes") == cache->bytes());
  REQUIRE(cache->bytes() > 0);
}

TEST_CASE("The row cache's metrics read the cache at each scrape", "[row_cache]") {
  REQUIRE(RowCacheMetrics(nullptr)->Collect().empty());
  std::unique_ptr<features::RowCache> cache = *features::RowCache::Create({});
  const std::shared_ptr<CacheMetrics> metrics = RowCacheMetrics(cache.get());
  features::RowCache::Ticket ticket;
  std::string row;
  REQUIRE_FALSE(cache->Find("k", &row, &ticket));
  cache->Insert("k", "row", ticket);
  REQUIRE(cache->Find("k", &row, &ticket));
  REQUIRE(cache->Find("k", &row, &ticket));
  const std::map<std::string, double> values = Values(*metrics);
  REQUIRE(values.at("fabrique_features_row_cache_hits_total") == 2);
  REQUIRE(values.at("fabrique_features_row_cache_misses_total") == 1);
  REQUIRE(values.at("fabrique_features_row_cache_evictions_total") == 0);
  REQUIRE(values.at("fabrique_features_row_cache_entries") == 1);
  REQUIRE(values.at("fabrique_features_row_cache_bytes") == cache->bytes());
  REQUIRE(cache->bytes() == features::RowCache::Cost(1, 3));
}

}  // namespace
}  // namespace fabrique::services
