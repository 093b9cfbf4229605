// The tile cache's Prometheus metrics: its counters and gauges as the cache has them, and nothing
// without a cache.

#include "services/features/tile_cache_metrics.h"

#include <map>
#include <memory>
#include <string>

#include "catch2/catch.hpp"
#include "prometheus/metric_type.h"

namespace fabrique::services {
namespace {

TEST_CASE("The tile cache's metrics read the cache at each scrape", "[tile_cache]") {
  REQUIRE(TileCacheMetrics(nullptr).Collect().empty());
  std::unique_ptr<features::TileCache> cache = *features::TileCache::Create({});
  TileCacheMetrics metrics(cache.get());
  features::TileCache::Ticket ticket;
  cache->Find("k", &ticket);
  cache->CountMiss();
  cache->Insert("k", std::make_shared<features::TileCacheEntry>(), ticket);
  cache->CountHit();
  cache->CountHit();
  std::map<std::string, double> values;
  for (const prometheus::MetricFamily& family : metrics.Collect()) {
    REQUIRE(family.metric.size() == 1);
    values[family.name] = family.type == prometheus::MetricType::Counter
                              ? family.metric[0].counter.value
                              : family.metric[0].gauge.value;
  }
  REQUIRE(values.at("fabrique_features_tile_cache_hits_total") == 2);
  REQUIRE(values.at("fabrique_features_tile_cache_misses_total") == 1);
  REQUIRE(values.at("fabrique_features_tile_cache_evictions_total") == 0);
  REQUIRE(values.at("fabrique_features_tile_cache_entries") == 1);
  REQUIRE(values.at("fabrique_features_tile_cache_bytes") == cache->bytes());
  REQUIRE(cache->bytes() > 0);
}

}  // namespace
}  // namespace fabrique::services
