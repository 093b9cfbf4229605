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
  REQUIRE(bytes.size() == TileState::kHeaderBytes + 2 * TileState::SlotBytes(kAllSlotFields, 0) +
                              TileState::SlotBytes(kAllSlotFields, 1));
  REQUIRE(TileState::SlotBytes(kAllSlotFields, 1) == 65);
  REQUIRE(TileState::SlotBytes(kAllSlotFields, 0) == 9);
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

TEST_CASE("A slot stores only the fields its functions read", "[tile_state]") {
  REQUIRE(SlotFieldsOf(v1::AGGREGATION_FUNCTION_COUNT) == 0);
  REQUIRE(SlotFieldsOf(v1::AGGREGATION_FUNCTION_SUM) == kSlotSum);
  REQUIRE(SlotFieldsOf(v1::AGGREGATION_FUNCTION_MEAN) == kSlotSum);
  REQUIRE(SlotFieldsOf(v1::AGGREGATION_FUNCTION_MIN) == kSlotMin);
  REQUIRE(SlotFieldsOf(v1::AGGREGATION_FUNCTION_MAX) == kSlotMax);
  REQUIRE(SlotFieldsOf(v1::AGGREGATION_FUNCTION_STDDEV) == kSlotSpread);
  REQUIRE(SlotFieldsOf(v1::AGGREGATION_FUNCTION_LAST) == kSlotLast);
  // COUNT, SUM, MEAN and MAX of one feature (one slot) beside a row count (another).
  TileState t(std::vector<uint8_t>{kSlotSum | kSlotMax, 0});
  for (double v : {4.0, -2.0, 9.0}) {
    t.slot(0).Add(1, v);
    t.slot(1).Add(1, v);
  }
  const std::string bytes = t.Encode();
  // Header, then fields + count + sum + max, then fields + count.
  REQUIRE(bytes.size() == 4 + (1 + 8 + 8 + 8) + (1 + 8));
  absl::StatusOr<TileState> back = TileState::Decode(bytes);
  REQUIRE(back.ok());
  REQUIRE(back->slot_count() == 2);
  REQUIRE(back->fields(0) == (kSlotSum | kSlotMax));
  REQUIRE(*FinalizeSlot(v1::AGGREGATION_FUNCTION_COUNT, back->slot(0)) == 3);
  REQUIRE(*FinalizeSlot(v1::AGGREGATION_FUNCTION_SUM, back->slot(0)) == 11);
  REQUIRE(*FinalizeSlot(v1::AGGREGATION_FUNCTION_MEAN, back->slot(0)) == Approx(11.0 / 3));
  REQUIRE(*FinalizeSlot(v1::AGGREGATION_FUNCTION_MAX, back->slot(0)) == 9);
  REQUIRE(*FinalizeSlot(v1::AGGREGATION_FUNCTION_COUNT, back->slot(1)) == 3);
  // An empty slot stores its fields and count only.
  REQUIRE(TileState(std::vector<uint8_t>{kSlotSum | kSlotMax}).Encode().size() == 4 + 9);
  // Merging encodings adds them up in place.
  TileState sum(std::vector<uint8_t>{kSlotSum | kSlotMax, 0});
  REQUIRE(sum.MergeEncoded(bytes).ok());
  REQUIRE(sum.MergeEncoded(bytes).ok());
  REQUIRE(sum.slot(0).count == 6);
  REQUIRE(sum.slot(0).sum == 22);
  REQUIRE(sum.slot(0).max == 9);
}

TEST_CASE("A malformed tile encoding is refused and changes nothing", "[tile_state]") {
  TileState t(std::vector<uint8_t>{kSlotSum});
  t.slot(0).Add(1, 5);
  const std::string bytes = t.Encode();
  REQUIRE(TileState::WellFormed(bytes));
  std::string unknown_field = bytes;
  unknown_field[4] = static_cast<char>(0x80);
  std::string too_many_slots = bytes;
  too_many_slots[0] = 2;
  for (const std::string& bad : {bytes + "x", bytes.substr(0, bytes.size() - 1), unknown_field,
                                 too_many_slots, std::string("\xff\xff\xff\xff", 4)}) {
    REQUIRE_FALSE(TileState::WellFormed(bad));
    TileState into(std::vector<uint8_t>{kSlotSum});
    into.slot(0).Add(2, 3);
    REQUIRE(into.MergeEncoded(bad).code() == absl::StatusCode::kDataLoss);
    REQUIRE(into.slot_count() == 1);
    REQUIRE(into.slot(0).count == 1);
    REQUIRE(into.slot(0).sum == 3);
  }
}

}  // namespace
}  // namespace fabrique::features
