#include "libs/server/store_metrics.h"

#include "absl/strings/str_cat.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"
#include "prometheus/metric_type.h"
#include "rocksdb/statistics.h"

namespace fabrique::server {
namespace {

prometheus::MetricFamily Family(const std::string& name, const std::string& help,
                                prometheus::MetricType type) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  return family;
}

prometheus::ClientMetric Value(double value, prometheus::MetricType type,
                               std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return metric;
}

}  // namespace

StoreMetrics::StoreMetrics(const kv::Store* store, std::string service_name)
    : store_(store), prefix_(absl::StrCat("fabrique_", service_name, "_")) {}

std::vector<prometheus::MetricFamily> StoreMetrics::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> families;
  if (const auto statistics = store_->statistics(); statistics != nullptr) {
    const double hits = statistics->getTickerCount(rocksdb::BLOCK_CACHE_HIT);
    const double misses = statistics->getTickerCount(rocksdb::BLOCK_CACHE_MISS);
    families.push_back(Family(prefix_ + "block_cache_hits_total", "RocksDB block cache hits.",
                              MetricType::Counter));
    families.back().metric.push_back(Value(hits, MetricType::Counter));
    families.push_back(Family(prefix_ + "block_cache_misses_total", "RocksDB block cache misses.",
                              MetricType::Counter));
    families.back().metric.push_back(Value(misses, MetricType::Counter));
    families.push_back(Family(prefix_ + "block_cache_hit_ratio",
                              "RocksDB block cache hits / lookups since start (0 before any).",
                              MetricType::Gauge));
    families.back().metric.push_back(
        Value(hits + misses > 0 ? hits / (hits + misses) : 0, MetricType::Gauge));
  }
  auto pending =
      Family(prefix_ + "pending_compaction_bytes",
             "Bytes RocksDB compaction still has to rewrite, by column family.", MetricType::Gauge);
  auto live = Family(prefix_ + "live_data_bytes", "Estimated bytes of live data, by column family.",
                     MetricType::Gauge);
  for (const std::string& name : store_->FamilyNames()) {
    absl::StatusOr<kv::ColumnFamily> family = store_->Family(name);
    if (!family.ok()) continue;
    if (auto bytes = store_->IntProperty(*family, "rocksdb.estimate-pending-compaction-bytes");
        bytes.ok()) {
      pending.metric.push_back(Value(*bytes, MetricType::Gauge, {{"family", name}}));
    }
    if (auto bytes = store_->IntProperty(*family, "rocksdb.estimate-live-data-size"); bytes.ok()) {
      live.metric.push_back(Value(*bytes, MetricType::Gauge, {{"family", name}}));
    }
  }
  families.push_back(std::move(pending));
  families.push_back(std::move(live));
  return families;
}

}  // namespace fabrique::server
