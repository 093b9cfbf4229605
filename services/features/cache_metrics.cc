#include "services/features/cache_metrics.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_type.h"

namespace fabrique::services {

std::vector<prometheus::MetricFamily> CacheMetrics::Collect() const {
  const std::optional<CacheFigures> read = read_();
  if (!read.has_value()) return {};
  using prometheus::MetricType;
  struct Figure {
    const char* name;
    std::string help;
    MetricType type;
    double value;
  };
  const Figure figures[] = {
      {"hits_total", absl::StrCat("Entity lookups of ", what_, " answered from the cache."),
       MetricType::Counter, static_cast<double>(read->hits)},
      {"misses_total", absl::StrCat("Entity lookups of ", what_, " that read the store."),
       MetricType::Counter, static_cast<double>(read->misses)},
      {"evictions_total", "Cache entries evicted to stay under its cap.", MetricType::Counter,
       static_cast<double>(read->evictions)},
      {"bytes", absl::StrCat("Bytes the cache's entries count against its cap (", flag_, ")."),
       MetricType::Gauge, static_cast<double>(read->bytes)},
      {"entries", "Entities the cache holds.", MetricType::Gauge,
       static_cast<double>(read->entries)},
  };
  std::vector<prometheus::MetricFamily> families;
  for (const Figure& figure : figures) {
    prometheus::MetricFamily& family = families.emplace_back();
    family.name = prefix_ + figure.name;
    family.help = figure.help;
    family.type = figure.type;
    prometheus::ClientMetric& metric = family.metric.emplace_back();
    if (figure.type == MetricType::Counter) {
      metric.counter.value = figure.value;
    } else {
      metric.gauge.value = figure.value;
    }
  }
  return families;
}

namespace {

// The figures of either cache: both have the same seams.
template <typename Cache>
std::function<std::optional<CacheFigures>()> FiguresOf(const Cache* cache) {
  return [cache]() -> std::optional<CacheFigures> {
    if (cache == nullptr) return std::nullopt;
    return CacheFigures{cache->hits(), cache->misses(), cache->evictions(), cache->bytes(),
                        cache->entries()};
  };
}

}  // namespace

std::shared_ptr<CacheMetrics> TileCacheMetrics(const features::TileCache* cache) {
  return std::make_shared<CacheMetrics>("fabrique_features_tile_cache_", "aggregates",
                                        "--tile_cache_mib", FiguresOf(cache));
}

std::shared_ptr<CacheMetrics> RowCacheMetrics(const features::RowCache* cache) {
  return std::make_shared<CacheMetrics>("fabrique_features_row_cache_", "online rows",
                                        "--online_cache_mib", FiguresOf(cache));
}

}  // namespace fabrique::services
