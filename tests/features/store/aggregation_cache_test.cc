// The cache of tiles behind aggregate lookups (TileCache), through the FeatureStore core:
// answers equal to the bit to a store without it, through interleaved ingest, late events, bulk
// batches and backfill; no stale answer once an ingest has returned, with threads ingesting and
// looking up; windows that slide with no write; the byte cap, and 0 turning it off.

#include <atomic>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "catch2/catch.hpp"
#include "libs/features/storage/tile_cache.h"
#include "libs/features/store/feature_store.h"
#include "tests/features/store/aggregation_fixture.h"

namespace fabrique::features {
namespace {

// Every output of `group`'s plan, as "group:feature".
std::vector<std::string> Outputs(Fixture& f, const std::string& group) {
  std::vector<std::string> names;
  for (const v1::FeatureSpec& out : f.store->aggregations().PlanOf(group)->OutputFeatures()) {
    names.push_back(group + ":" + out.name());
  }
  return names;
}

// Both stores answer every output of `group` for `entities` with the same statuses and the same
// bits.
void RequireSameAnswers(Fixture& cached, Fixture& uncached, const std::string& group,
                        const std::vector<std::string>& entities) {
  const std::vector<std::string> names = Outputs(cached, group);
  absl::StatusOr<v1::LookupOnlineResponse> a = cached.Lookup(names, entities);
  absl::StatusOr<v1::LookupOnlineResponse> b = uncached.Lookup(names, entities);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(a->columns_size() == b->columns_size());
  for (int c = 0; c < a->columns_size(); ++c) {
    const v1::OnlineFeatureColumn& x = a->columns(c);
    const v1::OnlineFeatureColumn& y = b->columns(c);
    INFO(names[c]);
    REQUIRE(x.statuses_size() == static_cast<int>(entities.size()));
    for (int e = 0; e < x.statuses_size(); ++e) {
      REQUIRE(x.statuses(e) == y.statuses(e));
    }
    REQUIRE(x.values().int64_values().values_size() == y.values().int64_values().values_size());
    for (int e = 0; e < x.values().int64_values().values_size(); ++e) {
      REQUIRE(x.values().int64_values().values(e) == y.values().int64_values().values(e));
    }
    REQUIRE(x.values().double_values().values_size() == y.values().double_values().values_size());
    for (int e = 0; e < x.values().double_values().values_size(); ++e) {
      const double u = x.values().double_values().values(e);
      const double v = y.values().double_values().values(e);
      REQUIRE(std::memcmp(&u, &v, sizeof(double)) == 0);
    }
  }
}

// The 1 d count of `entity` in "daily".
int64_t DailyCount(Fixture& f, const std::string& entity) {
  absl::StatusOr<v1::LookupOnlineResponse> response = f.Lookup({"daily:count_1d"}, {entity});
  REQUIRE(response.ok());
  return response->columns(0).values().int64_values().values(0);
}

v1::FeatureGroupSpec Daily() {
  v1::FeatureGroupSpec spec;
  spec.set_name("daily");
  spec.mutable_aggregation()->set_source_group("payments");
  AddAggregation(&spec, "", v1::AGGREGATION_FUNCTION_COUNT, {1440});
  return spec;
}

TEST_CASE("Cached lookups equal uncached ones to the bit through ingest, late events and backfill",
          "[aggregation][tile_cache]") {
  std::mt19937_64 rng(7);
  const std::vector<Event> events = RandomEvents(rng, 1200);
  Fixture cached;
  Fixture uncached(/*tile_cache_bytes=*/0);
  REQUIRE(cached.store->aggregations().tile_cache() != nullptr);
  REQUIRE(uncached.store->aggregations().tile_cache() == nullptr);
  const std::vector<std::string> entities = {"c0", "c1", "c2", "c3"};
  // The first events before the group exists (its backfill reads them), the rest in batches,
  // later ones first at times: RandomEvents draws times anywhere in the last two days, so most
  // batches hold events late for the windows already cached.
  const size_t before = 300;
  for (Fixture* f : {&cached, &uncached}) {
    REQUIRE(f->Ingest({events.begin(), events.begin() + before}).ok());
    REQUIRE(f->Apply(Spend()).ok());
  }
  int64_t advance = 0;
  for (size_t i = before, round = 0; i < events.size(); i += 23, ++round) {
    const std::vector<Event> batch(events.begin() + i,
                                   events.begin() + std::min(events.size(), i + 23));
    for (Fixture* f : {&cached, &uncached}) {
      REQUIRE(f->Ingest(batch, "payments", /*bulk=*/round % 5 == 4).ok());
    }
    // Looked up twice: once loading the cache, once from it.
    RequireSameAnswers(cached, uncached, "spend", entities);
    RequireSameAnswers(cached, uncached, "spend", {"c2", "c0"});
    advance += static_cast<int64_t>(rng() % (3 * kMinute));
    for (Fixture* f : {&cached, &uncached}) f->clock.Set(absl::FromUnixMicros(kStart + advance));
    RequireSameAnswers(cached, uncached, "spend", entities);
  }
  // A group applied after all that is backfilled; both groups still agree.
  v1::FeatureGroupSpec later = Spend();
  later.set_name("spend_later");
  for (Fixture* f : {&cached, &uncached}) REQUIRE(f->Apply(later).ok());
  RequireSameAnswers(cached, uncached, "spend_later", entities);
  RequireSameAnswers(cached, uncached, "spend_later", entities);
  RequireSameAnswers(cached, uncached, "spend", entities);
  RequireLookupMatches(cached, events);
  const TileCache& cache = *cached.store->aggregations().tile_cache();
  INFO("hits " << cache.hits() << ", misses " << cache.misses());
  REQUIRE(cache.hits() > 0);
  REQUIRE(cache.misses() > 0);
}

TEST_CASE("An entity's lookup counts its ingest once the ingest returns, under threads",
          "[aggregation][tile_cache]") {
  Fixture f;
  REQUIRE(f.Apply(Daily()).ok());
  constexpr int kWriters = 3;
  constexpr int kReaders = 3;
  constexpr int kEvents = 150;  // Per writer.
  std::atomic<int> writers_done{0};
  std::atomic<int64_t> stale{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      const std::string entity = absl::StrCat("w", w);
      for (int i = 1; i <= kEvents; ++i) {
        absl::StatusOr<v1::IngestBatchResult> result =
            f.Ingest({{entity, kStart - i * 1'000'000, 1}});
        if (!result.ok()) {
          stale.fetch_add(1000);
          break;
        }
        // Only this thread writes `entity`: once its ingest returned, the count is exact.
        absl::StatusOr<v1::LookupOnlineResponse> response = f.Lookup({"daily:count_1d"}, {entity});
        if (!response.ok() || response->columns(0).values().int64_values().values(0) != i) {
          stale.fetch_add(1);
        }
      }
      writers_done.fetch_add(1);
    });
  }
  // Readers keep loading the writers' entities into the cache while they are written, so that
  // entries read before a write race with that write's invalidation.
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      for (int64_t n = 0; writers_done.load() < kWriters && n < 1'000'000; ++n) {
        (void)f.Lookup({"daily:count_1d"}, {absl::StrCat("w", (n + r) % kWriters)});
      }
    });
  }
  for (std::thread& t : threads) t.join();
  REQUIRE(stale.load() == 0);
  for (int w = 0; w < kWriters; ++w) REQUIRE(DailyCount(f, absl::StrCat("w", w)) == kEvents);
  REQUIRE(f.store->aggregations().tile_cache()->hits() > 0);
}

