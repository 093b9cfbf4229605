#ifndef FABRIQUE_SERVICES_FEATURES_TILE_CACHE_METRICS_H_
#define FABRIQUE_SERVICES_FEATURES_TILE_CACHE_METRICS_H_

// Prometheus metrics of the feature store's tile cache (features::TileCache, behind aggregate
// lookups), read at scrape time:
//   fabrique_features_tile_cache_hits_total / _misses_total   entity lookups answered from the
//                                                             cache / from the store (counters)
//   fabrique_features_tile_cache_evictions_total              entries evicted under the cap
//   fabrique_features_tile_cache_bytes / _entries             what the cache holds (gauges)
// A hit ratio that stays low with the bytes at the cap says --tile_cache_mib is too small for the
// entities looked up.

#include <vector>

#include "libs/features/storage/tile_cache.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace fabrique::services {

class TileCacheMetrics : public prometheus::Collectable {
 public:
  // `cache` must outlive every scrape; null (no cache) collects nothing.
  explicit TileCacheMetrics(const features::TileCache* cache) : cache_(cache) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const features::TileCache* const cache_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_FEATURES_TILE_CACHE_METRICS_H_
