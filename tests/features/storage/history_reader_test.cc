// History reads: order (entity, then ascending time), time ranges, entity filters, feature
// projection, chunking and limits, and retention by compaction with an injected clock.

#include "libs/features/storage/history_reader.h"

#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/features/storage/family_tuning.h"
#include "libs/features/storage/feature_writer.h"
#include "libs/features/storage/retention_filter.h"
#include "libs/features/storage/storage_keys.h"
#include "storage_test_util.h"

namespace fabrique::features {
namespace {

using testing::MakeBatch;
using testing::MakeGroup;
using testing::OpenStore;
using testing::TestValue;
using testing::ValueAt;

std::unique_ptr<FeatureWriter> MakeWriter(kv::Store* store) {
  FeatureWriterOptions options;
  options.store = store;
  options.durability = Durability::kProcessCrashOnly;
  return *FeatureWriter::Create(options);
}

// (entity, time) of every row read, and the chunk sizes.
struct Collected {
  std::vector<std::pair<std::string, int64_t>> rows;
  std::vector<int> chunk_sizes;
  std::vector<TestValue> first_column;
};

Collected ReadAll(const HistoryReader& reader, const v1::FeatureGroup& group,
                  const HistoryQuery& query) {
  Collected collected;
  STORAGE_REQUIRE_OK(reader.Read(group, query, [&](v1::ReadHistoryResponse* chunk) {
    const v1::RowBatch& rows = chunk->rows();
    collected.chunk_sizes.push_back(rows.entity_keys_size());
    for (int i = 0; i < rows.entity_keys_size(); ++i) {
      collected.rows.emplace_back(rows.entity_keys(i), rows.event_time_unix_micros(i));
      collected.first_column.push_back(ValueAt(rows.columns(0).values(), i));
    }
    REQUIRE(chunk->schema_version() == 1);
    return absl::OkStatus();
  }));
  return collected;
}

TEST_CASE("History reads entities in order, oldest row first, within a time range",
          "[history_reader]") {
  std::unique_ptr<kv::Store> store = OpenStore();
  std::unique_ptr<FeatureWriter> writer = MakeWriter(store.get());
  const v1::FeatureGroup group =
      MakeGroup("g", "customer", {{"x", v1::FEATURE_TYPE_INT64}, {"s", v1::FEATURE_TYPE_STRING}});
  const v1::FeatureGroup other = MakeGroup("other", "customer", {{"x", v1::FEATURE_TYPE_INT64}});
  STORAGE_REQUIRE_OK(
      writer->Write(group, MakeBatch(group, {{"b", 5, {int64_t{5}, std::string("b5")}},
                                             {"a", 30, {int64_t{30}}},
                                             {"a", -10, {int64_t{-10}}},
                                             {"a", 20, {TestValue()}},
                                             {"c", 1, {int64_t{1}}},
                                             {"b", 7, {int64_t{7}}}})));
  STORAGE_REQUIRE_OK(writer->Write(other, MakeBatch(other, {{"a", 25, {int64_t{0}}}})));
  std::unique_ptr<HistoryReader> reader = *HistoryReader::Create({store.get()});

  Collected all = ReadAll(*reader, group, {});
  using Row = std::pair<std::string, int64_t>;
  REQUIRE(all.rows ==
          std::vector<Row>{{"a", -10}, {"a", 20}, {"a", 30}, {"b", 5}, {"b", 7}, {"c", 1}});
  REQUIRE(all.first_column[1] == TestValue());  // Nulls stay nulls.
  REQUIRE(all.first_column[2] == TestValue(int64_t{30}));

  HistoryQuery range;
  range.start_micros = 5;
  range.end_micros = 30;
  REQUIRE(ReadAll(*reader, group, range).rows == std::vector<Row>{{"a", 20}, {"b", 5}, {"b", 7}});

  HistoryQuery some;
  some.entity_keys = {"c", "a", "zz", "a"};
  some.start_micros = 0;
  some.features = {"s"};
  Collected picked = ReadAll(*reader, group, some);
  REQUIRE(picked.rows == std::vector<Row>{{"a", 20}, {"a", 30}, {"c", 1}});
  REQUIRE(picked.first_column[0] == TestValue());

  HistoryQuery chunked;
  chunked.chunk_rows = 4;
  REQUIRE(ReadAll(*reader, group, chunked).chunk_sizes == std::vector<int>{4, 2});
  chunked.limit = 5;
  REQUIRE(ReadAll(*reader, group, chunked).chunk_sizes == std::vector<int>{4, 1});

  HistoryQuery unknown;
  unknown.features = {"nope"};
  STORAGE_REQUIRE_CODE(
      reader->Read(group, unknown, [](v1::ReadHistoryResponse*) { return absl::OkStatus(); }),
      absl::StatusCode::kNotFound);
  // The callback can stop the read.
  STORAGE_REQUIRE_CODE(reader->Read(group, chunked,
                                    [](v1::ReadHistoryResponse*) {
                                      return absl::CancelledError("client went away");
                                    }),
                       absl::StatusCode::kCancelled);
}

TEST_CASE("Retention drops old history at compaction, per group, by the injected clock",
          "[retention]") {
  core::FakeClock clock(absl::FromUnixSeconds(1'000'000));
  auto policies = std::make_shared<RetentionPolicies>();
  kv::StoreOptions options;
  // OpenStore chains the families' tuning after the filter: the order does not matter.
  InstallRetentionFilter(&options, "history", policies, &clock);
  std::unique_ptr<kv::Store> store = OpenStore(std::move(options));
  std::unique_ptr<FeatureWriter> writer = MakeWriter(store.get());
  const v1::FeatureGroup kept = MakeGroup("kept", "customer", {{"x", v1::FEATURE_TYPE_INT64}});
  const v1::FeatureGroup aged = MakeGroup("aged", "customer", {{"x", v1::FEATURE_TYPE_INT64}});
  const int64_t now = absl::ToUnixMicros(clock.Now());
  const int64_t hour = int64_t{3600} * 1'000'000;
  for (const v1::FeatureGroup* group : {&kept, &aged}) {
    STORAGE_REQUIRE_OK(
        writer->Write(*group, MakeBatch(*group, {{"a", now - 5 * hour, {int64_t{1}}},
                                                 {"a", now - 1 * hour, {int64_t{2}}},
                                                 {"b", now - 3 * hour, {int64_t{3}}}})));
  }
  policies->Set("aged", absl::Hours(2));
  std::unique_ptr<HistoryReader> reader = *HistoryReader::Create({store.get()});
  const kv::ColumnFamily history = *store->Family("history");
  STORAGE_REQUIRE_OK(store->Flush());
  STORAGE_REQUIRE_OK(store->Compact(history));
  using Row = std::pair<std::string, int64_t>;
  REQUIRE(ReadAll(*reader, aged, {}).rows == std::vector<Row>{{"a", now - hour}});
  REQUIRE(ReadAll(*reader, kept, {}).rows.size() == 3);

  // Time passes: the last row ages out too. The online view is not touched.
  clock.Advance(absl::Hours(2));
  STORAGE_REQUIRE_OK(store->Compact(history));
  REQUIRE(ReadAll(*reader, aged, {}).rows.empty());
  REQUIRE(store->Get(*store->Family("online"), OnlineKey("aged", "a")).ok());

  // Removing the policy keeps everything from then on.
  policies->Remove("kept");
  policies->Set("kept", absl::ZeroDuration());
  STORAGE_REQUIRE_OK(store->Compact(history));
  REQUIRE(ReadAll(*reader, kept, {}).rows.size() == 3);
}

}  // namespace
}  // namespace fabrique::features
