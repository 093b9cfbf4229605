// Ingest write path: history and online in one atomic batch, newest event time wins online
// whatever the arrival order, idempotent re-sends, the row mask, refusals that write nothing,
// group commit (fsyncs counted: writers queued together share one, a stream of deferred batches
// pays one), and concurrent writers on the same entities with readers looking up meanwhile.

#include "libs/features/storage/feature_writer.h"

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "catch2/catch.hpp"
#include "libs/features/storage/history_reader.h"
#include "libs/features/storage/online_reader.h"
#include "libs/features/storage/row_codec.h"
#include "libs/features/storage/storage_keys.h"
#include "libs/kv/env.h"
#include "storage_test_util.h"
#include "tests/kv/observed_env.h"
#include "tests/util/test_util.h"

namespace fabrique::features {
namespace {

using testing::MakeBatch;
using testing::MakeGroup;
using testing::OpenStore;
using testing::Ref;
using testing::TestRow;
using testing::TestValue;

v1::FeatureGroup Payments() {
  return MakeGroup("payments", "customer",
                   {{"amount", v1::FEATURE_TYPE_DOUBLE}, {"count", v1::FEATURE_TYPE_INT64}});
}

std::unique_ptr<FeatureWriter> MakeWriter(kv::Store* store,
                                          Durability durability = Durability::kGroupCommit) {
  FeatureWriterOptions options;
  options.store = store;
  options.durability = durability;
  absl::StatusOr<std::unique_ptr<FeatureWriter>> writer = FeatureWriter::Create(options);
  STORAGE_REQUIRE_OK(writer);
  return std::move(writer).value();
}

// The stored online row of `entity`: (event time, count), or (-1, -1) when absent.
std::pair<int64_t, int64_t> Online(kv::Store& store, const std::string& entity,
                                   const kv::Snapshot* snapshot = nullptr) {
  kv::ReadOptions read;
  read.snapshot = snapshot;
  absl::StatusOr<std::string> value =
      store.Get(*store.Family("online"), OnlineKey("payments", entity), read);
  if (!value.ok()) return {-1, -1};
  const RowSchema schema = *RowSchema::FromFeatureGroup(Payments());
  RowView row;
  STORAGE_REQUIRE_OK(row.Parse(*value, schema));
  return {row.event_time_micros(), row.IsNull(1) ? -1 : row.Int64(1)};
}

int64_t HistoryCount(kv::Store& store, const kv::Snapshot* snapshot = nullptr) {
  kv::ReadOptions read;
  read.snapshot = snapshot;
  int64_t count = 0;
  STORAGE_REQUIRE_OK(store.Scan(
      *store.Family("history"), kv::KeyRange::All(),
      [&count](absl::string_view, absl::string_view) { return ++count > 0; }, read));
  return count;
}

TEST_CASE("Out-of-order rows never overwrite a newer online value", "[feature_writer]") {
  std::unique_ptr<kv::Store> store = OpenStore();
  std::unique_ptr<FeatureWriter> writer = MakeWriter(store.get());
  const v1::FeatureGroup group = Payments();

  STORAGE_REQUIRE_OK(writer->Write(group, MakeBatch(group, {{"c1", 100, {1.0, int64_t{100}}}})));
  absl::StatusOr<WriteResult> late =
      writer->Write(group, MakeBatch(group, {{"c1", 50, {2.0, int64_t{50}}}}));
  STORAGE_REQUIRE_OK(late);
  REQUIRE(late->rows_written == 1);
  REQUIRE(late->online_offered == 1);  // Offered, and refused by the newest-row rule.
  REQUIRE(Online(*store, "c1") == std::make_pair(int64_t{100}, int64_t{100}));
  REQUIRE(HistoryCount(*store) == 2);  // The late row still lands in history.

  // Within one batch, the newest row per entity is the online candidate, wherever it sits.
  STORAGE_REQUIRE_OK(writer->Write(group, MakeBatch(group, {{"c2", 300, {0.0, int64_t{300}}},
                                                            {"c2", 200, {0.0, int64_t{200}}},
                                                            {"c1", 150, {0.0, int64_t{150}}},
                                                            {"c1", 120, {0.0, int64_t{120}}}})));
  REQUIRE(Online(*store, "c2") == std::make_pair(int64_t{300}, int64_t{300}));
  REQUIRE(Online(*store, "c1") == std::make_pair(int64_t{150}, int64_t{150}));
}

TEST_CASE("A batch that repeats an entity's newest row puts its last copy online",
          "[feature_writer]") {
  std::unique_ptr<kv::Store> store = OpenStore();
  std::unique_ptr<FeatureWriter> writer = MakeWriter(store.get());
  const v1::FeatureGroup group = Payments();
  absl::StatusOr<WriteResult> written =
      writer->Write(group, MakeBatch(group, {{"c1", 300, {0.0, int64_t{1}}},
                                             {"c1", 200, {0.0, int64_t{2}}},
                                             {"c1", 300, {0.0, int64_t{3}}}}));
  STORAGE_REQUIRE_OK(written);
  REQUIRE(written->rows_written == 2);
  REQUIRE(written->online_offered == 1);
  REQUIRE(Online(*store, "c1") == std::make_pair(int64_t{300}, int64_t{3}));
}

TEST_CASE("Re-sending the same rows is idempotent", "[feature_writer]") {
  std::unique_ptr<kv::Store> store = OpenStore();
  std::unique_ptr<FeatureWriter> writer = MakeWriter(store.get(), Durability::kSync);
  const v1::FeatureGroup group = Payments();
  const v1::RowBatch batch = MakeBatch(
      group,
      {{"c1", 10, {1.0, int64_t{1}}}, {"c1", 20, {2.0, int64_t{2}}}, {"c2", 5, {3.0, int64_t{3}}}});
  STORAGE_REQUIRE_OK(writer->Write(group, batch));
  std::vector<std::string> first;
  STORAGE_REQUIRE_OK(store->Scan(*store->Family("history"), kv::KeyRange::All(),
                                 [&](absl::string_view k, absl::string_view v) {
                                   first.push_back(std::string(k) + "=" + std::string(v));
                                   return true;
                                 }));
  const auto online_c1 = Online(*store, "c1");
  STORAGE_REQUIRE_OK(writer->Write(group, batch));
  STORAGE_REQUIRE_OK(writer->Write(group, batch));
  std::vector<std::string> again;
  STORAGE_REQUIRE_OK(store->Scan(*store->Family("history"), kv::KeyRange::All(),
                                 [&](absl::string_view k, absl::string_view v) {
                                   again.push_back(std::string(k) + "=" + std::string(v));
                                   return true;
                                 }));
  REQUIRE(again == first);
  REQUIRE(Online(*store, "c1") == online_c1);

  // Equal event time, new values: last write wins, in history and online alike.
  STORAGE_REQUIRE_OK(writer->Write(group, MakeBatch(group, {{"c1", 20, {9.0, int64_t{9}}}})));
  REQUIRE(Online(*store, "c1") == std::make_pair(int64_t{20}, int64_t{9}));
  REQUIRE(HistoryCount(*store) == 3);
}

TEST_CASE("A batch is visible entirely or not at all", "[feature_writer]") {
  std::unique_ptr<kv::Store> store = OpenStore();
  std::unique_ptr<FeatureWriter> writer = MakeWriter(store.get());
  const v1::FeatureGroup group = Payments();
  std::vector<TestRow> rows;
  for (int i = 0; i < 500; ++i)
    rows.push_back({"c" + std::to_string(i % 50), i, {1.0, int64_t{i}}});
  const kv::Snapshot before = store->TakeSnapshot();
  STORAGE_REQUIRE_OK(writer->Write(group, MakeBatch(group, rows)));
  const kv::Snapshot after = store->TakeSnapshot();
  REQUIRE(HistoryCount(*store, &before) == 0);
  REQUIRE(Online(*store, "c7", &before).first == -1);
  REQUIRE(HistoryCount(*store, &after) == 500);
  REQUIRE(Online(*store, "c7", &after) == std::make_pair(int64_t{457}, int64_t{457}));

  // A refused batch writes nothing, even when its first rows were fine.
  v1::RowBatch bad = MakeBatch(group, {{"ok", 1, {1.0, int64_t{1}}}, {"", 2, {1.0, int64_t{2}}}});
  STORAGE_REQUIRE_CODE(writer->Write(group, bad), absl::StatusCode::kInvalidArgument);
  REQUIRE(HistoryCount(*store) == 500);
  REQUIRE(Online(*store, "ok").first == -1);
  STORAGE_REQUIRE_CODE(writer->Write(group, bad, std::vector<uint8_t>{0}),
                       absl::StatusCode::kInvalidArgument);
}

TEST_CASE("The row mask stores only the good rows", "[feature_writer]") {
  std::unique_ptr<kv::Store> store = OpenStore();
  std::unique_ptr<FeatureWriter> writer = MakeWriter(store.get());
  const v1::FeatureGroup group = Payments();
  const v1::RowBatch batch = MakeBatch(
      group,
      {{"c1", 10, {1.0, int64_t{1}}}, {"c1", 30, {3.0, int64_t{3}}}, {"", 40, {4.0, int64_t{4}}}});
  absl::StatusOr<WriteResult> result = writer->Write(group, batch, std::vector<uint8_t>{0, 1, 1});
  STORAGE_REQUIRE_OK(result);
  REQUIRE(result->rows_written == 1);
  REQUIRE(Online(*store, "c1") == std::make_pair(int64_t{10}, int64_t{1}));
  REQUIRE(HistoryCount(*store) == 1);
}

// A store on an in-memory Env whose write-ahead-log fsyncs are counted.
struct CountedStore {
  std::unique_ptr<rocksdb::Env> memory = kv::NewInMemoryEnv();
  fabrique::testing::ObservedEnv env{memory.get()};
  std::unique_ptr<kv::Store> store;

