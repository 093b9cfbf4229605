#include "tools/bench/aggregate_write_bench.h"

#include <time.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

#include "tools/bench/aggregate_bench_store.h"

namespace fabrique::bench {
namespace {

constexpr int64_t kBaseTime = 1'700'000'000'000'000;  // Microseconds: November 2023.
constexpr char kSource[] = "payments";
constexpr char kAggregates[] = "payments_agg";
constexpr int kStreamBatchRows = 10'000;

double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

bool Check(const absl::Status& status, const char* what) {
  if (status.ok()) return true;
  std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
  return false;
}

absl::Status ApplyAggregates(const AggregateSizes& sizes, BenchFeatureStore& bench) {
  return bench
      .ApplyAggregationGroup(kAggregates, kSource, sizes.tile_micros,
                             {v1::AGGREGATION_FUNCTION_COUNT, v1::AGGREGATION_FUNCTION_SUM,
                              v1::AGGREGATION_FUNCTION_MEAN},
                             sizes.window_micros)
      .status();
}

// Ingests the payments into kSource in batches of `batch_rows`; false on a failed batch.
bool Ingest(const AggregateSizes& sizes, BenchFeatureStore& bench, int batch_rows, bool bulk) {
  bool ok = true;
  WritePayments(sizes, kBaseTime, "", kSource, batch_rows, [&](v1::IngestRequest& batch) {
    if (!ok) return;
    batch.set_bulk(bulk);
    absl::StatusOr<v1::IngestBatchResult> result = bench.store().Ingest(batch);
    ok = Check(result.status(), "ingest");
  });
  return ok;
}

void Print(const char* phase, int64_t rows, double wall, double cpu) {
  std::printf("  %-34s wall %7.2f s  cpu %7.2f s  %9.0f rows/s\n", phase, wall, cpu,
              static_cast<double>(rows) / wall);
  std::fflush(stdout);
}

// Ingests the payments as a stream into a fresh store, with or without the aggregation group.
bool Stream(const AggregateSizes& sizes, const std::string& dir, bool aggregated) {
  std::filesystem::remove_all(dir);
  std::unique_ptr<BenchFeatureStore> bench = BenchFeatureStore::Open(dir);
  if (!Check(bench->ApplyGroup(kSource, {"amount"}, v1::FEATURE_TYPE_DOUBLE), "apply source")) {
    return false;
  }
  if (aggregated && !Check(ApplyAggregates(sizes, *bench), "apply aggregation group")) {
    return false;
  }
  const double wall = WallSeconds(), cpu = ProcessCpuSeconds();
  if (!Ingest(sizes, *bench, kStreamBatchRows, /*bulk=*/false)) return false;
  Print(aggregated ? "ingest, source with aggregation" : "ingest, source alone",
        sizes.entities * sizes.events, WallSeconds() - wall, ProcessCpuSeconds() - cpu);
  return true;
}

}  // namespace

int RunWrite(const AggregateSizes& sizes, const std::string& dir) {
  std::filesystem::create_directories(dir);
  std::printf(
      "tile writes: %lld payments (%lld customers x %lld), count/sum/mean over 1h and 1d, tile "
      "%lld s, batches of %d rows for ingest, data in %s\n",
      static_cast<long long>(sizes.entities * sizes.events), static_cast<long long>(sizes.entities),
      static_cast<long long>(sizes.events), static_cast<long long>(sizes.tile_micros / 1'000'000),
      kStreamBatchRows, dir.c_str());
  const int64_t rows = sizes.entities * sizes.events;
  {
    std::filesystem::remove_all(dir + "/backfill");
    std::unique_ptr<BenchFeatureStore> bench = BenchFeatureStore::Open(dir + "/backfill");
    if (!Check(bench->ApplyGroup(kSource, {"amount"}, v1::FEATURE_TYPE_DOUBLE), "apply source") ||
        !Ingest(sizes, *bench, 200'000, /*bulk=*/true)) {
      return 1;
    }
    const double wall = WallSeconds(), cpu = ProcessCpuSeconds();
    if (!Check(ApplyAggregates(sizes, *bench), "apply aggregation group")) return 1;
    Print("backfill", rows, WallSeconds() - wall, ProcessCpuSeconds() - cpu);
  }
  if (!Stream(sizes, dir + "/stream_plain", /*aggregated=*/false) ||
      !Stream(sizes, dir + "/stream_aggregated", /*aggregated=*/true)) {
    return 1;
  }
  return 0;
}

}  // namespace fabrique::bench
