#ifndef FABRIQUE_LIBS_FEATURES_AGGREGATION_TILE_STATE_H_
#define FABRIQUE_LIBS_FEATURES_AGGREGATION_TILE_STATE_H_

// TileState: the partial aggregates of one entity over one time tile, one slot per input of the
// group: a source feature (or the rows themselves) under a filter. Every aggregation of the same
// input shares its slot, whatever its function or windows, so COUNT, SUM, MEAN and MAX of one
// feature read and write one state, not four. Tiles are added event by event at ingest and
// merged tile by tile at lookup. A slot holds, in memory, what every function needs:
//
//   count, sum, min, max, mean and M2 (Welford when adding, Chan et al. when merging, so the
//   sample standard deviation stays accurate), and the newest event's time and value (LAST);
//
// and stores only the fields its input's functions read (SlotFields): COUNT, SUM and MEAN of one
// feature store a count and a sum, 17 bytes, where all of them take 65. An empty slot stores its
// fields and a zero count only (9 bytes).
//
// Merge is associative and commutative except for LAST on equal event times: the newest event
// time wins and, on a tie, the state merged in (the later write) wins. Rows repeated within a
// batch reach a tile once (TileUpdates), so ties come from separate batches writing the same
// entity at the same microsecond.
//
// The encoding describes itself (the slot count, then each slot's fields and count before its
// values), so the store's merge operator combines tiles without knowing the catalog. Numbers are
// stored in the machine's byte order, which is little-endian on every platform the store runs
// on.

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

// The fields of a slot beyond its count, as a bit set: what its aggregations' functions read.
enum SlotField : uint8_t {
  kSlotSum = 1,     // SUM, MEAN.
  kSlotMin = 2,     // MIN.
  kSlotMax = 4,     // MAX.
  kSlotSpread = 8,  // STDDEV: mean and M2.
  kSlotLast = 16,   // LAST: the newest event's time and value.
};
constexpr uint8_t kAllSlotFields = 31;
// The fields `function` reads (COUNT: none but the count).
uint8_t SlotFieldsOf(v1::AggregationFunction function);

// The value of `function` over `state`: nullopt when it is missing (empty window; STDDEV under
// two values). COUNT is never missing.
std::optional<double> FinalizeSlot(v1::AggregationFunction function, const SlotState& state);

class TileState {
 public:
  // Bytes of the header (the slot count).
  static constexpr size_t kHeaderBytes = 4;

  TileState() = default;
  // `slots` slots storing every field.
  explicit TileState(int slots) : slots_(slots), fields_(slots, kAllSlotFields) {}
  // One slot per entry of `fields`, storing those fields (SlotField bits).
  explicit TileState(std::vector<uint8_t> fields)
      : slots_(fields.size()), fields_(std::move(fields)) {}

  int slot_count() const { return static_cast<int>(slots_.size()); }
  SlotState& slot(int i) { return slots_[i]; }
  const SlotState& slot(int i) const { return slots_[i]; }
  uint8_t fields(int i) const { return fields_[i]; }

  // Merges `later` slot by slot; a state with more slots grows this one.
  void Merge(const TileState& later);
  // Merges the encoded state `bytes` as Merge(Decode(bytes)) would, without building it.
  // DATA_LOSS (and this state unchanged) when `bytes` is not an encoded TileState.
  absl::Status MergeEncoded(absl::string_view bytes);
  // Empties every slot, keeping the slot count and fields.
  void Reset();

  // Appends the encoding to `out`.
  void AppendTo(std::string* out) const;
  std::string Encode() const;
  // DATA_LOSS when `bytes` is not an encoded TileState.
  static absl::StatusOr<TileState> Decode(absl::string_view bytes);
  // Whether `bytes` is an encoded TileState.
  static bool WellFormed(absl::string_view bytes);
  // The bytes of one encoded slot with `fields` and `count` values.
  static size_t SlotBytes(uint8_t fields, int64_t count);

 private:
  std::vector<SlotState> slots_;
  std::vector<uint8_t> fields_;  // SlotField bits, one entry per slot.
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_AGGREGATION_TILE_STATE_H_
