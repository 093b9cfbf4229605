#include "libs/server/store_metrics.h"

#include <optional>

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

struct CacheGauge {
  const char* property;
  const char* name;
  const char* help;
};
// What the block cache holds, so that a service's memory can be told apart: the cache fills up
// to its capacity by design, a leak does not stop there.
constexpr CacheGauge kCacheGauges[] = {
    {"rocksdb.block-cache-usage", "block_cache_bytes",
     "Bytes held by the RocksDB block cache (it fills up to its capacity)."},
    {"rocksdb.block-cache-pinned-usage", "block_cache_pinned_bytes",
     "Bytes of the RocksDB block cache pinned by readers (not evictable)."},
    {"rocksdb.block-cache-capacity", "block_cache_capacity_bytes",
     "Capacity of the RocksDB block cache, in bytes."},
};

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
  auto memtables = Family(prefix_ + "memtable_bytes",
                          "Memory of RocksDB's memtables, active, immutable and pinned, by column "
                          "family: the unflushed writes.",
                          MetricType::Gauge);
  auto table_readers =
      Family(prefix_ + "table_readers_bytes",
             "Memory of RocksDB's open table files outside the block cache (their indexes and "
             "filters), by column family: it grows with the data.",
             MetricType::Gauge);
  std::optional<kv::ColumnFamily> first_family;
  for (const std::string& name : store_->FamilyNames()) {
    absl::StatusOr<kv::ColumnFamily> family = store_->Family(name);
    if (!family.ok()) continue;
    if (!first_family.has_value()) first_family = *family;
    if (auto bytes = store_->IntProperty(*family, "rocksdb.size-all-mem-tables"); bytes.ok()) {
      memtables.metric.push_back(Value(*bytes, MetricType::Gauge, {{"family", name}}));
    }
    if (auto bytes = store_->IntProperty(*family, "rocksdb.estimate-table-readers-mem");
        bytes.ok()) {
      table_readers.metric.push_back(Value(*bytes, MetricType::Gauge, {{"family", name}}));
    }
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
  families.push_back(std::move(memtables));
  families.push_back(std::move(table_readers));
  // The block cache is shared by every family: any family answers for all of them.
  if (first_family.has_value()) {
    for (const auto& [property, name, help] : kCacheGauges) {
      if (auto bytes = store_->IntProperty(*first_family, property); bytes.ok()) {
        families.push_back(Family(prefix_ + name, help, MetricType::Gauge));
        families.back().metric.push_back(Value(*bytes, MetricType::Gauge));
      }
    }
  }
  return families;
}

}  // namespace fabrique::server
