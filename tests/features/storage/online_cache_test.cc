// The online row cache behind lookups, with the real writers: lookups answer from it once an
// entity has been read, see every streamed or bulk write as soon as it returns, expire rows by
// TTL as the store does, answer exactly what a reader without a cache answers, and never show
// half of a committed batch to a concurrent lookup.

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/features/storage/bulk_loader.h"
#include "libs/features/storage/feature_writer.h"
#include "libs/features/storage/online_reader.h"
#include "libs/features/storage/row_cache.h"
#include "storage_test_util.h"

namespace fabrique::features {
namespace {

using testing::LookupRequest;
using testing::MakeBatch;
using testing::MakeGroup;
using testing::OpenStore;
using testing::Ref;
using testing::TestRow;

constexpr int64_t kSecond = 1'000'000;

struct Fixture {
  explicit Fixture(size_t cache_bytes = size_t{1} << 20) {
    store = OpenStore();
    RowCacheOptions cache_options;
    cache_options.capacity_bytes = cache_bytes;
    // Few shards, so that a small cap still holds a few rows in each.
    cache_options.shards = 4;
    cache = *RowCache::Create(cache_options);
    FeatureWriterOptions writer_options;
    writer_options.store = store.get();
    writer_options.durability = Durability::kProcessCrashOnly;
    writer_options.online_cache = cache.get();
    writer = *FeatureWriter::Create(writer_options);
    BulkLoaderOptions loader_options;
    loader_options.store = store.get();
    loader_options.writer = writer.get();
    loader_options.online_cache = cache.get();
    loader = *BulkLoader::Create(loader_options);
    OnlineReaderOptions reader_options;
    reader_options.store = store.get();
    reader_options.clock = &clock;
    reader_options.cache = cache.get();
    reader = *OnlineReader::Create(reader_options);
    reader_options.cache = nullptr;
    uncached = *OnlineReader::Create(reader_options);
  }
  int64_t now() const { return absl::ToUnixMicros(clock.Now()); }

