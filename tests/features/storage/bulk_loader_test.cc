// Bulk backfill by SST ingestion: history lands whole and readable, unsorted input and
// duplicates are handled, the online view still follows newest-wins against what ingest wrote
// before (in the memtable or flushed), and the load's extra writes join its files or, when they
// cannot, commit after them; an error writes nothing.

#include "libs/features/storage/bulk_loader.h"

#include <algorithm>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/features/storage/history_reader.h"
#include "libs/features/storage/row_codec.h"
#include "libs/features/storage/storage_keys.h"
#include "libs/kv/write_batch.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
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

v1::FeatureGroup IntGroup() { return MakeGroup("g", "customer", {{"x", v1::FEATURE_TYPE_INT64}}); }

// The online row of `entity` in IntGroup(): (event time, x), or (-1, -1) when absent.
std::pair<int64_t, int64_t> OnlineRow(kv::Store& store, const std::string& entity) {
  absl::StatusOr<std::string> value = store.Get(*store.Family("online"), OnlineKey("g", entity));
  if (!value.ok()) return {-1, -1};
  const RowSchema schema = *RowSchema::FromFeatureGroup(IntGroup());
  RowView row;
  STORAGE_REQUIRE_OK(row.Parse(*value, schema));
  return {row.event_time_micros(), row.Int64(0)};
}

int64_t CountKeys(kv::Store& store, const std::string& family) {
  int64_t count = 0;
  STORAGE_REQUIRE_OK(store.Scan(*store.Family(family), kv::KeyRange::All(),
                                [&count](absl::string_view, absl::string_view) {
                                  ++count;
                                  return true;
                                }));
  return count;
}

int64_t MemtableEntries(kv::Store& store, const std::string& family) {
  return static_cast<int64_t>(
      *store.IntProperty(*store.Family(family), "rocksdb.num-entries-active-mem-table"));
}

struct Loader {
  std::unique_ptr<kv::Store> store = OpenStore();
  std::unique_ptr<FeatureWriter> writer;
  std::unique_ptr<BulkLoader> loader;

  Loader() {
    FeatureWriterOptions writer_options;
    writer_options.store = store.get();
    writer = *FeatureWriter::Create(writer_options);
    BulkLoaderOptions options;
    options.store = store.get();
    options.writer = writer.get();
    loader = *BulkLoader::Create(options);
  }
};