TEST_CASE("A cached window slides with the clock, with no write", "[aggregation][tile_cache]") {
  Fixture f;
  REQUIRE(f.Apply(Spend()).ok());
  const std::vector<Event> events = {{"c0", kStart - 2 * kMinute, 5},
                                     {"c0", kStart - 9 * kMinute, 3},
                                     {"c0", kStart - 50 * kMinute, 11},
                                     {"c1", kStart - 20 * kMinute, 4}};
  REQUIRE(f.Ingest(events).ok());
  const TileCache& cache = *f.store->aggregations().tile_cache();
  // Minute by minute past the entries' horizon, so that the lookups are served from entries
  // loaded at an earlier time, then reloaded.
  for (int minute = 0; minute <= 2 * TileReader::kCacheHorizonTiles + 3; ++minute) {
    f.clock.Set(absl::FromUnixMicros(kStart + minute * kMinute + 17'000'000));
    RequireLookupMatches(f, events);
  }
  absl::StatusOr<v1::LookupOnlineResponse> response = f.Lookup({"spend:count_10m"}, {"c0"});
  REQUIRE(response.ok());
  REQUIRE(response->columns(0).values().int64_values().values(0) == 0);
  INFO("hits " << cache.hits() << ", misses " << cache.misses());
  REQUIRE(cache.hits() > cache.misses());
}

TEST_CASE("The tile cache stays under its byte cap, and 0 turns it off",
          "[aggregation][tile_cache]") {
  std::vector<Event> events;
  std::vector<std::string> entities;
  for (int e = 0; e < 300; ++e) {
    entities.push_back(absl::StrCat("e", e));
    for (int i = 0; i < 5; ++i) events.push_back({entities.back(), kStart - i * 7 * kMinute, e});
  }
  constexpr size_t kCap = 64 << 10;
  Fixture capped(kCap);
  Fixture off(/*tile_cache_bytes=*/0);
  for (Fixture* f : {&capped, &off}) {
    REQUIRE(f->Apply(Daily()).ok());
    REQUIRE(f->Ingest(events).ok());
  }
  REQUIRE(off.store->aggregations().tile_cache() == nullptr);
  for (int pass = 0; pass < 2; ++pass) {
    for (const std::string& entity : entities) {
      REQUIRE(DailyCount(capped, entity) == 5);
      REQUIRE(DailyCount(off, entity) == 5);
    }
  }
  const TileCache& cache = *capped.store->aggregations().tile_cache();
  INFO("entries " << cache.entries() << ", bytes " << cache.bytes());
  REQUIRE(cache.bytes() <= kCap);
  REQUIRE(cache.evictions() > 0);
  REQUIRE(cache.entries() > 0);
  REQUIRE(cache.entries() < static_cast<int64_t>(entities.size()));
}

}  // namespace
}  // namespace fabrique::features