  core::FakeClock clock;
  std::unique_ptr<kv::Store> store;
  std::unique_ptr<RowCache> cache;
  std::unique_ptr<FeatureWriter> writer;
  std::unique_ptr<BulkLoader> loader;
  std::unique_ptr<OnlineReader> reader;
  std::unique_ptr<OnlineReader> uncached;
};

int64_t ReadX(Fixture& f, const v1::FeatureGroup& group, const std::string& entity) {
  const std::vector<const v1::FeatureGroup*> groups = {&group};
  v1::LookupOnlineResponse response;
  STORAGE_REQUIRE_OK(
      f.reader->Lookup(LookupRequest({Ref("g", "x")}, {{"", {entity}}}), groups, &response));
  REQUIRE(response.columns(0).statuses(0) == v1::VALUE_STATUS_PRESENT);
  return response.columns(0).values().int64_values().values(0);
}

TEST_CASE("Lookups answer from the cache once read, and see every write once it returns",
          "[online_cache]") {
  Fixture f;
  const v1::FeatureGroup group = MakeGroup("g", "customer", {{"x", v1::FEATURE_TYPE_INT64}});
  const int64_t t = f.now();
  STORAGE_REQUIRE_OK(f.writer->Write(group, MakeBatch(group, {{"c1", t, {int64_t{1}}}})));
  REQUIRE(ReadX(f, group, "c1") == 1);
  REQUIRE(f.cache->misses() == 1);
  REQUIRE(ReadX(f, group, "c1") == 1);
  REQUIRE(f.cache->hits() == 1);
  REQUIRE(f.cache->entries() == 1);

  // A newer row replaces it; an older one does not, in the cache as in the store.
  STORAGE_REQUIRE_OK(f.writer->Write(group, MakeBatch(group, {{"c1", t + 1, {int64_t{2}}}})));
  REQUIRE(ReadX(f, group, "c1") == 2);
  STORAGE_REQUIRE_OK(f.writer->Write(group, MakeBatch(group, {{"c1", t - 5, {int64_t{0}}}})));
  REQUIRE(ReadX(f, group, "c1") == 2);
  REQUIRE(ReadX(f, group, "c1") == 2);
  // Written online only (WriteOnline), and by a bulk load.
  STORAGE_REQUIRE_OK(f.writer->WriteOnline(group, MakeBatch(group, {{"c1", t + 2, {int64_t{3}}}})));
  REQUIRE(ReadX(f, group, "c1") == 3);
  STORAGE_REQUIRE_OK(f.loader->Load(group, MakeBatch(group, {{"c1", t + 3, {int64_t{4}}}})));
  REQUIRE(ReadX(f, group, "c1") == 4);
  REQUIRE(ReadX(f, group, "c1") == 4);
  // Hits: the second read of each value that was read twice; every write made a miss.
  REQUIRE(f.cache->hits() == 3);
  REQUIRE(f.cache->misses() == 5);
}

TEST_CASE("A cached row expires by TTL at read time, as a stored one", "[online_cache]") {
  Fixture f;
  const v1::FeatureGroup group =
      MakeGroup("g", "customer", {{"x", v1::FEATURE_TYPE_INT64}}, /*ttl_seconds=*/60);
  STORAGE_REQUIRE_OK(f.writer->Write(group, MakeBatch(group, {{"c1", f.now(), {int64_t{7}}}})));
  REQUIRE(ReadX(f, group, "c1") == 7);
  REQUIRE(ReadX(f, group, "c1") == 7);
  REQUIRE(f.cache->hits() == 1);
  f.clock.Advance(absl::Seconds(61));
  const std::vector<const v1::FeatureGroup*> groups = {&group};
  v1::LookupOnlineResponse response;
  STORAGE_REQUIRE_OK(
      f.reader->Lookup(LookupRequest({Ref("g", "x")}, {{"", {"c1"}}}), groups, &response));
  REQUIRE(response.columns(0).statuses(0) == v1::VALUE_STATUS_EXPIRED);
  REQUIRE(f.cache->hits() == 2);
}

TEST_CASE("With a cache, lookups answer exactly what they answer without one", "[online_cache]") {
  // A cache too small for every entity, so rows are evicted and read again.
  Fixture f(/*cache_bytes=*/RowCache::Cost(16, 40) * 40);
  const v1::FeatureGroup customer = MakeGroup(
      "g", "customer", {{"x", v1::FEATURE_TYPE_INT64}, {"s", v1::FEATURE_TYPE_STRING}}, 100);
  const v1::FeatureGroup merchant = MakeGroup("m", "merchant", {{"y", v1::FEATURE_TYPE_DOUBLE}});
  const std::vector<const v1::FeatureGroup*> groups = {&customer, &merchant};
  std::mt19937 random(7);
  const auto entity = [&random] { return "e" + std::to_string(random() % 60); };
  for (int step = 0; step < 300; ++step) {
    const int64_t time = f.now() - static_cast<int64_t>(random() % 200) * kSecond;
    switch (random() % 4) {
      case 0: {
        std::vector<TestRow> rows;
        for (int i = 0; i < 5; ++i) {
          rows.push_back({entity(), time + i, {int64_t{step}, std::to_string(step)}});
        }
        STORAGE_REQUIRE_OK(f.writer->Write(customer, MakeBatch(customer, rows)));
        break;
      }
      case 1:
        STORAGE_REQUIRE_OK(f.loader->Load(
            customer, MakeBatch(customer, {{entity(), time, {int64_t{-step}, std::string()}}})));
        break;
      case 2:
        STORAGE_REQUIRE_OK(
            f.writer->Write(merchant, MakeBatch(merchant, {{entity(), time, {step * 0.5}}})));
        break;
      default:
        f.clock.Advance(absl::Seconds(1));
    }
    std::vector<std::string> customers, merchants;
    for (int i = 0; i < 8; ++i) {
      customers.push_back(entity());
      merchants.push_back(entity());
    }
    const v1::LookupOnlineRequest keyed =
        random() % 2 == 0 ? LookupRequest({Ref("g", "x"), Ref("g", "s")}, {{"customer", customers}})
                          : LookupRequest({Ref("g", "s"), Ref("m", "y"), Ref("g", "x")},
                                          {{"customer", customers}, {"merchant", merchants}});
    v1::LookupOnlineResponse cached, direct;
    STORAGE_REQUIRE_OK(f.reader->Lookup(keyed, groups, &cached));
    STORAGE_REQUIRE_OK(f.uncached->Lookup(keyed, groups, &direct));
    INFO("step " << step);
    REQUIRE(cached.SerializeAsString() == direct.SerializeAsString());
  }
  REQUIRE(f.cache->hits() > 100);
  REQUIRE(f.cache->evictions() > 0);
}

TEST_CASE("A lookup never sees half of a batch committed while it reads", "[online_cache]") {
  Fixture f;
  const v1::FeatureGroup group = MakeGroup("g", "customer", {{"x", v1::FEATURE_TYPE_INT64}});
  const std::vector<const v1::FeatureGroup*> groups = {&group};
  constexpr int kEntities = 32;
  std::vector<std::string> all;
  for (int e = 0; e < kEntities; ++e) all.push_back("c" + std::to_string(e));
  // Every batch sets every entity to the batch's number: a lookup that mixes two batches shows
  // two numbers.
  const auto batch = [&](int64_t n) {
    std::vector<TestRow> rows;
    for (const std::string& key : all) rows.push_back({key, f.now() + n, {n}});
    return MakeBatch(group, rows);
  };
  STORAGE_REQUIRE_OK(f.writer->Write(group, batch(0)));
  std::atomic<bool> done{false};
  std::atomic<int> mixed{0}, lookups{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937 random(t);
      while (!done.load()) {
        // All entities, or a random half, in a random order.
        std::vector<std::string> keys = all;
        std::shuffle(keys.begin(), keys.end(), random);
        if (random() % 2 == 0) keys.resize(kEntities / 2);
        v1::LookupOnlineResponse response;
        if (!f.reader->Lookup(LookupRequest({Ref("g", "x")}, {{"", keys}}), groups, &response)
                 .ok()) {
          mixed.fetch_add(1000);
          return;
        }
        const auto& values = response.columns(0).values().int64_values().values();
        for (int64_t value : values) {
          if (value != values[0]) {
            mixed.fetch_add(1);
            break;
          }
        }
        lookups.fetch_add(1);
      }
    });
  }
  for (int64_t n = 1; n <= 400; ++n) {
    if (n % 5 == 0) {
      STORAGE_REQUIRE_OK(f.loader->Load(group, batch(n)));
    } else {
      STORAGE_REQUIRE_OK(f.writer->Write(group, batch(n)));
    }
    if (n % 40 == 0) std::this_thread::yield();
  }
  // Lookups go on a little after the last write, all answered from the cache.
  const int before = lookups.load();
  while (lookups.load() < before + 50) std::this_thread::yield();
  done = true;
  for (std::thread& reader : readers) reader.join();
  INFO(lookups.load() << " lookups");
  REQUIRE(mixed.load() == 0);
  REQUIRE(f.cache->hits() > 0);
  REQUIRE(ReadX(f, group, "c7") == 400);
}

}  // namespace
}  // namespace fabrique::features
