#include "libs/server/service_state.h"

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "prometheus/metric_family.h"
#include "tests/util/test_util.h"

namespace fabrique::server {
namespace {

TEST_CASE("a new data dir is created and claimed; reopening it works") {
  fabrique::testing::TempDir tmp;
  const std::string dir = tmp.path() + "/nested/features";
  {
    auto state = ServiceState::Open({dir, "features"});
    REQUIRE(state.ok());
    CHECK(std::filesystem::exists(dir + "/kv"));
    CHECK((*state)->data_dir() == dir);
  }
  CHECK(ServiceState::Open({dir, "features"}).ok());
}

TEST_CASE("another service's data dir is refused with FAILED_PRECONDITION") {
  fabrique::testing::TempDir tmp;
  REQUIRE(ServiceState::Open({tmp.path(), "features"}).ok());
  auto other = ServiceState::Open({tmp.path(), "registry"});
  CHECK(other.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(other.status().message(), "fabrique-features"));
  CHECK(absl::StrContains(other.status().message(), "own --data_dir"));
}

TEST_CASE("a data dir held by a running service is UNAVAILABLE") {
  fabrique::testing::TempDir tmp;
  auto first = ServiceState::Open({tmp.path(), "features"});
  REQUIRE(first.ok());
  auto second = ServiceState::Open({tmp.path(), "features"});
  CHECK(second.status().code() == absl::StatusCode::kUnavailable);
}

TEST_CASE("a data dir that cannot be created is FAILED_PRECONDITION") {
  fabrique::testing::TempDir tmp;
  const std::string file = tmp.path() + "/a-file";
  { std::ofstream(file) << "x"; }
  auto state = ServiceState::Open({file + "/below", "features"});
  CHECK(state.status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("a data dir written by a newer layout is refused with FAILED_PRECONDITION") {
  fabrique::testing::TempDir tmp;
  {
    auto state = ServiceState::Open({tmp.path(), "features"});
    REQUIRE(state.ok());
    kv::Store& store = (*state)->store();
    auto meta = store.Family("meta");
    REQUIRE(meta.ok());
    REQUIRE(store.Put(*meta, "layout_version", "99").ok());
  }
  auto state = ServiceState::Open({tmp.path(), "features"});
  CHECK(state.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(state.status().message(), "layout version 99"));
}

// The value of `name` with labels `labels` ("" for none) in `families`, or -1 when absent.
double Sample(const std::vector<prometheus::MetricFamily>& families, const std::string& name,
              const std::string& family_label = "") {
  for (const prometheus::MetricFamily& family : families) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      const bool labelled = !metric.label.empty() && metric.label[0].value == family_label;
      if (family_label.empty() ? metric.label.empty() : labelled) {
        return family.type == prometheus::MetricType::Counter ? metric.counter.value
                                                              : metric.gauge.value;
      }
    }
  }
  return -1;
}

TEST_CASE("the store's metrics report live data per family and block cache use") {
  fabrique::testing::TempDir tmp;
  ServiceStateOptions options;
  options.data_dir = tmp.path();
  options.service_name = "features";
  options.column_families = {"rows"};
  auto state = ServiceState::Open(options);
  REQUIRE(state.ok());
  kv::Store& store = (*state)->store();
  const kv::ColumnFamily rows = *store.Family("rows");

  std::vector<prometheus::MetricFamily> before = (*state)->metrics()->Collect();
  CHECK(Sample(before, "fabrique_features_live_data_bytes", "rows") == 0);
  CHECK(Sample(before, "fabrique_features_pending_compaction_bytes", "rows") == 0);

  // 2,000 rows of 1 KiB of random (incompressible) bytes, flushed to a table file.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string value(1024, '\0');
    for (char& c : value) c = static_cast<char>(rng());
    REQUIRE(store.Put(rows, absl::StrCat("key", i), value).ok());
  }
  const std::vector<prometheus::MetricFamily> unflushed = (*state)->metrics()->Collect();
  CHECK(Sample(unflushed, "fabrique_features_memtable_bytes", "rows") >= 2000 * 1024);
  // Nothing read yet: at most RocksDB's own small statistics entry.
  CHECK(Sample(unflushed, "fabrique_features_block_cache_bytes") >= 0);
  CHECK(Sample(unflushed, "fabrique_features_block_cache_bytes") < 1024);
  REQUIRE(store.Flush().ok());
  for (int i = 0; i < 100; ++i) REQUIRE(store.Get(rows, absl::StrCat("key", i)).ok());

  const std::vector<prometheus::MetricFamily> after = (*state)->metrics()->Collect();
  const double live = Sample(after, "fabrique_features_live_data_bytes", "rows");
  INFO("live_data_bytes{family=\"rows\"} = " << live);
  CHECK(live >= 2000 * 1024);
  CHECK(live < 2 * 2000 * 1024);
  CHECK(Sample(after, "fabrique_features_live_data_bytes", "meta") >= 0);
  const double hits = Sample(after, "fabrique_features_block_cache_hits_total");
  const double misses = Sample(after, "fabrique_features_block_cache_misses_total");
  CHECK(misses > 0);  // The first reads of the flushed blocks.
  CHECK(hits > 0);    // Later reads of the same blocks.
  CHECK(Sample(after, "fabrique_features_block_cache_hit_ratio") == Approx(hits / (hits + misses)));
  // The flush emptied the memtable; the blocks read are in the cache, none pinned by a reader
  // (RocksDB pins a small statistics entry of its own).
  CHECK(Sample(after, "fabrique_features_memtable_bytes", "rows") < 2000 * 1024 / 10);
  CHECK(Sample(after, "fabrique_features_table_readers_bytes", "rows") > 0);
  CHECK(Sample(after, "fabrique_features_block_cache_bytes") >= 100 * 1024);
  CHECK(Sample(after, "fabrique_features_block_cache_pinned_bytes") >= 0);
  CHECK(Sample(after, "fabrique_features_block_cache_pinned_bytes") < 1024);
  CHECK(Sample(after, "fabrique_features_block_cache_capacity_bytes") > 0);
}

TEST_CASE("missing options are INVALID_ARGUMENT") {
  CHECK(ServiceState::Open({"", "features"}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ServiceState::Open({"/tmp/x", ""}).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fabrique::server
