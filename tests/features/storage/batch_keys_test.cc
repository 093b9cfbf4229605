// BatchKeys: key order whatever the arrival order (scattered, already sorted, ascending per
// entity), equal (entity, time) keys in input order so the last one is written, and the mask.

#include "libs/features/storage/batch_keys.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "storage_test_util.h"

namespace fabrique::features {
namespace {

using testing::MakeBatch;
using testing::MakeGroup;
using testing::TestRow;

// The batch rows in the order a stable sort of their whole keys gives.
std::vector<int> StableKeyOrder(const v1::RowBatch& rows, const std::vector<uint8_t>& skip) {
  std::vector<std::pair<std::string, int>> keyed;
  for (int r = 0; r < rows.entity_keys_size(); ++r) {
    if (!skip.empty() && skip[r] != 0) continue;
    keyed.emplace_back(HistoryKey("g", rows.entity_keys(r), rows.event_time_unix_micros(r)), r);
  }
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<int> order;
  for (const auto& entry : keyed) order.push_back(entry.second);
  return order;
}

// Builds the keys of every row of `batch` and requires the order of StableKeyOrder, keys and
// rows alike.
BatchKeys RequireStableKeyOrder(const v1::RowBatch& batch) {
  absl::StatusOr<BatchKeys> keys = BatchKeys::Build("g", batch, {});
  STORAGE_REQUIRE_OK(keys);
  const std::vector<int> expected = StableKeyOrder(batch, {});
  REQUIRE(keys->size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("position " << i);
    REQUIRE(keys->row(i) == expected[i]);
    REQUIRE(keys->key(i) == HistoryKey("g", batch.entity_keys(expected[i]),
                                       batch.event_time_unix_micros(expected[i])));
  }
  return *std::move(keys);
}

TEST_CASE("Keys come in key order with equal keys in input order, whatever the arrival",
          "[batch_keys]") {
  const v1::FeatureGroup group = MakeGroup("g", "customer", {{"x", v1::FEATURE_TYPE_INT64}});
  std::mt19937 random(7);
  // Entities sharing long prefixes (cust1, cust10, cust100...), short and empty-tailed ones, and
  // repeated (entity, time) pairs.
  std::vector<TestRow> rows;
  for (int i = 0; i < 3000; ++i) {
    const int entity = static_cast<int>(random() % 400);
    const std::string name = entity % 50 == 0 ? std::to_string(entity % 7)
                                              : "cust" + std::to_string(entity * 1009 % 400);
    rows.push_back({name, static_cast<int64_t>(random() % 20) - 10, {int64_t{i}}});
  }
  std::vector<uint8_t> skip(rows.size(), 0);
  for (size_t i = 0; i < skip.size(); i += 11) skip[i] = 1;
  for (const bool masked : {false, true}) {
    const v1::RowBatch batch = MakeBatch(group, rows);
    const std::vector<uint8_t> mask = masked ? skip : std::vector<uint8_t>();
    absl::StatusOr<BatchKeys> keys = BatchKeys::Build("g", batch, mask);
    STORAGE_REQUIRE_OK(keys);
    const std::vector<int> expected = StableKeyOrder(batch, mask);
    REQUIRE(keys->size() == expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      INFO("position " << i << (masked ? " masked" : ""));
      REQUIRE(keys->row(i) == expected[i]);
      REQUIRE(keys->key(i) == HistoryKey("g", batch.entity_keys(expected[i]),
                                         batch.event_time_unix_micros(expected[i])));
    }
  }
}

TEST_CASE("Long entities, shared prefixes past 16 bytes and zero bytes sort as whole keys",
          "[batch_keys]") {
  const v1::FeatureGroup group = MakeGroup("g", "customer", {{"x", v1::FEATURE_TYPE_INT64}});
  std::mt19937 random(11);
  const std::vector<std::string> stems = {"",
                                          "a",
                                          std::string("a\0", 2),
                                          std::string("a\0b", 3),
                                          "abcdefghijklmn",
                                          "abcdefghijklmno",
                                          "abcdefghijklmnop",
                                          "abcdefghijklmnopq",
                                          std::string("abcdefghijklmn\0", 15),
                                          "abcdefghijklmnopqrstuvwxyz"};
  std::vector<TestRow> rows;
  for (int i = 0; i < 2000; ++i) {
    const std::string& stem = stems[random() % stems.size()];
    std::string name = stem + std::to_string(random() % 3);
    if (random() % 2 == 0) name = stem.empty() ? "z" : stem;
    rows.push_back({name, static_cast<int64_t>(random() % 7) - 3, {int64_t{i}}});
  }
  RequireStableKeyOrder(MakeBatch(group, rows));
}

TEST_CASE("Rows by entity in ascending time come out newest first per entity", "[batch_keys]") {
  const v1::FeatureGroup group = MakeGroup("g", "customer", {{"x", v1::FEATURE_TYPE_INT64}});
  std::vector<TestRow> rows;
  for (int e = 0; e < 30; ++e) {
    for (int t = 0; t < 5; ++t) {
      rows.push_back({"entity-with-a-long-name-" + std::to_string(100 + e), t, {int64_t{t}}});
    }
  }
  const BatchKeys keys = RequireStableKeyOrder(MakeBatch(group, rows));
  for (size_t i = 0; i < keys.size(); ++i) {
    INFO("position " << i);
    REQUIRE(keys.online_candidate(i) == (i % 5 == 0));
  }
}

}  // namespace
}  // namespace fabrique::features
