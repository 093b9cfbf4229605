// The feature store's heavy write paths through the real gRPC adapter: bulk backfill batches
// (SST ingestion), long streams acknowledged once at the end with one fsync, and a service that
// stays SERVING and answers lookups while RocksDB compacts its history.

#include <atomic>
#include <thread>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "libs/client/channel.h"
#include "libs/client/health_client.h"
#include "rocksdb/env.h"
#include "tests/kv/observed_env.h"
#include "tests/services/feature_store_test_server.h"
#include "tests/util/test_util.h"

namespace fabrique::services {
namespace {

using feature_test::Batch;
using feature_test::Context;
using feature_test::Define;
using feature_test::Ingest;
using feature_test::Lookup;
using feature_test::Server;

// Every history row of `key`: its amounts, oldest first.
std::vector<float> History(Server& s, const std::string& key) {
  v1::ReadHistoryRequest request;
  request.set_group("tx");
  request.add_entity_keys(key);
  auto context = Context();
  auto reader = s.stub->ReadHistory(context.get(), request);
  std::vector<float> amounts;
  v1::ReadHistoryResponse chunk;
  while (reader->Read(&chunk)) {
    for (const v1::FeatureColumn& column : chunk.rows().columns()) {
      if (column.feature().feature() != "amount") continue;
      for (float value : column.values().float_values().values()) amounts.push_back(value);
    }
  }
  REQUIRE(reader->Finish().ok());
  return amounts;
}

TEST_CASE("a bulk batch backfills history, is validated like any batch, and keeps newest online") {
  testing::TempDir tmp;
  Server s(tmp.path() + "/kv");  // On disk: SST files are real files.
  Define(s);
  v1::IngestResponse response;
  // Live ingest already holds c1's newest row (hour 10).
  REQUIRE(Ingest(s, {Batch(s, {{"c1", 10, 10.f, "live"}})}, &response).ok());

  v1::IngestRequest backfill = Batch(s,
                                     {{"c1", 3, 3.f, "old"},
                                      {"c2", 2, 2.f, "old"},
                                      {"c1", 1, 1.f, "old"},
                                      {"c2", 4, -4.f, "bad"},  // Below the minimum: rejected.
                                      {"c2", 5, 5.f, "old"}},
                                     "backfill-1");
  backfill.set_bulk(true);
  REQUIRE(Ingest(s, {backfill}, &response).ok());
  CHECK(response.rows_written() == 4);
  CHECK(response.rows_rejected() == 1);
  REQUIRE(response.batches(0).rejects_size() == 1);
  CHECK(response.batches(0).rejects(0).row_index() == 3);

  CHECK(History(s, "c1") == std::vector<float>{1.f, 3.f, 10.f});
  CHECK(History(s, "c2") == std::vector<float>{2.f, 5.f});
  const v1::LookupOnlineResponse online = Lookup(s, {"c1", "c2"});
  CHECK(online.columns(1).values().string_values().values(0) == "live");  // Not overwritten.
  CHECK(online.columns(0).values().float_values().values(1) == 5.f);      // c2's newest.

  // The same batch again is a duplicate; all_or_nothing refuses a bulk batch like any other.
  REQUIRE(Ingest(s, {backfill}, &response).ok());
  CHECK(response.batches(0).duplicate());
  backfill.set_batch_id("backfill-2");
  backfill.set_all_or_nothing(true);
  REQUIRE(Ingest(s, {backfill}, &response).ok());
  CHECK(response.rows_written() == 0);
  CHECK(History(s, "c2") == std::vector<float>{2.f, 5.f});
}

TEST_CASE("a long stream pays one fsync, with every batch durable and visible") {
  testing::TempDir tmp;
  testing::ObservedEnv env(rocksdb::Env::Default());  // Counts the write-ahead log's fsyncs.
  {
    Server s(tmp.path() + "/kv", &env);
    Define(s);
    std::vector<v1::IngestRequest> batches;
    for (int b = 0; b < 200; ++b) {
      batches.push_back(Batch(s, {{"c" + std::to_string(b), 1, float(b), "x"}}));
    }
    const int64_t before = env.wal_syncs();
    v1::IngestResponse response;
    REQUIRE(Ingest(s, batches, &response).ok());
    CHECK(response.rows_written() == 200);
    CHECK(response.batches_size() == 200);
    CHECK(env.wal_syncs() - before == 1);  // One call, 200 batches: one fsync.

    // A stream refused at a batch still makes the batches before it durable, with one fsync.
    std::vector<v1::IngestRequest> refused(batches.begin(), batches.begin() + 10);
    refused.push_back(Batch(s, {{"bad", 1, 1.f, "x"}}));
    refused.back().set_group("no-such-group");
    const int64_t before_refused = env.wal_syncs();
    const grpc::Status status = Ingest(s, refused, &response);
    CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(env.wal_syncs() - before_refused == 1);
  }
  // After a restart (the store closed with the last stream's fsync behind it).
  Server s(tmp.path() + "/kv");
  const v1::LookupOnlineResponse values = Lookup(s, {"c0", "c199"});
  CHECK(values.columns(0).values().float_values().values(0) == 0.f);
  CHECK(values.columns(0).values().float_values().values(1) == 199.f);
}

TEST_CASE("health stays SERVING and lookups answer while the history is compacted") {
  testing::TempDir tmp;
  // Holds the compaction's first output file, so the checks below run while it is in progress
  // however fast or slow this machine is.
  testing::ObservedEnv env(rocksdb::Env::Default());
  Server s(tmp.path() + "/kv", &env);
  Define(s);
  // Several overlapping files, so the compaction has real work to do.
  for (int file = 0; file < 6; ++file) {
    std::vector<std::tuple<std::string, int, float, std::string>> rows;
    for (int i = 0; i < 20000; ++i) {
      rows.emplace_back("c" + std::to_string(i % 5000), file * 2 + i / 5000, 1.f, "FR");
    }
    v1::IngestResponse response;
    REQUIRE(Ingest(s, {Batch(s, rows)}, &response).ok());
    REQUIRE(s.kv->Flush().ok());
  }
  // Background compactions the flushes triggered (either family) end first, so the next table
  // file written is the manual compaction's.
  const auto background_idle = [&] {
    for (const char* family : {"history", "online"}) {
      for (const char* property : {"rocksdb.compaction-pending", "rocksdb.num-running-compactions",
                                   "rocksdb.num-running-flushes"}) {
        absl::StatusOr<uint64_t> value = s.kv->IntProperty(*s.kv->Family(family), property);
        if (!value.ok() || *value != 0) return false;
      }
    }
    return true;
  };
  REQUIRE(testing::PollUntil(background_idle, absl::Seconds(60)));
  env.HoldNextSstFile();
  std::atomic<bool> compacting{true};
  absl::Status compacted;
  std::thread compaction([&] {
    compacted = s.kv->Compact(*s.kv->Family("history"));
    compacting = false;
  });
  const bool held = testing::PollUntil([&] { return env.sst_file_held(); }, absl::Seconds(60));
  auto channel = client::MakePlaintextChannel(absl::StrCat("127.0.0.1:", s.host->port()));
  constexpr int kChecksWhileHeld = 20;
  int checks = 0, serving = 0, lookups_ok = 0;
  const auto check = [&] {
    ++checks;
    absl::StatusOr<client::Health> health =
        client::CheckHealth(channel, "fabrique.v1.FeatureStore", absl::Seconds(5));
    if (health.ok() && *health == client::Health::kServing) ++serving;
    const v1::LookupOnlineResponse online = Lookup(s, {"c1", "c4999"});
    if (online.columns(0).statuses(1) == v1::VALUE_STATUS_PRESENT) ++lookups_ok;
  };
  // While the compaction is held mid-way (it has read its inputs and waits to write its output).
  for (int i = 0; held && i < kChecksWhileHeld; ++i) check();
  const bool still_compacting = compacting.load();
  env.Release();
  // And while it finishes.
  while (compacting) check();
  compaction.join();
  REQUIRE(held);
  REQUIRE(still_compacting);
  REQUIRE(compacted.ok());
  INFO("health checks during the compaction: " << checks);
  REQUIRE(checks >= kChecksWhileHeld);
  CHECK(serving == checks);
  CHECK(lookups_ok == checks);
}

}  // namespace
}  // namespace fabrique::services
