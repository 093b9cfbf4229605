#ifndef FABRIQUE_LIBS_FEATURES_AGGREGATION_TILE_STATE_H_
#define FABRIQUE_LIBS_FEATURES_AGGREGATION_TILE_STATE_H_

// TileState: the partial aggregates of one entity over one time tile, one slot per aggregation
// of the group (windows of one aggregation share its slot). Tiles are added event by event at
// ingest and merged tile by tile at lookup, so every slot keeps what all the functions need:
//
//   count, sum, min, max, mean and M2 (Welford when adding, Chan et al. when merging, so the
//   sample standard deviation stays accurate), and the newest event's time and value (LAST).
//
// Merge is associative and commutative except for LAST on equal event times: the newest event
// time wins and, on a tie, the state merged in (the later write) wins. Re-sent rows are
// deduplicated before they reach a tile (see BatchKeys), so ties only come from distinct writes
// at the same microsecond.
//
// The encoding has a fixed size for a given slot count and starts with that count, so the
// store's merge operator combines tiles without knowing the catalog. Numbers are stored in the
// machine's byte order, which is little-endian on every platform the store runs on.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/features.pb.h"

namespace fabrique::features {

// The partial aggregate of one aggregation in one tile.
struct SlotState {
  int64_t count = 0;
  double sum = 0;
  double min = 0;  // Meaningful when count > 0.
  double max = 0;
  double mean = 0;
  double m2 = 0;          // Sum of squared deviations from the mean.
  int64_t last_time = 0;  // Event time (microseconds) of `last_value`; meaningful when count > 0.
  double last_value = 0;

  // Adds one value observed at `time_micros`.
  void Add(int64_t time_micros, double value);
  // Adds `later` (see TileState for the LAST tie rule).
  void Merge(const SlotState& later);
};

// The value of `function` over `state`: nullopt when it is missing (empty window; STDDEV under
// two values). COUNT is never missing.
std::optional<double> FinalizeSlot(v1::AggregationFunction function, const SlotState& state);

class TileState {
 public:
  // Bytes of one encoded slot.
  static constexpr size_t kSlotBytes = 64;
  // Bytes of the header (the slot count).
  static constexpr size_t kHeaderBytes = 4;

  TileState() = default;
  explicit TileState(int slots) : slots_(slots) {}

  int slot_count() const { return static_cast<int>(slots_.size()); }
  SlotState& slot(int i) { return slots_[i]; }
  const SlotState& slot(int i) const { return slots_[i]; }

  // Merges `later` slot by slot; a state with more slots grows this one.
  void Merge(const TileState& later);

  // Appends the encoding to `out`.
  void AppendTo(std::string* out) const;
  std::string Encode() const;
  // DATA_LOSS when `bytes` is not an encoded TileState.
  static absl::StatusOr<TileState> Decode(absl::string_view bytes);

 private:
  std::vector<SlotState> slots_;
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_AGGREGATION_TILE_STATE_H_