TEST_CASE("A backfill lands in history by SST ingestion and merges online newest-wins",
          "[bulk_loader]") {
  Loader l;
  kv::Store* store = l.store.get();
  FeatureWriter* writer = l.writer.get();
  BulkLoader* loader = l.loader.get();
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

  std::unique_ptr<HistoryReader> reader = *HistoryReader::Create({store});
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

TEST_CASE("A bulk row older than the stored online row never replaces it; a newer one does",
          "[bulk_loader]") {
  Loader l;
  const v1::FeatureGroup group = IntGroup();
  // Stored by streaming ingest: in the (hash-indexed) memtable, or flushed to a file.
  STORAGE_REQUIRE_OK(l.writer->Write(group, MakeBatch(group, {{"old", 500, {int64_t{1}}},
                                                              {"new", 500, {int64_t{2}}},
                                                              {"tie", 500, {int64_t{3}}}})));
  const bool flushed = GENERATE(false, true);
  INFO((flushed ? "stored row flushed" : "stored row in the memtable"));
  if (flushed) STORAGE_REQUIRE_OK(l.store->Flush());

  absl::StatusOr<BulkLoadResult> result =
      l.loader->Load(group, MakeBatch(group, {{"old", 400, {int64_t{10}}},
                                              {"new", 600, {int64_t{20}}},
                                              {"new", 550, {int64_t{21}}},
                                              {"tie", 500, {int64_t{30}}},
                                              {"fresh", 100, {int64_t{40}}}}));
  STORAGE_REQUIRE_OK(result);
  REQUIRE(result->rows_written == 5);
  REQUIRE(result->online.online_offered == 4);
  REQUIRE(OnlineRow(*l.store, "old") == std::make_pair(int64_t{500}, int64_t{1}));
  REQUIRE(OnlineRow(*l.store, "new") == std::make_pair(int64_t{600}, int64_t{20}));
  // Equal event times: the later write wins, and the load is later than the stored row.
  REQUIRE(OnlineRow(*l.store, "tie") == std::make_pair(int64_t{500}, int64_t{30}));
  REQUIRE(OnlineRow(*l.store, "fresh") == std::make_pair(int64_t{100}, int64_t{40}));
  // Nothing of the load went through the memtables (the ingestion flushed the overlapping ones,
  // the online family's hash-indexed one included).
  REQUIRE(MemtableEntries(*l.store, "history") == 0);
  REQUIRE(MemtableEntries(*l.store, "online") == 0);

  // Still so once compaction merged the operands with the stored rows.
  STORAGE_REQUIRE_OK(l.store->Compact(*l.store->Family("online")));
  REQUIRE(OnlineRow(*l.store, "old") == std::make_pair(int64_t{500}, int64_t{1}));
  REQUIRE(OnlineRow(*l.store, "new") == std::make_pair(int64_t{600}, int64_t{20}));
  REQUIRE(OnlineRow(*l.store, "tie") == std::make_pair(int64_t{500}, int64_t{30}));

  // A later streaming row still merges over the loaded one.
  STORAGE_REQUIRE_OK(l.writer->Write(group, MakeBatch(group, {{"new", 700, {int64_t{5}}}})));
  REQUIRE(OnlineRow(*l.store, "new") == std::make_pair(int64_t{700}, int64_t{5}));
}

TEST_CASE("A bulk batch that repeats an entity's newest row puts its last copy online",
          "[bulk_loader]") {
  Loader l;
  const v1::FeatureGroup group = IntGroup();
  STORAGE_REQUIRE_OK(l.loader->Load(group, MakeBatch(group, {{"c1", 900, {int64_t{1}}},
                                                             {"c1", 100, {int64_t{2}}},
                                                             {"c1", 900, {int64_t{3}}}})));
  REQUIRE(OnlineRow(*l.store, "c1") == std::make_pair(int64_t{900}, int64_t{3}));
  REQUIRE(CountKeys(*l.store, "history") == 2);
}

TEST_CASE("A load's extra writes join its files, in any order", "[bulk_loader]") {
  Loader l;
  const kv::ColumnFamily extra_family = *l.store->CreateFamily("extra");
  STORAGE_REQUIRE_OK(l.store->Put(extra_family, "gone", "x"));
  STORAGE_REQUIRE_OK(l.store->Flush());
  const v1::FeatureGroup group = IntGroup();
  int calls = 0;
  const ExtraWrites extra = [&](kv::WriteBatch* batch) {
    ++calls;
    batch->Put(extra_family, "t3", "c").Put(extra_family, "t1", "a").Delete(extra_family, "gone");
    batch->Put(extra_family, "t2", "b");
    return absl::OkStatus();
  };
  STORAGE_REQUIRE_OK(l.loader->Load(group, MakeBatch(group, {{"c1", 1, {int64_t{1}}}}), {}, extra));
  REQUIRE(calls == 1);
  REQUIRE(*l.store->Get(extra_family, "t1") == "a");
  REQUIRE(*l.store->Get(extra_family, "t3") == "c");
  STORAGE_REQUIRE_CODE(l.store->Get(extra_family, "gone"), absl::StatusCode::kNotFound);
  REQUIRE(MemtableEntries(*l.store, "extra") == 0);  // Ingested, not written.
  REQUIRE(OnlineRow(*l.store, "c1") == std::make_pair(int64_t{1}, int64_t{1}));
}

TEST_CASE("Extra writes that cannot be files commit after the ingestion", "[bulk_loader]") {
  Loader l;
  const kv::ColumnFamily extra_family = *l.store->CreateFamily("extra");
  const v1::FeatureGroup group = IntGroup();
  const std::string kind = GENERATE(std::string("range deletion"), std::string("same key twice"),
                                    std::string("online family"));
  INFO(kind);
  const ExtraWrites extra = [&](kv::WriteBatch* batch) {
    batch->Put(extra_family, "t1", "a");
    if (kind == "range deletion") batch->DeleteRange(extra_family, "u", "v");
    if (kind == "same key twice") batch->Put(extra_family, "t1", "a");
    if (kind == "online family") batch->Put(*l.store->Family("online"), "zz", "row");
    return absl::OkStatus();
  };
  STORAGE_REQUIRE_OK(l.loader->Load(group, MakeBatch(group, {{"c1", 1, {int64_t{1}}}}), {}, extra));
  REQUIRE(*l.store->Get(extra_family, "t1") == "a");
  REQUIRE(MemtableEntries(*l.store, "extra") >= 1);  // Written through the write-ahead log.
  REQUIRE(OnlineRow(*l.store, "c1") == std::make_pair(int64_t{1}, int64_t{1}));
  REQUIRE(CountKeys(*l.store, "history") == 1);
}

TEST_CASE("A load whose extra writes fail writes nothing", "[bulk_loader]") {
  Loader l;
  const v1::FeatureGroup group = IntGroup();
  const ExtraWrites extra = [](kv::WriteBatch*) { return absl::ResourceExhaustedError("no"); };
  STORAGE_REQUIRE_CODE(
      l.loader->Load(group, MakeBatch(group, {{"c1", 1, {int64_t{1}}}}), {}, extra),
      absl::StatusCode::kResourceExhausted);
  REQUIRE(CountKeys(*l.store, "history") == 0);
  REQUIRE(CountKeys(*l.store, "online") == 0);
  // And leaves no file behind.
  std::vector<std::string> children;
  REQUIRE(l.store->raw_db()->GetEnv()->GetChildren(l.store->path() + "/bulk", &children).ok());
  for (const std::string& child : children) REQUIRE(child.find(".sst") == std::string::npos);
}

TEST_CASE("A loader refuses a store whose online family has no merge operator", "[bulk_loader]") {
  kv::StoreOptions options;
  options.path = "/in-memory/plain";
  options.in_memory = true;
  options.column_families = {"history", "online"};
  std::unique_ptr<kv::Store> store = *kv::Store::Open(std::move(options));
  Loader with_merge;
  BulkLoaderOptions loader_options;
  loader_options.store = store.get();
  loader_options.writer = with_merge.writer.get();
  STORAGE_REQUIRE_CODE(BulkLoader::Create(loader_options), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace fabrique::features
