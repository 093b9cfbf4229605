#ifndef FABRIQUE_SERVICES_FEATURES_CACHE_METRICS_H_
#define FABRIQUE_SERVICES_FEATURES_CACHE_METRICS_H_

// Prometheus metrics of the feature store's lookup caches, read at scrape time:
//   the tile cache (features::TileCache, behind aggregate lookups), fabrique_features_tile_cache_*
//   the online row cache (features::RowCache, behind LookupOnline), fabrique_features_row_cache_*
// each with
//   _hits_total / _misses_total   entities looked up answered from the cache / from the store
//   _evictions_total              entries evicted under the cap (counters)
//   _bytes / _entries             what the cache holds (gauges)
// A hit ratio that stays low with the bytes at the cap says the cache (--tile_cache_mib,
// --online_cache_mib) is too small for the entities looked up.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libs/features/storage/row_cache.h"
#include "libs/features/storage/tile_cache.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace fabrique::services {

// What a cache holds and has done, as its metrics report it.
struct CacheFigures {
  int64_t hits = 0;
  int64_t misses = 0;
  int64_t evictions = 0;
  size_t bytes = 0;
  int64_t entries = 0;
};

class CacheMetrics : public prometheus::Collectable {
 public:
  // `prefix` starts every family's name ("fabrique_features_tile_cache_"); `what` names what a
  // hit answers, for the help texts ("aggregates"); `flag` is the flag that sizes it. `read`
  // returns nothing when there is no cache (then nothing is collected).
  CacheMetrics(std::string prefix, std::string what, std::string flag,
               std::function<std::optional<CacheFigures>()> read)
      : prefix_(std::move(prefix)),
        what_(std::move(what)),
        flag_(std::move(flag)),
        read_(std::move(read)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const std::string prefix_, what_, flag_;
  const std::function<std::optional<CacheFigures>()> read_;
};

// The metrics of `cache`, which must outlive every scrape; null (no cache) collects nothing.
std::shared_ptr<CacheMetrics> TileCacheMetrics(const features::TileCache* cache);
std::shared_ptr<CacheMetrics> RowCacheMetrics(const features::RowCache* cache);

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_FEATURES_CACHE_METRICS_H_
