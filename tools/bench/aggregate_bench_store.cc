#include "tools/bench/aggregate_bench_store.h"

#include <chrono>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "tools/bench/aggregate_bench_data.h"
#include "tools/bench/bench_support.h"

namespace fabrique::bench {

std::unique_ptr<BenchFeatureStore> BenchFeatureStore::Open(const std::string& path) {
  std::unique_ptr<BenchFeatureStore> bench(new BenchFeatureStore());
  kv::StoreOptions kv_options;
  kv_options.path = path;
  features::FeatureStore::ConfigureStore(&kv_options, nullptr, bench->retention_);
  absl::StatusOr<std::unique_ptr<kv::Store>> kv = kv::Store::Open(kv_options);
  CheckOk(kv.status(), "open store");
  bench->kv_ = *std::move(kv);
  features::FeatureStoreOptions options;
  options.store = bench->kv_.get();
  options.retention = bench->retention_;
  absl::StatusOr<std::unique_ptr<features::FeatureStore>> store =
      features::FeatureStore::Create(options);
  CheckOk(store.status(), "feature store");
  bench->store_ = *std::move(store);
  bench->caller_.set_subject("bench");
  bench->caller_.set_squad("risk");
  v1::Entity customer;
  customer.set_name("customer");
  customer.set_join_key("customer_id");
  customer.set_owner_squad("risk");
  CheckOk(bench->store_->catalog().ApplyEntity(customer).status(), "apply entity");
  return bench;
}

absl::Status BenchFeatureStore::ApplyGroup(const std::string& name,
                                           const std::vector<std::string>& features,
                                           v1::FeatureType type) {
  v1::ApplyFeatureGroupRequest request;
  v1::FeatureGroupSpec* spec = request.mutable_spec();
  spec->set_name(name);
  spec->set_entity("customer");
  spec->set_owner_squad("risk");
  for (const std::string& feature : features) {
    v1::FeatureSpec* f = spec->add_features();
    f->set_name(feature);
    f->set_type(type);
  }
  return store_->ApplyFeatureGroup(request, caller_).status();
}

absl::StatusOr<std::vector<std::string>> BenchFeatureStore::ApplyAggregationGroup(
    const std::string& name, const std::string& source, int64_t tile_micros,
    const std::vector<v1::AggregationFunction>& aggregations,
    const std::vector<int64_t>& window_micros) {
  v1::ApplyFeatureGroupRequest request;
  v1::FeatureGroupSpec* spec = request.mutable_spec();
  spec->set_name(name);
  spec->set_entity("customer");
  spec->set_owner_squad("risk");
  v1::AggregationSpec* aggregation = spec->mutable_aggregation();
  aggregation->set_source_group(source);
  aggregation->mutable_tile()->set_seconds(tile_micros / 1'000'000);
  std::vector<std::string> names;
  for (v1::AggregationFunction function : aggregations) {
    v1::Aggregation* a = aggregation->add_aggregations();
    a->set_feature("amount");
    a->set_function(function);
    // "AGGREGATION_FUNCTION_SUM" -> "sum".
    const std::string fn = absl::AsciiStrToLower(
        v1::AggregationFunction_Name(function).substr(sizeof("AGGREGATION_FUNCTION_") - 1));
    for (int64_t window : window_micros) {
      a->add_windows()->set_seconds(window / 1'000'000);
      names.push_back(absl::StrCat("amount_", fn, "_", WindowName(window)));
    }
  }
  absl::StatusOr<v1::ApplyFeatureGroupResponse> applied =
      store_->ApplyFeatureGroup(request, caller_);
  if (!applied.ok()) return applied.status();
  return names;
}

double BenchFeatureStore::WaitForCompactions(double limit_s) {
  const auto start = std::chrono::steady_clock::now();
  auto waited = [&start] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  while (waited() < limit_s) {
    bool busy = false;
    for (const std::string& name : features::FeatureStore::ColumnFamilies()) {
      absl::StatusOr<kv::ColumnFamily> family = kv_->Family(name);
      CheckOk(family.status(), "family");
      for (const char* property : {"rocksdb.compaction-pending", "rocksdb.num-running-compactions",
                                   "rocksdb.mem-table-flush-pending"}) {
        absl::StatusOr<uint64_t> value = kv_->IntProperty(*family, property);
        CheckOk(value.status(), property);
        busy = busy || *value != 0;
      }
    }
    if (!busy) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return waited();
}

}  // namespace fabrique::bench
