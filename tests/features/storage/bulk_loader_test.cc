// Bulk backfill by SST ingestion: history lands whole and readable, unsorted input and
// duplicates are handled, and the online view still follows newest-wins against what ingest
// wrote before.

#include "libs/features/storage/bulk_loader.h"

#include <algorithm>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/features/storage/history_reader.h"
#include "libs/features/storage/row_codec.h"
#include "libs/features/storage/storage_keys.h"
#include "storage_test_util.h"

namespace fabrique::features {
namespace {

using testing::MakeBatch;
using testing::MakeGroup;
using testing::OpenStore;
using testing::TestRow;
using testing::TestValue;
using testing::ValueAt;

int64_t OnlineTime(kv::Store& store, const std::string& entity) {
  absl::StatusOr<std::string> value = store.Get(*store.Family("online"), OnlineKey("g", entity));
  return value.ok() ? *PeekEventTime(*value) : -1;
}

TEST_CASE("A backfill lands in history by SST ingestion and merges online newest-wins",
          "[bulk_loader]") {
  std::unique_ptr<kv::Store> store = OpenStore();
  FeatureWriterOptions writer_options;
  writer_options.store = store.get();
  std::unique_ptr<FeatureWriter> writer = *FeatureWriter::Create(writer_options);
  BulkLoaderOptions options;
  options.store = store.get();
  options.writer = writer.get();
  std::unique_ptr<BulkLoader> loader = *BulkLoader::Create(options);
  const v1::FeatureGroup group =
      MakeGroup("g", "customer", {{"x", v1::FEATURE_TYPE_INT64}, {"s", v1::FEATURE_TYPE_STRING}});

  // Streaming ingest already wrote a newer row for c1.
  STORAGE_REQUIRE_OK(writer->Write(group, MakeBatch(group, {{"c01", 1000, {int64_t{1000}}}})));

  std::vector<TestRow> rows;
  for (int e = 0; e < 20; ++e) {
    for (int t = 0; t < 30; ++t) {
      rows.push_back(
          {(e < 10 ? "c0" : "c") + std::to_string(e), t * 10, {int64_t{t * 10}, std::string("v")}});
    }
  }
  // Sorted by entity then ascending time (an export), or shuffled with a duplicate (entity,
  // time) whose last copy wins.
  const bool shuffled = GENERATE(false, true);
  INFO((shuffled ? "shuffled" : "sorted"));
  if (shuffled) {
    std::reverse(rows.begin(), rows.end());
    std::swap(rows[3], rows[400]);
    rows.push_back({"c05", 100, {int64_t{-1}, std::string("dup")}});
  }
  absl::StatusOr<BulkLoadResult> result = loader->Load(group, MakeBatch(group, rows));
  STORAGE_REQUIRE_OK(result);
  REQUIRE(result->rows_written == 600);
  REQUIRE(result->online.online_offered == 20);  // c01's is older than the stored row.
  REQUIRE(OnlineTime(*store, "c01") == 1000);
  REQUIRE(OnlineTime(*store, "c07") == 290);

  std::unique_ptr<HistoryReader> reader = *HistoryReader::Create({store.get()});
  int64_t count = 0;
  int64_t previous_time = -1;
  std::string previous_entity;
  HistoryQuery query;
  STORAGE_REQUIRE_OK(reader->Read(group, query, [&](v1::ReadHistoryResponse* chunk) {
    const v1::RowBatch& batch = chunk->rows();
    for (int i = 0; i < batch.entity_keys_size(); ++i, ++count) {
      const std::string& entity = batch.entity_keys(i);
      const int64_t time = batch.event_time_unix_micros(i);
      if (entity == previous_entity) REQUIRE(time > previous_time);
      previous_entity = entity;
      previous_time = time;
      const TestValue x = ValueAt(batch.columns(0).values(), i);
      if (entity == "c05" && time == 100 && rows.size() == 601) {
        REQUIRE(x == TestValue(int64_t{-1}));
      } else if (!(entity == "c01" && time == 1000)) {
        REQUIRE(x == TestValue(time));
      }
    }
    return absl::OkStatus();
  }));
  REQUIRE(count == 601);  // 600 backfilled + the streamed row.

  // Loading the same rows again changes nothing visible.
  STORAGE_REQUIRE_OK(loader->Load(group, MakeBatch(group, rows)));
  REQUIRE(OnlineTime(*store, "c07") == 290);
}

}  // namespace
}  // namespace fabrique::features
