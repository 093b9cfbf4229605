#include "services/features/tile_cache_metrics.h"

#include <string>

#include "prometheus/client_metric.h"
#include "prometheus/metric_type.h"

namespace fabrique::services {

std::vector<prometheus::MetricFamily> TileCacheMetrics::Collect() const {
  if (cache_ == nullptr) return {};
  using prometheus::MetricType;
  struct Figure {
    const char* name;
    const char* help;
    MetricType type;
    double value;
  };
  const Figure figures[] = {
      {"hits_total", "Entity lookups of aggregates answered from the tile cache.",
       MetricType::Counter, static_cast<double>(cache_->hits())},
      {"misses_total", "Entity lookups of aggregates that read the entity's tiles from the store.",
       MetricType::Counter, static_cast<double>(cache_->misses())},
      {"evictions_total", "Tile cache entries evicted to stay under its cap.", MetricType::Counter,
       static_cast<double>(cache_->evictions())},
      {"bytes", "Bytes the tile cache's entries count against its cap (--tile_cache_mib).",
       MetricType::Gauge, static_cast<double>(cache_->bytes())},
      {"entries", "Entities whose tiles the tile cache holds.", MetricType::Gauge,
       static_cast<double>(cache_->entries())},
  };
  std::vector<prometheus::MetricFamily> families;
  for (const Figure& figure : figures) {
    prometheus::MetricFamily& family = families.emplace_back();
    family.name = std::string("fabrique_features_tile_cache_") + figure.name;
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

}  // namespace fabrique::services
