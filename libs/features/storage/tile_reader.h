#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_TILE_READER_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_TILE_READER_H_

// TileReader: the values of an aggregation group's features as of a time, read from its tiles
// only. Each window is covered by whole tiles of the pyramid (TilePyramid::WindowTiles), so a
// lookup reads O(fanout x levels) tiles per entity whatever the window's length; all of a call's
// tiles are fetched with one MultiGet.
//
// Tiles hold whole tiles: the as-of time's own tile counts every event ingested into it, which
// for a lookup at the clock's now is every event up to now (later events in that tile are only
// possible when sources carry future event times).
//
// Thread-safe.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "libs/features/aggregation/aggregation_plan.h"
#include "libs/kv/store.h"

namespace fabrique::features {

struct TileReaderOptions {
  // The store. Not owned; must outlive the reader. Required.
  kv::Store* store = nullptr;
  // Default: "tiles".
  std::string tiles_family = "tiles";
};

class TileReader {
 public:
  using Options = TileReaderOptions;

  // INVALID_ARGUMENT without a store; NOT_FOUND when the family is missing.
  static absl::StatusOr<std::unique_ptr<TileReader>> Create(Options options);

  // The value of each output of `group` (its (aggregation, window) in `plan`) for each entity, as
  // of `as_of_micros`: values[output][entity], nullopt where missing (see FinalizeSlot).
  absl::Status Read(const std::string& group, const AggregationPlan& plan,
                    absl::Span<const std::string> entities, int64_t as_of_micros,
                    absl::Span<const std::pair<int, int>> outputs,
                    std::vector<std::vector<std::optional<double>>>* values) const;

  // Tiles fetched so far: a seam for tests of the pyramid's bound.
  int64_t tiles_read() const { return tiles_read_.load(std::memory_order_relaxed); }

 private:
  TileReader(Options options, kv::ColumnFamily tiles)
      : options_(std::move(options)), tiles_(tiles) {}

  const Options options_;
  const kv::ColumnFamily tiles_;
  mutable std::atomic<int64_t> tiles_read_{0};
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_TILE_READER_H_
