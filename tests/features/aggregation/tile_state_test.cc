// TileState: merging tiles in any grouping equals computing over all the values directly, and
// the encoding round-trips.

#include "libs/features/aggregation/tile_state.h"

#include <cmath>
#include <random>
#include <vector>

#include "catch2/catch.hpp"

namespace fabrique::features {
namespace {

struct Event {
  int64_t time;
  double value;
};

double DirectStddev(const std::vector<Event>& events) {
  double mean = 0;
  for (const Event& e : events) mean += e.value;
  mean /= events.size();
  double ss = 0;
  for (const Event& e : events) ss += (e.value - mean) * (e.value - mean);
  return std::sqrt(ss / (events.size() - 1));
}

TEST_CASE("Merged tiles equal a direct computation", "[tile_state]") {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 1 + static_cast<int>(rng() % 50);
    std::vector<Event> events;
    for (int i = 0; i < n; ++i) {
      // Distinct times, so LAST has one answer whatever the grouping.
      events.push_back({static_cast<int64_t>(i * 10 + rng() % 5),
                        static_cast<double>(static_cast<int64_t>(rng() % 2001) - 1000)});
    }
    std::shuffle(events.begin(), events.end(), rng);
    // Split into random tiles, add within each, then merge the tiles in random order.
    std::vector<TileState> tiles;
    for (const Event& e : events) {
      if (tiles.empty() || rng() % 4 == 0) tiles.emplace_back(1);
      tiles.back().slot(0).Add(e.time, e.value);
    }
    std::shuffle(tiles.begin(), tiles.end(), rng);
    TileState merged(1);
    for (const TileState& t : tiles) {
      absl::StatusOr<TileState> decoded = TileState::Decode(t.Encode());
      REQUIRE(decoded.ok());
      merged.Merge(*decoded);
    }
    const SlotState& s = merged.slot(0);
    double sum = 0, mn = events[0].value, mx = events[0].value;
    Event last = events[0];
    for (const Event& e : events) {
      sum += e.value;
      mn = std::min(mn, e.value);
      mx = std::max(mx, e.value);
      if (e.time > last.time) last = e;
    }
    REQUIRE(*FinalizeSlot(v1::AGGREGATION_FUNCTION_COUNT, s) == n);
    REQUIRE(*FinalizeSlot(v1::AGGREGATION_FUNCTION_SUM, s) == sum);
    REQUIRE(*FinalizeSlot(v1::AGGREGATION_FUNCTION_MIN, s) == mn);
    REQUIRE(*FinalizeSlot(v1::AGGREGATION_FUNCTION_MAX, s) == mx);
    REQUIRE(*FinalizeSlot(v1::AGGREGATION_FUNCTION_MEAN, s) == Approx(sum / n).epsilon(1e-12));
    REQUIRE(*FinalizeSlot(v1::AGGREGATION_FUNCTION_LAST, s) == last.value);
    if (n >= 2) {
      const double expected = DirectStddev(events);
      REQUIRE(*FinalizeSlot(v1::AGGREGATION_FUNCTION_STDDEV, s) ==
              Approx(expected).epsilon(1e-9).margin(1e-12));
    } else {
      REQUIRE_FALSE(FinalizeSlot(v1::AGGREGATION_FUNCTION_STDDEV, s).has_value());
    }
  }
}

TEST_CASE("An empty slot counts 0 and is missing otherwise", "[tile_state]") {
  SlotState empty;
  REQUIRE(*FinalizeSlot(v1::AGGREGATION_FUNCTION_COUNT, empty) == 0);
  for (auto f : {v1::AGGREGATION_FUNCTION_SUM, v1::AGGREGATION_FUNCTION_MEAN,
                 v1::AGGREGATION_FUNCTION_MIN, v1::AGGREGATION_FUNCTION_MAX,
                 v1::AGGREGATION_FUNCTION_STDDEV, v1::AGGREGATION_FUNCTION_LAST}) {
    REQUIRE_FALSE(FinalizeSlot(f, empty).has_value());
  }
}

TEST_CASE("LAST on equal event times keeps the later write", "[tile_state]") {
  SlotState a, b;
  a.Add(100, 1);
  b.Add(100, 2);
  SlotState ab = a;
  ab.Merge(b);
  REQUIRE(ab.last_value == 2);
  SlotState ba = b;
  ba.Merge(a);
  REQUIRE(ba.last_value == 1);
}

TEST_CASE("Tile encodings state their slot count and reject corruption", "[tile_state]") {
  TileState t(3);
  t.slot(2).Add(5, 7);
  const std::string bytes = t.Encode();
  REQUIRE(bytes.size() == TileState::kHeaderBytes + 3 * TileState::kSlotBytes);
  absl::StatusOr<TileState> back = TileState::Decode(bytes);
  REQUIRE(back.ok());
  REQUIRE(back->slot_count() == 3);
  REQUIRE(back->slot(2).sum == 7);
  REQUIRE(TileState::Decode(bytes.substr(1)).status().code() == absl::StatusCode::kDataLoss);
  REQUIRE(TileState::Decode("").status().code() == absl::StatusCode::kDataLoss);
  // A narrower state merged into a wider one (a store written before slots were added).
  TileState narrow(1);
  narrow.slot(0).Add(1, 1);
  TileState wide = *back;
  wide.Merge(narrow);
  REQUIRE(wide.slot_count() == 3);
  REQUIRE(wide.slot(0).count == 1);
}

}  // namespace
}  // namespace fabrique::features
