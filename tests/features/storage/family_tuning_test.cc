// The online family's table settings: with online_prepopulate_block_cache, rows a flush moves out
// of the memtable are still answered by memory-only lookups, since their blocks go to the block
// cache as the flush writes them.

#include "libs/features/storage/family_tuning.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "libs/features/storage/feature_writer.h"
#include "libs/features/storage/online_merge.h"
#include "libs/features/storage/online_reader.h"
#include "libs/kv/store.h"
#include "storage_test_util.h"

namespace fabrique::features {
namespace {

using testing::MakeBatch;
using testing::MakeGroup;
using testing::Ref;
using testing::TestRow;
using testing::TestValue;
using testing::ValueAt;

std::unique_ptr<kv::Store> OpenTuned(const FamilyTuning& tuning) {
  kv::StoreOptions options;
  options.path = "/in-memory/family-tuning";
  options.in_memory = true;
  options.column_families = {"history", "online"};
  TuneFeatureFamilies(&options, tuning);
  InstallOnlineMerge(&options);
  absl::StatusOr<std::unique_ptr<kv::Store>> store = kv::Store::Open(std::move(options));
  STORAGE_REQUIRE_OK(store);
  return std::move(store).value();
}

std::string Entity(int i) { return absl::StrCat("customer-", i); }

std::unique_ptr<FeatureWriter> WriterOf(kv::Store* store) {
  FeatureWriterOptions options;
  options.store = store;
  return *FeatureWriter::Create(options);
}

v1::FeatureGroup SpendGroup() {
  return MakeGroup("spend", "customer", {{"total", v1::FEATURE_TYPE_FLOAT}});
}

TEST_CASE("Rows flushed from the online memtable are still answered from memory",
          "[family_tuning]") {
  constexpr int kEntities = 300;
  // With the option the flush puts the blocks in the cache; without it (the default), a
  // memory-only lookup of the flushed rows needs the disk.
  FamilyTuning tuning;
  tuning.online_prepopulate_block_cache = GENERATE(true, false);
  std::unique_ptr<kv::Store> store = OpenTuned(tuning);
  std::unique_ptr<FeatureWriter> writer = WriterOf(store.get());
  OnlineReaderOptions reader_options;
  reader_options.store = store.get();
  std::unique_ptr<OnlineReader> reader = *OnlineReader::Create(reader_options);

  const v1::FeatureGroup group = SpendGroup();
  const int64_t now = absl::ToUnixMicros(absl::Now());
  std::vector<TestRow> rows;
  v1::LookupOnlineRequest request;
  *request.add_features() = Ref("spend", "total");
  v1::EntityKeys* keys = request.add_entity_keys();
  keys->set_entity("customer");
  for (int i = 0; i < kEntities; ++i) {
    rows.push_back({Entity(i), now, {TestValue(static_cast<float>(i))}});
    keys->add_keys(Entity(i));
  }
  STORAGE_REQUIRE_OK(writer->Write(group, MakeBatch(group, rows)));
  STORAGE_REQUIRE_OK(store->Flush());
  REQUIRE(*store->IntProperty(*store->Family("online"), "rocksdb.num-entries-active-mem-table") ==
          0);

  const std::vector<const v1::FeatureGroup*> groups = {&group};
  v1::LookupOnlineResponse response;
  const absl::Status in_memory = reader->Lookup(request, groups, &response, /*memory_only=*/true);
  if (!tuning.online_prepopulate_block_cache) {
    REQUIRE(in_memory.code() == absl::StatusCode::kUnavailable);
    REQUIRE(kv::IsNotInMemory(in_memory));
    return;
  }
  STORAGE_REQUIRE_OK(in_memory);
  REQUIRE(response.columns_size() == 1);
  for (int i = 0; i < kEntities; ++i) {
    REQUIRE(response.columns(0).statuses(i) == v1::VALUE_STATUS_PRESENT);
    REQUIRE(std::get<float>(ValueAt(response.columns(0).values(), i)) == static_cast<float>(i));
  }
}

// The memory history's open files hold beside the block cache after `rows` rows of one feature
// were written and flushed.
uint64_t HistoryTableReaderBytes(const FamilyTuning& tuning, int rows_written) {
  std::unique_ptr<kv::Store> store = OpenTuned(tuning);
  std::unique_ptr<FeatureWriter> writer = WriterOf(store.get());
  const v1::FeatureGroup group = SpendGroup();
  const int64_t now = absl::ToUnixMicros(absl::Now());
  std::vector<TestRow> rows;
  for (int i = 0; i < rows_written; ++i) {
    rows.push_back({Entity(i % 500), now - i, {TestValue(static_cast<float>(i))}});
  }
  STORAGE_REQUIRE_OK(writer->Write(group, MakeBatch(group, rows)));
  STORAGE_REQUIRE_OK(store->Flush());
  const kv::ColumnFamily history = *store->Family("history");
  // Every row is still there to scan.
  int64_t scanned = 0;
  STORAGE_REQUIRE_OK(
      store->Scan(history, kv::KeyRange::All(), [&scanned](absl::string_view, absl::string_view) {
        ++scanned;
        return true;
      }));
  REQUIRE(scanned == rows_written);
  return *store->IntProperty(history, "rocksdb.estimate-table-readers-mem");
}

TEST_CASE("History's files carry no bloom filter, whose memory grew with the rows",
          "[family_tuning]") {
  FamilyTuning with_filter;
  with_filter.history_filter = true;
  const uint64_t filtered = HistoryTableReaderBytes(with_filter, 20000);
  const uint64_t unfiltered = HistoryTableReaderBytes({}, 20000);
  INFO("with a filter: " << filtered << " bytes; without: " << unfiltered);
  // 10 bits a key: some 25 KB of filter for 20,000 rows.
  CHECK(filtered - unfiltered > 20000);
}

TEST_CASE("The memtables of all families are capped together", "[family_tuning]") {
  kv::StoreOptions options;
  TuneFeatureFamilies(&options);
  REQUIRE(options.total_write_buffer_bytes == FamilyTuning().memtable_cap_bytes);
  REQUIRE(options.total_write_buffer_bytes > 0);

  kv::StoreOptions uncapped;
  FamilyTuning tuning;
  tuning.memtable_cap_bytes = 0;
  TuneFeatureFamilies(&uncapped, tuning);
  REQUIRE(uncapped.total_write_buffer_bytes == 0);
}

}  // namespace
}  // namespace fabrique::features
