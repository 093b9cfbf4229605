// Point-in-time join: exact equality with a brute-force reference on randomized data (ties,
// out-of-order and repeated ingest, label times before, between, on and after events, TTL on
// some groups, several groups and entities), independence from chunk and window sizes, a stable
// content hash, snapshot isolation, and refusals by code.

#include "libs/features/storage/point_in_time_join.h"

#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/features/storage/feature_writer.h"
#include "storage_test_util.h"

namespace fabrique::features {
namespace {

using testing::MakeBatch;
using testing::MakeGroup;
using testing::OpenStore;
using testing::Ref;
using testing::TestRow;
using testing::TestValue;
using testing::ValueAt;

// A joined row as tests compare it: index, keys, time, label, then the features.
struct JoinedRow {
  int64_t index = 0;
  std::vector<std::string> keys;
  int64_t time = 0;
  TestValue label;
  std::vector<TestValue> features;
  bool operator==(const JoinedRow& o) const {
    return std::tie(index, keys, time, label, features) ==
           std::tie(o.index, o.keys, o.time, o.label, o.features);
  }
};

struct JoinOutput {
  std::vector<JoinedRow> rows;
  std::string sha256;
  std::vector<int> chunk_sizes;
};

// The randomized world: groups, the history as a reference map, and label events.
struct World {
  std::vector<v1::FeatureGroup> groups;
  // (group, entity) -> time -> row values: what history holds after every batch.
  std::map<std::pair<std::string, std::string>, std::map<int64_t, std::vector<TestValue>>> history;
  std::vector<v1::FeatureRef> features;
  std::vector<v1::LabelEventBatch> label_batches;
};

TestValue RandomValue(v1::FeatureType type, std::mt19937_64& random) {
  if (random() % 5 == 0) return TestValue();  // Some nulls.
  switch (type) {
    case v1::FEATURE_TYPE_FLOAT:
      return static_cast<float>(random() % 1000) / 8.0f;
    case v1::FEATURE_TYPE_DOUBLE:
      return static_cast<double>(random() % 100000) / 3.0;
    case v1::FEATURE_TYPE_INT64:
      return static_cast<int64_t>(random() % 100000) - 50000;
    case v1::FEATURE_TYPE_BOOL:
      return random() % 2 == 0;
    case v1::FEATURE_TYPE_STRING:
      return std::string(random() % 6, static_cast<char>('a' + random() % 26));
    case v1::FEATURE_TYPE_FLOAT_VECTOR:
      return std::vector<float>(random() % 4, static_cast<float>(random() % 10));
    default:
      return TestValue();
  }
}

World BuildWorld(kv::Store* store, uint64_t seed) {
  std::mt19937_64 random(seed);
  World world;
  world.groups = {
      MakeGroup("cust", "customer",
                {{"f", v1::FEATURE_TYPE_FLOAT},
                 {"i", v1::FEATURE_TYPE_INT64},
                 {"s", v1::FEATURE_TYPE_STRING}}),
      MakeGroup("cust_ttl", "customer",
                {{"d", v1::FEATURE_TYPE_DOUBLE},
                 {"v", v1::FEATURE_TYPE_FLOAT_VECTOR},
                 {"b", v1::FEATURE_TYPE_BOOL}}),
      MakeGroup("merch", "merchant", {{"m", v1::FEATURE_TYPE_FLOAT}}),
  };
  world.groups[1].mutable_spec()->mutable_ttl()->set_nanos(50'000);  // 50 microseconds.
  world.groups[2].mutable_spec()->mutable_ttl()->set_nanos(200'000);
  world.features = {Ref("cust_ttl", "v"), Ref("cust", "f"), Ref("merch", "m"),    Ref("cust", "s"),
                    Ref("cust_ttl", "d"), Ref("cust", "i"), Ref("cust_ttl", "b"), Ref("cust", "f")};
  FeatureWriterOptions options;
  options.store = store;
  options.durability = Durability::kProcessCrashOnly;
  std::unique_ptr<FeatureWriter> writer = *FeatureWriter::Create(options);
  for (const v1::FeatureGroup& group : world.groups) {
    const bool customer = group.spec().entity() == "customer";
    int remaining = 400 + static_cast<int>(random() % 200);
    while (remaining > 0) {  // Random batch sizes, random order: out of order and re-sends.
      const int size = std::min(remaining, 1 + static_cast<int>(random() % 40));
      remaining -= size;
      std::vector<TestRow> rows;
      for (int r = 0; r < size; ++r) {
        TestRow row;
        row.entity =
            customer ? "c" + std::to_string(random() % 25) : "m" + std::to_string(random() % 8);
        row.time = static_cast<int64_t>(random() % 1000);
        for (const v1::FeatureSpec& feature : group.spec().features()) {
          row.values.push_back(RandomValue(feature.type(), random));
        }
        world.history[{group.spec().name(), row.entity}][row.time] = row.values;
        rows.push_back(std::move(row));
      }
      STORAGE_REQUIRE_OK(writer->Write(group, MakeBatch(group, rows)));
    }
  }
  int remaining = 1500;
  while (remaining > 0) {
    const int size = std::min(remaining, 1 + static_cast<int>(random() % 300));
    remaining -= size;
    v1::LabelEventBatch& batch = world.label_batches.emplace_back();
    v1::EntityKeys* merchants = batch.add_entity_keys();
    merchants->set_entity("merchant");
    v1::EntityKeys* customers = batch.add_entity_keys();
    customers->set_entity("customer");
    ColumnBuilder labels(v1::FEATURE_TYPE_INT64, batch.mutable_labels());
    for (int r = 0; r < size; ++r) {
      customers->add_keys("c" + std::to_string(random() % 30));  // c25..c29 have no history.
      merchants->add_keys("m" + std::to_string(random() % 10));
      batch.add_event_time_unix_micros(static_cast<int64_t>(random() % 1200) - 100);
      if (random() % 10 == 0) {
        labels.AppendNull();
      } else {
        v1::ValueColumn one;
        one.mutable_int64_values()->add_values(static_cast<int64_t>(random() % 2));
        labels.AppendFrom(one, 0);
      }
    }
    labels.Finish();
  }
  return world;
}

// The brute-force answer: scan every row of the entity for the newest at or before `time`.
TestValue Reference(const World& world, const v1::FeatureRef& ref, const std::string& entity,
                    int64_t time) {
  const v1::FeatureGroup* group = nullptr;
  for (const v1::FeatureGroup& g : world.groups) {
    if (g.spec().name() == ref.group()) group = &g;
  }
  auto rows = world.history.find({ref.group(), entity});
  if (rows == world.history.end()) return TestValue();
  const std::vector<TestValue>* best = nullptr;
  int64_t best_time = 0;
  for (const auto& [row_time, values] : rows->second) {
    if (row_time <= time && (best == nullptr || row_time > best_time)) {
      best = &values;
      best_time = row_time;
    }
  }
  const int64_t ttl = group->spec().ttl().nanos() / 1000;
  if (best == nullptr || (ttl > 0 && time - best_time > ttl)) return TestValue();
  for (int f = 0; f < group->spec().features_size(); ++f) {
    if (group->spec().features(f).name() == ref.feature()) return (*best)[f];
  }
  FAIL("unknown feature");
  return TestValue();
}

JoinOutput Join(kv::Store* store, const World& world, int chunk_rows, int window_rows,
                int max_next_before_seek = 1, int threads = 1) {
  JoinOutput output;
  PointInTimeJoinOptions options;
  options.store = store;
  options.max_next_before_seek = max_next_before_seek;
  options.threads = threads;
  options.features = world.features;
  options.groups = world.groups;
  options.chunk_rows = chunk_rows;
  options.window_rows = window_rows;
  options.on_chunk = [&output](v1::TrainingSetRows* chunk) {
    output.chunk_sizes.push_back(chunk->label_event_index_size());
    for (int i = 0; i < chunk->label_event_index_size(); ++i) {
      JoinedRow row;
      row.index = chunk->label_event_index(i);
      for (const v1::EntityKeys& keys : chunk->entity_keys()) row.keys.push_back(keys.keys(i));
      row.time = chunk->event_time_unix_micros(i);
      row.label = ValueAt(chunk->labels(), i);
      for (const v1::FeatureColumn& column : chunk->features()) {
        row.features.push_back(ValueAt(column.values(), i));
      }
      output.rows.push_back(std::move(row));
    }
    return absl::OkStatus();
  };
  absl::StatusOr<std::unique_ptr<PointInTimeJoin>> join = PointInTimeJoin::Create(options);
  STORAGE_REQUIRE_OK(join);
  for (const v1::LabelEventBatch& batch : world.label_batches)
    STORAGE_REQUIRE_OK((*join)->Add(batch));
  absl::StatusOr<PointInTimeJoinSummary> summary = (*join)->Finish();
  STORAGE_REQUIRE_OK(summary);
  REQUIRE(summary->rows == static_cast<int64_t>(output.rows.size()));
  output.sha256 = summary->content_sha256;
  return output;
}

TEST_CASE("The point-in-time join equals a brute-force reference on random data",
          "[point_in_time_join]") {
  // Every way of moving through history: always Seek, one Next first, many Nexts first.
  for (auto [seed, steps] : std::vector<std::pair<uint64_t, int>>{{1, 1}, {2, 0}, {3, 16}}) {
    INFO("seed " << seed << ", " << steps << " Next() before a Seek");
    std::unique_ptr<kv::Store> store = OpenStore();
    const World world = BuildWorld(store.get(), seed);
    const JoinOutput output = Join(store.get(), world, 100, 256, steps);

    int64_t index = 0;
    int present = 0, absent = 0;
    for (const v1::LabelEventBatch& batch : world.label_batches) {
      for (int i = 0; i < batch.event_time_unix_micros_size(); ++i, ++index) {
        const JoinedRow& row = output.rows.at(index);
        REQUIRE(row.index == index);
        REQUIRE(row.time == batch.event_time_unix_micros(i));
        REQUIRE(row.label == ValueAt(batch.labels(), i));
        // Output key columns follow the order in which the features' groups need them.
        const std::string& customer = batch.entity_keys(1).keys(i);
        const std::string& merchant = batch.entity_keys(0).keys(i);
        REQUIRE(row.keys == std::vector<std::string>{customer, merchant});
        for (size_t f = 0; f < world.features.size(); ++f) {
          const v1::FeatureRef& ref = world.features[f];
          const std::string& entity = ref.group() == "merch" ? merchant : customer;
          INFO("event " << index << " at " << row.time << ", feature " << ref.group() << ":"
                        << ref.feature() << " of " << entity);
          const TestValue expected = Reference(world, ref, entity, row.time);
          REQUIRE(row.features[f] == expected);
          (std::holds_alternative<std::monostate>(expected) ? absent : present)++;
        }
      }
    }
    REQUIRE(index == static_cast<int64_t>(output.rows.size()));
    // The data exercises both outcomes, TTL expiry included.
    REQUIRE(present > 1000);
    REQUIRE(absent > 1000);
  }
}

TEST_CASE("Chunk and window sizes change neither the rows nor the content hash",
          "[point_in_time_join]") {
  std::unique_ptr<kv::Store> store = OpenStore();
  const World world = BuildWorld(store.get(), 7);
  const JoinOutput reference = Join(store.get(), world, 0, 0);
  REQUIRE(reference.sha256.size() == 64);
  REQUIRE(reference.chunk_sizes == std::vector<int>{1500});
  for (auto [chunk, window] :
       std::vector<std::pair<int, int>>{{1, 1}, {7, 20}, {64, 64}, {1000, 10}, {3, 0}}) {
    INFO("chunk " << chunk << ", window " << window);
    const JoinOutput output = Join(store.get(), world, chunk, window, /*max_next_before_seek=*/0);
    REQUIRE(output.rows == reference.rows);
    REQUIRE(output.sha256 == reference.sha256);
    for (size_t c = 0; c + 1 < output.chunk_sizes.size(); ++c)
      REQUIRE(output.chunk_sizes[c] == chunk);
  }
  // A different world hashes differently.
  std::unique_ptr<kv::Store> other_store = OpenStore();
  REQUIRE(Join(other_store.get(), BuildWorld(other_store.get(), 8), 0, 0).sha256 !=
          reference.sha256);
}

TEST_CASE("Matching on several threads changes neither the rows nor the content hash",
          "[point_in_time_join]") {
  std::unique_ptr<kv::Store> store = OpenStore();
  World world = BuildWorld(store.get(), 11);
  // Windows of 60k events: large enough to be split between threads (16Ki events each at least).
  const std::vector<v1::LabelEventBatch> batches = world.label_batches;
  for (int copy = 0; copy < 40; ++copy) {
    world.label_batches.insert(world.label_batches.end(), batches.begin(), batches.end());
  }
  const JoinOutput reference = Join(store.get(), world, 0, 0, /*max_next_before_seek=*/6, 1);
  REQUIRE(reference.rows.size() == 41 * 1500);
  for (int threads : {2, 3}) {
    INFO(threads << " threads");
    const JoinOutput output = Join(store.get(), world, 0, 0, 6, threads);
    REQUIRE(output.rows == reference.rows);
    REQUIRE(output.sha256 == reference.sha256);
  }
}

TEST_CASE("A join reads the snapshot of its start, whatever is ingested meanwhile",
          "[point_in_time_join]") {
  std::unique_ptr<kv::Store> store = OpenStore();
  const v1::FeatureGroup group = MakeGroup("g", "customer", {{"x", v1::FEATURE_TYPE_INT64}});
  FeatureWriterOptions writer_options;
  writer_options.store = store.get();
  std::unique_ptr<FeatureWriter> writer = *FeatureWriter::Create(writer_options);
  STORAGE_REQUIRE_OK(writer->Write(group, MakeBatch(group, {{"c", 10, {int64_t{1}}}})));

  std::vector<TestValue> values;
  PointInTimeJoinOptions options;
  options.store = store.get();
  options.features = {Ref("g", "x")};
  options.groups = {group};
  options.on_chunk = [&values](v1::TrainingSetRows* chunk) {
    for (int i = 0; i < chunk->label_event_index_size(); ++i) {
      values.push_back(ValueAt(chunk->features(0).values(), i));
    }
    return absl::OkStatus();
  };
  std::unique_ptr<PointInTimeJoin> join = *PointInTimeJoin::Create(options);
  REQUIRE(join->features()[0].schema_version() == 1);
  REQUIRE(join->features()[0].type() == v1::FEATURE_TYPE_INT64);
  STORAGE_REQUIRE_OK(writer->Write(group, MakeBatch(group, {{"c", 20, {int64_t{2}}}})));
  v1::LabelEventBatch events;
  events.add_entity_keys()->add_keys("c");
  events.add_event_time_unix_micros(30);
  STORAGE_REQUIRE_OK(join->Add(events));
  REQUIRE(join->label_type() == v1::FEATURE_TYPE_UNSPECIFIED);
  STORAGE_REQUIRE_OK(join->Finish());
  REQUIRE(values == std::vector<TestValue>{int64_t{1}});
}

TEST_CASE("The join refuses what it cannot answer", "[point_in_time_join]") {
  std::unique_ptr<kv::Store> store = OpenStore();
  const v1::FeatureGroup group = MakeGroup("g", "customer", {{"x", v1::FEATURE_TYPE_INT64}});
  PointInTimeJoinOptions options;
  options.store = store.get();
  options.groups = {group};
  options.on_chunk = [](v1::TrainingSetRows*) { return absl::OkStatus(); };
  STORAGE_REQUIRE_CODE(PointInTimeJoin::Create(options), absl::StatusCode::kInvalidArgument);
  options.features = {Ref("g", "nope")};
  STORAGE_REQUIRE_CODE(PointInTimeJoin::Create(options), absl::StatusCode::kNotFound);
  options.features = {Ref("h", "x")};
  STORAGE_REQUIRE_CODE(PointInTimeJoin::Create(options), absl::StatusCode::kNotFound);
  options.features = {Ref("g", "x")};
  std::unique_ptr<PointInTimeJoin> join = *PointInTimeJoin::Create(options);

  v1::LabelEventBatch wrong_entity;
  v1::EntityKeys* keys = wrong_entity.add_entity_keys();
  keys->set_entity("merchant");
  keys->add_keys("m");
  wrong_entity.add_event_time_unix_micros(1);
  STORAGE_REQUIRE_CODE(join->Add(wrong_entity), absl::StatusCode::kInvalidArgument);

  join = *PointInTimeJoin::Create(options);
  v1::LabelEventBatch events;
  events.add_entity_keys()->add_keys("c");
  events.add_event_time_unix_micros(1);
  events.mutable_labels()->mutable_bool_values()->add_values(true);
  STORAGE_REQUIRE_OK(join->Add(events));
  REQUIRE(join->label_type() == v1::FEATURE_TYPE_BOOL);
  v1::LabelEventBatch other_type = events;
  other_type.mutable_labels()->mutable_int64_values()->add_values(1);
  STORAGE_REQUIRE_CODE(join->Add(other_type), absl::StatusCode::kInvalidArgument);
  STORAGE_REQUIRE_CODE(join->Finish(), absl::StatusCode::kInvalidArgument);  // Failed for good.
}

}  // namespace
}  // namespace fabrique::features
