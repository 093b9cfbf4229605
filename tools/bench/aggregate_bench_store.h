#ifndef FABRIQUE_TOOLS_BENCH_AGGREGATE_BENCH_STORE_H_
#define FABRIQUE_TOOLS_BENCH_AGGREGATE_BENCH_STORE_H_

// The feature store in process for features_aggregate_bench: a FeatureStore over a RocksDB store
// in a directory, with entity "customer", a source group of payments (feature "amount", DOUBLE)
// and aggregation groups over it, defined as a squad would through the service.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fabrique/v1/features.pb.h"
#include "libs/features/store/feature_store.h"
#include "libs/kv/store.h"

namespace fabrique::bench {

class BenchFeatureStore {
 public:
  // Opens (creating) the store in `path` and defines entity "customer".
  static std::unique_ptr<BenchFeatureStore> Open(const std::string& path);

  features::FeatureStore& store() { return *store_; }
  const v1::Principal& caller() const { return caller_; }

  // Applies a plain group of `features` (each `type`) for "customer".
  absl::Status ApplyGroup(const std::string& name, const std::vector<std::string>& features,
                          v1::FeatureType type);
  // Applies an aggregation group over `source` with tile `tile_micros` and `aggregations`
  // (each over the source's "amount" over `window_micros`); returns its output feature names in
  // output order.
  absl::StatusOr<std::vector<std::string>> ApplyAggregationGroup(
      const std::string& name, const std::string& source, int64_t tile_micros,
      const std::vector<v1::AggregationFunction>& aggregations,
      const std::vector<int64_t>& window_micros);

  // Waits until RocksDB has no compaction pending or running in any of the feature store's
  // families (at most `limit_s`), so that a timed phase after a load is not charged for the
  // load's compactions, whose threads count in the process's CPU time. Returns the seconds
  // waited.
  double WaitForCompactions(double limit_s = 900);

 private:
  BenchFeatureStore() = default;

  std::shared_ptr<features::RetentionPolicies> retention_ =
      std::make_shared<features::RetentionPolicies>();
  std::unique_ptr<kv::Store> kv_;
  std::unique_ptr<features::FeatureStore> store_;
  v1::Principal caller_;
};

}  // namespace fabrique::bench

#endif  // FABRIQUE_TOOLS_BENCH_AGGREGATE_BENCH_STORE_H_
