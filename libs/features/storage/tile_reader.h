#ifndef FABRIQUE_LIBS_FEATURES_STORAGE_TILE_READER_H_
#define FABRIQUE_LIBS_FEATURES_STORAGE_TILE_READER_H_

// TileReader: the values of an aggregation group's features as of a time, read from its tiles
// only. Each window is covered by whole tiles of the pyramid (TilePyramid::WindowTiles), so a
// lookup reads O(fanout x levels) tiles per entity whatever the window's length. The tiles a
// cover names lie in a few runs of consecutive keys (at each level, the ends of each window; the
// near end is the same for every window of a call), and most of them are absent: each run is
// read with one Seek and a forward step over its present tiles, all runs of a call with one
// iterator.
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

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "libs/features/aggregation/aggregation_plan.h"
#include "libs/features/aggregation/tile_pyramid.h"
#include "libs/features/aggregation/tile_state.h"
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
  // of `as_of_micros`: values[output][entity], nullopt where missing (see FinalizeSlot). With
  // `memory_only`, a tile that is not in memory fails the read (kv::IsNotInMemory).
  absl::Status Read(const std::string& group, const AggregationPlan& plan,
                    absl::Span<const std::string> entities, int64_t as_of_micros,
                    absl::Span<const std::pair<int, int>> outputs,
                    std::vector<std::vector<std::optional<double>>>* values,
                    bool memory_only = false) const;

  // Keys visited so far (tiles found, plus the key that ends each run's scan): a seam for tests of
  // the pyramid's bound.
  int64_t tiles_read() const { return tiles_read_.load(std::memory_order_relaxed); }

 private:
  // Consecutive tiles of one level, [first, end); the call's tile list holds them from `tile` on.
  struct TileRun {
    int level = 0;
    int64_t first = 0;
    int64_t end = 0;
    size_t tile = 0;
  };

  // Called with (entity, tile, encoded state) for each tile found; its error stops the read.
  using OnTile = absl::FunctionRef<absl::Status(size_t, size_t, absl::string_view)>;

  // Calls `on_tile` for each tile of `runs` found, of each entity.
  absl::Status ReadRuns(const std::string& group, absl::Span<const std::string> entities,
                        absl::Span<const TileRun> runs, bool memory_only,
                        const OnTile& on_tile) const;
  // The same by one point read of each tile of `tiles`.
  absl::Status ReadPoints(const std::string& group, absl::Span<const std::string> entities,
                          absl::Span<const TileRef> tiles, bool memory_only,
                          const OnTile& on_tile) const;

  TileReader(Options options, kv::ColumnFamily tiles)
      : options_(std::move(options)), tiles_(tiles) {}

  const Options options_;
  const kv::ColumnFamily tiles_;
  mutable std::atomic<int64_t> tiles_read_{0};
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_TILE_READER_H_
