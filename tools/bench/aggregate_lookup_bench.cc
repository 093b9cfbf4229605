#include "tools/bench/aggregate_lookup_bench.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/features/storage/tile_cache.h"
#include "tools/bench/aggregate_bench_data.h"
#include "tools/bench/aggregate_bench_store.h"
#include "tools/bench/bench_support.h"
#include "tools/bench/split_mix.h"

namespace fabrique::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kMinute = int64_t{60} * 1'000'000;
constexpr int kPayments = 20;    // Per customer.
constexpr int kCheckEvery = 25;  // Aggregate answers checked.
constexpr int kPlainFeatures = 8;

// What a customer's 1 d window holds for the whole run (its payments are 1 min to 23 h old).
struct Expected {
  int64_t count = 0;
  double sum = 0;
};

// Ingests the plain rows and the payments (row batches, as a stream would), returns the
// expected 1 d count and sum per customer.
std::vector<Expected> Load(const LookupSizes& sizes, BenchFeatureStore& bench) {
  const int64_t now = absl::ToUnixMicros(absl::Now());
  SplitMix random(7);
  std::vector<Expected> expected(sizes.entities);
  v1::IngestRequest plain, payments;
  auto flush = [&bench](v1::IngestRequest& request, const std::string& group,
                        const std::vector<std::string>& features) {
    if (request.rows().entity_keys_size() > 0) {
      absl::StatusOr<v1::IngestBatchResult> result = bench.store().Ingest(request);
      CheckOk(result.status(), "ingest");
      CheckOk(result->rows_rejected() == 0 ? absl::OkStatus()
                                           : absl::InternalError(result->DebugString()),
              "ingest rejects");
    }
    request.Clear();
    request.set_group(group);
    for (const std::string& f : features) {
      request.mutable_rows()->add_columns()->mutable_feature()->set_feature(f);
    }
  };
  std::vector<std::string> plain_features;
  for (int f = 0; f < kPlainFeatures; ++f) plain_features.push_back(absl::StrCat("f", f));
  flush(plain, "profile", plain_features);
  flush(payments, "live_payments", {"amount"});
  for (int64_t e = 0; e < sizes.entities; ++e) {
    const std::string key = CustomerKey(e);
    plain.mutable_rows()->add_entity_keys(key);
    plain.mutable_rows()->add_event_time_unix_micros(now - kMinute);
    for (int f = 0; f < kPlainFeatures; ++f) {
      plain.mutable_rows()
          ->mutable_columns(f)
          ->mutable_values()
          ->mutable_double_values()
          ->add_values(static_cast<double>(random.Below(1000)));
    }
    for (int p = 0; p < kPayments; ++p) {
      const double amount = static_cast<double>(1 + random.Below(100'000));
      payments.mutable_rows()->add_entity_keys(key);
      // Unique times: p minutes apart at least, spread over 23 h.
      payments.mutable_rows()->add_event_time_unix_micros(
          now - kMinute * (1 + p * 60 + random.Below(60)));
      payments.mutable_rows()
          ->mutable_columns(0)
          ->mutable_values()
          ->mutable_double_values()
          ->add_values(amount);
      expected[e].count += 1;
      expected[e].sum += amount;
    }
    if (payments.rows().entity_keys_size() >= 10'000) flush(payments, "live_payments", {"amount"});
    if (plain.rows().entity_keys_size() >= 10'000) flush(plain, "profile", plain_features);
  }
  flush(payments, "live_payments", {"amount"});
  flush(plain, "profile", plain_features);
  return expected;
}

v1::LookupOnlineRequest Request(const std::string& group, const std::vector<std::string>& names) {
  v1::LookupOnlineRequest request;
  for (const std::string& name : names) {
    v1::FeatureRef* ref = request.add_features();
    ref->set_group(group);
    ref->set_feature(name);
  }
  request.add_entity_keys()->set_entity("customer");
  return request;
}

// The 1 d count and sum in an aggregate answer (features in ApplyAggregationGroup's order:
// count 1h, count 1d, sum 1h, sum 1d, ...).
absl::Status Check(const v1::LookupOnlineResponse& response, const Expected& expected) {
  const v1::OnlineFeatureColumn& count = response.columns(1);
  const v1::OnlineFeatureColumn& sum = response.columns(3);
  if (count.values().int64_values().values_size() != 1 ||
      count.values().int64_values().values(0) != expected.count ||
      sum.statuses(0) != v1::VALUE_STATUS_PRESENT ||
      sum.values().double_values().values(0) != expected.sum) {
    return absl::InternalError(absl::StrCat("expected count ", expected.count, " and sum ",
                                            expected.sum, ", got ", response.DebugString()));
  }
  return absl::OkStatus();
}

struct Latencies {
  std::vector<double> p50_ms, p99_ms;
};

double Millis(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

int RunLookup(const LookupSizes& sizes, const std::string& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::unique_ptr<BenchFeatureStore> bench = BenchFeatureStore::Open(dir + "/store");
  std::vector<std::string> plain_features;
  for (int f = 0; f < kPlainFeatures; ++f) plain_features.push_back(absl::StrCat("f", f));
  CheckOk(bench->ApplyGroup("profile", plain_features, v1::FEATURE_TYPE_DOUBLE), "profile");
  CheckOk(bench->ApplyGroup("live_payments", {"amount"}, v1::FEATURE_TYPE_DOUBLE), "payments");
  absl::StatusOr<std::vector<std::string>> aggregates =
      bench->ApplyAggregationGroup("live_agg", "live_payments", kMinute,
                                   {v1::AGGREGATION_FUNCTION_COUNT, v1::AGGREGATION_FUNCTION_SUM,
                                    v1::AGGREGATION_FUNCTION_MEAN, v1::AGGREGATION_FUNCTION_MAX},
                                   {60 * kMinute, 24 * 60 * kMinute});
  if (!aggregates.ok()) {
    std::printf("aggregate lookup: aggregation groups unavailable (%s); not measured\n",
                aggregates.status().ToString().c_str());
    return 0;
  }
  const std::vector<Expected> expected = Load(sizes, *bench);
  const v1::LookupOnlineRequest plain_request = Request("profile", plain_features);
  const v1::LookupOnlineRequest aggregate_request = Request("live_agg", *aggregates);
  std::printf(
      "\naggregate lookup: %lld customers, %d payments each over the last 23 h; %lld "
      "lookups of 1 customer per kind and repeat, in process\n",
      static_cast<long long>(sizes.entities), kPayments, static_cast<long long>(sizes.lookups));
  // One pair of lookups of customer `e`, alternating which kind goes first; their times.
  int64_t pairs = 0;
  auto pair = [&](int64_t e, double ms[2]) {
    const std::string key = CustomerKey(e);
    v1::LookupOnlineRequest requests[2] = {plain_request, aggregate_request};
    v1::LookupOnlineResponse answers[2];
    for (int k = 0; k < 2; ++k) {
      const int which = (pairs + k) % 2;
      requests[which].mutable_entity_keys(0)->add_keys(key);
      const auto start = Clock::now();
      CheckOk(bench->store().LookupOnline(requests[which], &answers[which]), "lookup");
      ms[which] = Millis(Clock::now() - start);
    }
    if (pairs++ % kCheckEvery == 0) CheckOk(Check(answers[1], expected[e]), "aggregate answer");
  };
  const features::TileCache* cache = bench->store().aggregations().tile_cache();
  // Every customer once, in a random order, before the repeats: the first lookup of a customer
  // reads its tiles from the store (and fills the tile cache, when there is one); the repeats
  // then measure a hot set that the cache holds whole.
  {
    SplitMix shuffle(13);
    std::vector<int64_t> order(sizes.entities);
    for (int64_t e = 0; e < sizes.entities; ++e) order[e] = e;
    for (int64_t e = sizes.entities - 1; e > 0; --e)
      std::swap(order[e], order[shuffle.Below(e + 1)]);
    std::vector<double> plain_ms, aggregate_ms;
    for (int64_t e : order) {
      double ms[2];
      pair(e, ms);
      plain_ms.push_back(ms[0]);
      aggregate_ms.push_back(ms[1]);
    }
    std::printf(
        "  first lookup of each customer: plain p50 %.4f / p99 %.4f ms, 8 aggregates p50 %.4f / "
        "p99 %.4f ms\n",
        Percentile(plain_ms, 50), Percentile(plain_ms, 99), Percentile(aggregate_ms, 50),
        Percentile(aggregate_ms, 99));
  }
  Latencies plain, aggregate;
  SplitMix random(11);
  for (int r = 0; r < sizes.repeats; ++r) {
    std::vector<double> plain_ms, aggregate_ms;
    const int64_t warmup = std::min<int64_t>(1000, sizes.lookups / 10);
    const int64_t hits = cache != nullptr ? cache->hits() : 0;
    const int64_t misses = cache != nullptr ? cache->misses() : 0;
    for (int64_t i = 0; i < warmup + sizes.lookups; ++i) {
      double ms[2];
      pair(random.Below(sizes.entities), ms);
      if (i < warmup) continue;
      plain_ms.push_back(ms[0]);
      aggregate_ms.push_back(ms[1]);
    }
    plain.p50_ms.push_back(Percentile(plain_ms, 50));
    plain.p99_ms.push_back(Percentile(plain_ms, 99));
    aggregate.p50_ms.push_back(Percentile(aggregate_ms, 50));
    aggregate.p99_ms.push_back(Percentile(aggregate_ms, 99));
    std::printf("  repeat %d: plain p50 %.4f / p99 %.4f ms, 8 aggregates p50 %.4f / p99 %.4f ms",
                r + 1, plain.p50_ms.back(), plain.p99_ms.back(), aggregate.p50_ms.back(),
                aggregate.p99_ms.back());
    if (cache != nullptr) {
      std::printf(" (tile cache: %lld hits, %lld misses, %.1f MiB)",
                  static_cast<long long>(cache->hits() - hits),
                  static_cast<long long>(cache->misses() - misses),
                  static_cast<double>(cache->bytes()) / (1 << 20));
    }
    std::printf("\n");
  }
  const double ratio = Median(aggregate.p99_ms) / Median(plain.p99_ms);
  std::printf("\naggregate lookup, 1 customer, median of %d repeats (in process)\n", sizes.repeats);
  std::printf("%-34s %9s %9s\n", "", "p50 ms", "p99 ms");
  std::printf("%-34s %9.4f %9.4f\n", "plain: 8 DOUBLE features", Median(plain.p50_ms),
              Median(plain.p99_ms));
  std::printf("%-34s %9.4f %9.4f\n", "aggregates: 8 (4 fns x 1h, 1d)", Median(aggregate.p50_ms),
              Median(aggregate.p99_ms));
  std::printf("p99 ratio %.2fx (goal <= 1.5x: %s)\n", ratio, ratio <= 1.5 ? "met" : "MISSED");
  return 0;
}

}  // namespace fabrique::bench