  CountedStore() {
    kv::StoreOptions options;
    options.env = &env;
    store = OpenStore(options);
  }
};

TEST_CASE("Every kSync write pays its own write-ahead-log fsync", "[feature_writer][fsync]") {
  // The control for the tests below: the counting Env sees every fsync a write path issues.
  CountedStore counted;
  std::unique_ptr<FeatureWriter> writer = MakeWriter(counted.store.get(), Durability::kSync);
  const v1::FeatureGroup group = Payments();
  const int64_t before = counted.env.wal_syncs();
  for (int b = 0; b < 5; ++b) {
    STORAGE_REQUIRE_OK(writer->Write(group, MakeBatch(group, {{"c1", b, {1.0, int64_t{b}}}})));
  }
  CHECK(counted.env.wal_syncs() - before == 5);
  CHECK(writer->committer().syncs() == 0);  // kSync does not go through the committer.
}

TEST_CASE("Group commit: writers queued behind a round share the next fsync",
          "[feature_writer][fsync]") {
  CountedStore counted;
  // The first round's fsync is held open until every other writer has queued behind it.
  absl::Mutex mu;
  bool first_round_entered = false;  // Guarded by mu.
  bool release_first_round = false;  // Guarded by mu.
  int rounds = 0;                    // Guarded by mu.
  FeatureWriterOptions options;
  options.store = counted.store.get();
  options.durability = Durability::kGroupCommit;
  options.sync_wal = [&] {
    {
      absl::MutexLock lock(&mu);
      if (++rounds == 1) {
        first_round_entered = true;
        mu.Await(absl::Condition(&release_first_round));
      }
    }
    return counted.store->SyncWal();
  };
  absl::StatusOr<std::unique_ptr<FeatureWriter>> created = FeatureWriter::Create(options);
  STORAGE_REQUIRE_OK(created);
  FeatureWriter& writer = **created;
  const v1::FeatureGroup group = Payments();
  const int64_t wal_syncs_before = counted.env.wal_syncs();

  constexpr int kWriters = 8;
  std::atomic<int> failures{0};
  const auto write = [&](int w) {
    const std::string entity = "w" + std::to_string(w);
    if (!writer.Write(group, MakeBatch(group, {{entity, 10 + w, {1.0, int64_t{w}}}})).ok()) {
      ++failures;
    }
  };
  std::vector<std::thread> threads;
  threads.emplace_back(write, 0);
  const auto entered = [&] {
    absl::MutexLock lock(&mu);
    return first_round_entered;
  };
  const bool held = fabrique::testing::PollUntil(entered, absl::Seconds(10));
  bool all_queued = false;
  if (held) {
    for (int w = 1; w < kWriters; ++w) threads.emplace_back(write, w);
    // Every writer has committed its batch and waits in Sync(): queued behind the held round.
    all_queued = fabrique::testing::PollUntil(
        [&] { return writer.committer().requests() == kWriters; }, absl::Seconds(10));
  }
  {
    absl::MutexLock lock(&mu);
    release_first_round = true;
  }
  for (std::thread& thread : threads) thread.join();
  REQUIRE(held);
  REQUIRE(all_queued);
  REQUIRE(failures == 0);
  // The held round covered the first writer; the seven queued behind it shared exactly one.
  CHECK(writer.committer().syncs() == 2);
  CHECK(counted.env.wal_syncs() - wal_syncs_before == 2);
  for (int w = 0; w < kWriters; ++w) {
    CHECK(Online(*counted.store, "w" + std::to_string(w)).first == 10 + w);
  }
}

TEST_CASE("Group commit: free-running writers fsync only through the committer",
          "[feature_writer][fsync]") {
  CountedStore counted;
  std::unique_ptr<FeatureWriter> writer = MakeWriter(counted.store.get(), Durability::kGroupCommit);
  const v1::FeatureGroup group = Payments();
  const int64_t wal_syncs_before = counted.env.wal_syncs();
  constexpr int kThreads = 4, kBatches = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        const std::string entity = "t" + std::to_string(t);
        if (!writer->Write(group, MakeBatch(group, {{entity, b, {1.0, int64_t{b}}}})).ok()) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  REQUIRE(failures == 0);
  // How much is shared depends on the scheduler (the test above proves the sharing); what holds
  // always is that each write waited for a round and each round is one fsync, none of its own.
  CHECK(writer->committer().requests() == kThreads * kBatches);
  CHECK(writer->committer().syncs() >= 1);
  CHECK(writer->committer().syncs() <= kThreads * kBatches);
  CHECK(counted.env.wal_syncs() - wal_syncs_before == writer->committer().syncs());
  WARN("group commit: " << writer->committer().syncs() << " fsyncs for " << kThreads * kBatches
                        << " writes from " << kThreads << " threads");
  for (int t = 0; t < kThreads; ++t) {
    REQUIRE(Online(*counted.store, "t" + std::to_string(t)).first == kBatches - 1);
  }
}

TEST_CASE("A stream of deferred batches pays one fsync when it is made durable",
          "[feature_writer][fsync]") {
  CountedStore counted;
  std::unique_ptr<FeatureWriter> writer = MakeWriter(counted.store.get(), Durability::kGroupCommit);
  const v1::FeatureGroup group = Payments();
  const int64_t before = counted.env.wal_syncs();
  constexpr int kBatches = 100;
  for (int b = 0; b < kBatches; ++b) {
    STORAGE_REQUIRE_OK(writer->WriteDeferred(
        group, MakeBatch(group, {{"c" + std::to_string(b % 7), b, {1.0, int64_t{b}}}})));
  }
  CHECK(counted.env.wal_syncs() == before);  // Committed, not yet fsynced.
  STORAGE_REQUIRE_OK(writer->Sync());
  CHECK(counted.env.wal_syncs() - before == 1);
  CHECK(writer->committer().syncs() == 1);
  CHECK(HistoryCount(*counted.store) == kBatches);
}

TEST_CASE("Concurrent writers on the same entities never lose the newest value",
          "[feature_writer][concurrency]") {
  std::unique_ptr<kv::Store> store = OpenStore();
  std::unique_ptr<FeatureWriter> writer = MakeWriter(store.get(), Durability::kProcessCrashOnly);
  core::FakeClock clock;
  OnlineReaderOptions reader_options;
  reader_options.store = store.get();
  reader_options.clock = &clock;
  std::unique_ptr<OnlineReader> reader = *OnlineReader::Create(reader_options);
  const v1::FeatureGroup group = Payments();
  constexpr int kWriters = 4, kEntities = 8, kBatches = 200;
  std::atomic<bool> done{false};
  std::atomic<int> errors{0};
  std::atomic<int64_t> lookups{0};
  // Readers check that an entity's online time never goes backwards between their lookups.
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      v1::LookupOnlineRequest request;
      *request.add_features() = Ref("payments", "count");
      request.set_include_event_times(true);
      v1::EntityKeys* keys = request.add_entity_keys();
      for (int e = 0; e < kEntities; ++e) keys->add_keys("e" + std::to_string(e));
      const std::vector<const v1::FeatureGroup*> groups = {&group};
      std::vector<int64_t> last(kEntities, -1);
      v1::LookupOnlineResponse response;
      while (!done.load()) {
        if (!reader->Lookup(request, groups, &response).ok()) ++errors;
        for (int e = 0; e < kEntities; ++e) {
          const int64_t time = response.columns(0).event_time_unix_micros(e);
          if (time < last[e]) ++errors;
          // The value is the time it was written at: never a mix of two rows.
          if (response.columns(0).statuses(e) == v1::VALUE_STATUS_PRESENT &&
              response.columns(0).values().int64_values().values(e) != time) {
            ++errors;
          }
          last[e] = time;
        }
        ++lookups;
      }
    });
  }
  // Each writer sends every entity random times; the newest overall must end up online.
  std::vector<std::thread> writers;
  std::vector<int64_t> newest(kWriters, 0);
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937_64 random(w);
      for (int b = 0; b < kBatches; ++b) {
        std::vector<TestRow> rows;
        for (int e = 0; e < kEntities; ++e) {
          const int64_t time = static_cast<int64_t>(random() % 100000);
          newest[w] = std::max(newest[w], time);
          rows.push_back({"e" + std::to_string(e), time, {1.0, time}});
        }
        if (!writer->Write(group, MakeBatch(group, rows)).ok()) ++errors;
      }
    });
  }
  for (std::thread& thread : writers) thread.join();
  done = true;
  for (std::thread& thread : readers) thread.join();
  REQUIRE(errors == 0);
  REQUIRE(lookups > 0);
  // The newest time per entity, from history, is what online holds.
  std::unique_ptr<HistoryReader> history = *HistoryReader::Create({store.get()});
  for (int e = 0; e < kEntities; ++e) {
    const std::string entity = "e" + std::to_string(e);
    int64_t max_time = -1;
    HistoryQuery query;
    query.entity_keys = {entity};
    STORAGE_REQUIRE_OK(history->Read(group, query, [&](v1::ReadHistoryResponse* chunk) {
      for (int64_t t : chunk->rows().event_time_unix_micros()) max_time = std::max(max_time, t);
      return absl::OkStatus();
    }));
    INFO(entity);
    REQUIRE(Online(*store, entity) == std::make_pair(max_time, max_time));
  }
}

}  // namespace
}  // namespace fabrique::features
