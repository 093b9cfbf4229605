// The online view's newest-row-wins merge operator: the rule holds whether the versions of a row
// meet in a read of the memtable, of files after a flush, or in a compaction; ties go to the
// later write; a malformed row never wins and never fails a read; a writer on a store without
// the operator is refused; concurrent writers of one entity keep its newest row.

#include "libs/features/storage/online_merge.h"

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/features/storage/feature_writer.h"
#include "libs/features/storage/row_codec.h"
#include "libs/features/storage/storage_keys.h"
#include "storage_test_util.h"

namespace fabrique::features {
namespace {

using testing::MakeBatch;
using testing::MakeGroup;
using testing::OpenStore;

v1::FeatureGroup Group() { return MakeGroup("g", "customer", {{"x", v1::FEATURE_TYPE_INT64}}); }

// The encoded row of `entity` at `time` with x = `x`.
std::string Row(int64_t time, int64_t x) {
  const v1::FeatureGroup group = Group();
  const RowSchema schema = *RowSchema::FromFeatureGroup(group);
  const v1::RowBatch batch = MakeBatch(group, {{"c", time, {x}}});
  std::string out;
  RowBatchEncoder::Create(schema, batch)->EncodeRow(0, &out);
  return out;
}

// The online (time, x) of entity "c", or (-1, -1) when absent.
std::pair<int64_t, int64_t> Online(kv::Store& store) {
  absl::StatusOr<std::string> value = store.Get(*store.Family("online"), OnlineKey("g", "c"));
  if (!value.ok()) return {-1, -1};
  RowView row;
  STORAGE_REQUIRE_OK(row.Parse(*value, *RowSchema::FromFeatureGroup(Group())));
  return {row.event_time_micros(), row.Int64(0)};
}

void MergeRow(kv::Store& store, absl::string_view row) {
  kv::WriteBatch batch;
  batch.Merge(*store.Family("online"), OnlineKey("g", "c"), row);
  STORAGE_REQUIRE_OK(store.Write(batch, kv::SyncMode::kNoSync));
}

TEST_CASE("The newest row wins wherever its versions meet", "[online_merge]") {
  std::unique_ptr<kv::Store> store = OpenStore();
  const std::string where = GENERATE("memtable", "flushed", "compacted");
  INFO(where);
  MergeRow(*store, Row(100, 1));
  if (where != "memtable") STORAGE_REQUIRE_OK(store->Flush());
  MergeRow(*store, Row(300, 3));  // Newest.
  if (where != "memtable") STORAGE_REQUIRE_OK(store->Flush());
  MergeRow(*store, Row(200, 2));  // Late: must not replace 300.
  if (where == "compacted") {
    STORAGE_REQUIRE_OK(store->Flush());
    STORAGE_REQUIRE_OK(store->Compact(*store->Family("online")));
  }
  REQUIRE(Online(*store) == std::make_pair(int64_t{300}, int64_t{3}));

  // Equal event time: the later write wins (re-sends are idempotent, corrections land).
  MergeRow(*store, Row(300, 4));
  REQUIRE(Online(*store) == std::make_pair(int64_t{300}, int64_t{4}));
  STORAGE_REQUIRE_OK(store->Flush());
  STORAGE_REQUIRE_OK(store->Compact(*store->Family("online")));
  REQUIRE(Online(*store) == std::make_pair(int64_t{300}, int64_t{4}));
}

TEST_CASE("A stored Put is the base the operands merge with", "[online_merge]") {
  // Online rows written before the operator existed were plain Puts.
  std::unique_ptr<kv::Store> store = OpenStore();
  kv::WriteBatch put;
  put.Put(*store->Family("online"), OnlineKey("g", "c"), Row(500, 5));
  STORAGE_REQUIRE_OK(store->Write(put, kv::SyncMode::kNoSync));
  MergeRow(*store, Row(400, 4));
  REQUIRE(Online(*store) == std::make_pair(int64_t{500}, int64_t{5}));
  MergeRow(*store, Row(600, 6));
  REQUIRE(Online(*store) == std::make_pair(int64_t{600}, int64_t{6}));
}

TEST_CASE("A malformed row never wins and never fails a read or a compaction", "[online_merge]") {
  std::unique_ptr<kv::Store> store = OpenStore();
  MergeRow(*store, Row(100, 1));
  MergeRow(*store, "\x7f garbage");
  MergeRow(*store, "");
  REQUIRE(Online(*store) == std::make_pair(int64_t{100}, int64_t{1}));
  STORAGE_REQUIRE_OK(store->Flush());
  STORAGE_REQUIRE_OK(store->Compact(*store->Family("online")));
  REQUIRE(Online(*store) == std::make_pair(int64_t{100}, int64_t{1}));
}

TEST_CASE("A writer refuses a store whose online family has no merge operator", "[online_merge]") {
  kv::StoreOptions options;
  options.path = "/in-memory/plain";
  options.in_memory = true;
  options.column_families = {"history", "online"};
  std::unique_ptr<kv::Store> store = *kv::Store::Open(options);
  FeatureWriterOptions writer;
  writer.store = store.get();
  absl::StatusOr<std::unique_ptr<FeatureWriter>> created = FeatureWriter::Create(writer);
  REQUIRE(created.status().code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE_THAT(std::string(created.status().message()), Catch::Contains("InstallOnlineMerge"));
}

TEST_CASE("Concurrent writers of one entity keep its newest row", "[online_merge]") {
  std::unique_ptr<kv::Store> store = OpenStore();
  FeatureWriterOptions options;
  options.store = store.get();
  options.durability = Durability::kProcessCrashOnly;
  std::unique_ptr<FeatureWriter> writer = *FeatureWriter::Create(options);
  const v1::FeatureGroup group = Group();
  // Every time 1..4000 written once, in a random order split over 4 threads.
  std::vector<int64_t> times(4000);
  for (size_t i = 0; i < times.size(); ++i) times[i] = static_cast<int64_t>(i) + 1;
  std::shuffle(times.begin(), times.end(), std::mt19937(7));
  std::atomic<int> failures{0};  // Catch2's assertions are not thread-safe.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < times.size(); i += 4) {
        if (!writer->Write(group, MakeBatch(group, {{"c", times[i], {times[i]}}})).ok()) ++failures;
        if (i % 997 == 0 && !store->Flush().ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  REQUIRE(failures == 0);
  REQUIRE(Online(*store) == std::make_pair(int64_t{4000}, int64_t{4000}));
}

}  // namespace
}  // namespace fabrique::features
