// The tiles family's settings: its prefix is a tile key's entity part, and one reader call over
// several entities whose keys share leading bytes reads each entity's own tiles, from the hashed
// memtable, from flushed files, and from both at once.

#include "libs/features/storage/tile_family.h"

#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/features/aggregation/aggregation_plan.h"
#include "libs/features/storage/storage_keys.h"
#include "libs/features/storage/tile_keys.h"
#include "libs/features/storage/tile_reader.h"
#include "libs/features/storage/tile_updates.h"
#include "rocksdb/slice_transform.h"
#include "storage_test_util.h"

namespace fabrique::features {
namespace {

constexpr int64_t kMinute = 60'000'000;
constexpr int64_t kNow = 1'700'000'000'000'000 / kMinute * kMinute + 30'000'000;

std::shared_ptr<const AggregationPlan> Plan() {
  v1::FeatureGroup source;
  source.mutable_spec()->set_name("payments");
  v1::FeatureSpec* amount = source.mutable_spec()->add_features();
  amount->set_name("amount");
  amount->set_type(v1::FEATURE_TYPE_DOUBLE);
  v1::AggregationSpec spec;
  spec.set_source_group("payments");
  for (auto function : {v1::AGGREGATION_FUNCTION_COUNT, v1::AGGREGATION_FUNCTION_SUM}) {
    v1::Aggregation* a = spec.add_aggregations();
    a->set_feature("amount");
    a->set_function(function);
    a->add_windows()->set_seconds(3600);
    a->add_windows()->set_seconds(86400);
  }
  absl::StatusOr<std::shared_ptr<const AggregationPlan>> plan =
      AggregationPlan::Create(spec, source);
  STORAGE_REQUIRE_OK(plan);
  return *plan;
}

// Entity e has e + 1 payments of 10 each, `minutes` minutes apart, ending a minute ago.
v1::RowBatch Payments(const std::vector<std::string>& entities, int64_t minutes) {
  v1::RowBatch rows;
  v1::FeatureColumn* amount = rows.add_columns();
  amount->mutable_feature()->set_feature("amount");
  for (size_t e = 0; e < entities.size(); ++e) {
    for (size_t p = 0; p <= e; ++p) {
      rows.add_entity_keys(entities[e]);
      rows.add_event_time_unix_micros(kNow - kMinute * (1 + minutes * p));
      amount->mutable_values()->mutable_double_values()->add_values(10);
    }
  }
  return rows;
}

TEST_CASE("The tiles family's prefix is the tile key's entity part", "[tile_family]") {
  const std::string entity(
      "c\x00"
      "1",
      3);
  const std::string key = TileKey("agg", entity, 2, -5);
  const rocksdb::Slice prefix = NewTileEntityPrefix()->Transform(key);
  REQUIRE(prefix.ToString() == EntityKeyPrefix("agg", entity));
  REQUIRE(NewTileEntityPrefix()->InDomain(key));
  REQUIRE_FALSE(NewTileEntityPrefix()->InDomain("short"));
}

TEST_CASE("One read over entities with shared leading bytes reads each one's tiles",
          "[tile_family]") {
  kv::StoreOptions options;
  options.path = "/in-memory/tile-family";
  options.in_memory = true;
  options.column_families = {"tiles"};
  InstallTileFamily(&options);
  REQUIRE_FALSE(options.concurrent_memtable_writes);
  absl::StatusOr<std::unique_ptr<kv::Store>> store = kv::Store::Open(std::move(options));
  STORAGE_REQUIRE_OK(store);
  kv::ColumnFamily tiles = *(*store)->Family("tiles");
  const std::shared_ptr<const AggregationPlan> plan = Plan();
  const std::vector<std::string> entities = {"c", "c1", std::string("c\x00", 2), "c10", "d"};
  const std::string where = GENERATE("memtable", "flushed", "both");
  INFO(where);
  // Half the payments (10 minutes apart), then the other half (7 minutes apart, other tiles).
  for (int half = 0; half < 2; ++half) {
    TileUpdates updates("agg", *plan);
    STORAGE_REQUIRE_OK(updates.Add(Payments(entities, half == 0 ? 10 : 7)));
    kv::WriteBatch batch;
    updates.AppendTo(tiles, &batch);
    STORAGE_REQUIRE_OK((*store)->Write(batch));
    if (where == "flushed" || (where == "both" && half == 0)) STORAGE_REQUIRE_OK((*store)->Flush());
  }
  absl::StatusOr<std::unique_ptr<TileReader>> reader = TileReader::Create({store->get(), "tiles"});
  STORAGE_REQUIRE_OK(reader);
  // Reversed, and "d" asked for twice: the order of the call, not of the keys.
  std::vector<std::string> asked(entities.rbegin(), entities.rend());
  asked.push_back("d");
  asked.push_back("nobody");
  std::vector<std::vector<std::optional<double>>> values;
  STORAGE_REQUIRE_OK((*reader)->Read("agg", *plan, asked, kNow, {{0, 0}, {0, 1}, {1, 1}}, &values));
  for (size_t i = 0; i < asked.size(); ++i) {
    INFO(i);
    const auto at = std::find(entities.begin(), entities.end(), asked[i]);
    const int64_t n = at == entities.end() ? 0 : (at - entities.begin()) + 1;
    // Within the hour: payments 1, 11, 21, ... (first half) and 1, 8, 15, ... (second) minutes
    // ago; all of them within the day.
    int64_t hour = 0;
    for (int64_t p = 0; p < n; ++p) hour += (1 + 10 * p <= 60) + (1 + 7 * p <= 60);
    REQUIRE(values[0][i] == std::optional<double>(hour));
    REQUIRE(values[1][i] == std::optional<double>(2 * n));
    if (n == 0) {
      REQUIRE_FALSE(values[2][i].has_value());
    } else {
      REQUIRE(values[2][i] == std::optional<double>(20 * n));
    }
  }
}

}  // namespace
}  // namespace fabrique::features
