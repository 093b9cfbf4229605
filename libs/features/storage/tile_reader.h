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
// With a TileCache, an entity's tiles are read once and kept in memory (tile_cache.h): a lookup of
// a cached entity reads no tile from the store, with the same values.
//
// Thread-safe.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "libs/features/aggregation/aggregation_plan.h"
#include "libs/features/aggregation/tile_pyramid.h"
#include "libs/features/aggregation/tile_state.h"
#include "libs/features/storage/tile_cache.h"
#include "libs/kv/store.h"

namespace fabrique::features {

struct TileReaderOptions {
  // The store. Not owned; must outlive the reader. Required.
  kv::Store* store = nullptr;
  // Default: "tiles".
  std::string tiles_family = "tiles";
  // The tiles of recent lookups, kept coherent by the writers of the tiles (which must Erase
  // what they write). Not owned; must outlive the reader. Default: null = every lookup reads the
  // store.
  TileCache* cache = nullptr;
  // Called when a lookup has read the tiles its cache lacked, before it caches them: a seam for
  // tests of a write that commits in between. Default: none.
  std::function<void()> before_cache_insert;
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

  // Base tiles past the as-of time whose covers a cache entry also holds: an entry serves
  // lookups for that long with no write, then reloads. Longer reads more runs per miss: with
  // 1 h and 1 d windows of 1-minute tiles, about 7.4 runs where an uncached lookup reads 5.7
  // (16 tiles: 8.8).
  static constexpr int64_t kCacheHorizonTiles = 8;

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

  // The tiles of windows of `lengths` (in base tiles) as of base tile `base`: each distinct tile
  // once, in key order, with the windows whose cover names it (a bit set of `words` words per
  // tile).
  struct CoverTiles {
    int64_t tile_micros = 0;
    int fanout = 0;
    int levels = 0;
    int64_t base = 0;
    std::vector<int64_t> lengths;
    std::vector<TileRef> tiles;
    std::vector<uint64_t> members;
    size_t words = 0;
    bool Names(size_t tile, size_t window) const {
      return (members[tile * words + window / 64] >> (window % 64)) & 1;
    }
  };
  // A lookup's covers: the window of each output (an index into cover->lengths).
  struct Covers {
    std::vector<size_t> window_of;
    std::shared_ptr<const CoverTiles> cover;
  };
  // Every tile a cache entry made at base tile `base` holds (see kCacheHorizonTiles).
  struct CoverUnion {
    std::shared_ptr<const TileCacheShape> shape;
    int64_t base = 0;
    std::vector<TileRef> tiles;
    std::vector<TileRun> runs;
  };

  static Covers CoversOf(const AggregationPlan& plan, int64_t as_of_micros,
                         absl::Span<const std::pair<int, int>> outputs);
  static std::shared_ptr<const CoverTiles> CoverTilesOf(const TilePyramid& pyramid, int64_t base,
                                                        std::vector<int64_t> lengths);
  static std::vector<TileRun> RunsOf(absl::Span<const TileRef> tiles);
  static TileCacheShape ShapeOf(const AggregationPlan& plan);
  // The union for `shape` at `base`, computed once per base tile and shape.
  std::shared_ptr<const CoverUnion> UnionOf(const AggregationPlan& plan, TileCacheShape shape,
                                            int64_t base) const;

  // Merges each entity's tiles into its windows (`windows`: entity-major, one per length) from
  // the cache, loading the entities it lacks.
  absl::Status ReadCached(const std::string& group, const AggregationPlan& plan,
                          absl::Span<const std::string> entities, int64_t as_of_micros,
                          const CoverTiles& cover, bool memory_only,
                          std::vector<TileState>* windows) const;
  // Reads the cache entries of `entities` from the store.
  absl::Status Load(const std::string& group, const AggregationPlan& plan, const CoverUnion& cover,
                    absl::Span<const std::string> entities, bool memory_only,
                    std::vector<std::shared_ptr<TileCacheEntry>>* loaded) const;

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
  mutable absl::Mutex unions_mu_;
  // The latest union of each shape.
  mutable std::vector<std::shared_ptr<const CoverUnion>> unions_ ABSL_GUARDED_BY(unions_mu_);
};

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_STORAGE_TILE_READER_H_
