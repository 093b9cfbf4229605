#ifndef FABRIQUE_LIBS_SERVER_STORE_METRICS_H_
#define FABRIQUE_LIBS_SERVER_STORE_METRICS_H_

// Prometheus metrics of a stateful service's RocksDB store, read at scrape time (no thread, no
// staleness):
//   fabrique_<service>_block_cache_hits_total / _block_cache_misses_total   (counters)
//   fabrique_<service>_block_cache_hit_ratio            hits / (hits + misses) since start
//   fabrique_<service>_pending_compaction_bytes{family} bytes compaction still has to rewrite
//   fabrique_<service>_live_data_bytes{family}          estimated size of live data
//   fabrique_<service>_memtable_bytes{family}           memtables, active, immutable and pinned
//   fabrique_<service>_table_readers_bytes{family}      open files' indexes and filters
//   fabrique_<service>_block_cache_bytes / _block_cache_pinned_bytes / _block_cache_capacity_bytes
// The block-cache figures need kv::StoreOptions::enable_statistics (ServiceState sets it).

#include <memory>
#include <string>
#include <vector>

#include "libs/kv/store.h"
#include "prometheus/collectable.h"

namespace fabrique::server {

class StoreMetrics : public prometheus::Collectable {
 public:
  // `store` must outlive every scrape (remove the collectable before closing the store).
  StoreMetrics(const kv::Store* store, std::string service_name);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const kv::Store* store_;
  std::string prefix_;
};

}  // namespace fabrique::server

#endif  // FABRIQUE_LIBS_SERVER_STORE_METRICS_H_
