#ifndef FABRIQUE_LIBS_FEATURES_AGGREGATION_TILE_PYRAMID_H_
#define FABRIQUE_LIBS_FEATURES_AGGREGATION_TILE_PYRAMID_H_

// TilePyramid: levels of time tiles, so that a window of any length is read as a bounded number
// of tiles. Level 0 tiles last the group's tile length d; each level's tiles are `fanout` times
// longer than the level below, aligned on multiples of their length (tile i of level l covers
// base tiles [i * F^l, (i + 1) * F^l)). Each event adds to one tile per level.
//
// A window of base tiles [first, end) is covered exactly by whole tiles: at each level, the
// tiles left over at both ends that do not fill a tile of the level above, then the rest one
// level up. That is at most 2 (F - 1) tiles per level plus the top level's middle, which the
// level count keeps under F + 1 for the longest window: O(F x levels) reads whatever the length.

#include <cstdint>
#include <vector>

namespace fabrique::features {

// One tile: its level and its index at that level.
struct TileRef {
  int level = 0;
  int64_t index = 0;
  bool operator==(const TileRef& other) const {
    return level == other.level && index == other.index;
  }
};

class TilePyramid {
 public:
  // Tiles at each level are `fanout` times those below. Default 16.
  static constexpr int kDefaultFanout = 16;
  // The most levels a pyramid has: 16^8 base tiles is over 8,000 years of minutes.
  static constexpr int kMaxLevels = 8;

  // A pyramid with enough levels that a window of `max_window_tiles` + 1 base tiles reads at
  // most about `fanout` tiles at its top level. `tile_micros` > 0, `fanout` >= 2.
  static TilePyramid For(int64_t tile_micros, int64_t max_window_tiles,
                         int fanout = kDefaultFanout);

  int levels() const { return levels_; }
  int fanout() const { return fanout_; }
  int64_t tile_micros() const { return tile_micros_; }

  // The base tile holding `time_micros` (floor division: works before 1970 too).
  int64_t BaseIndex(int64_t time_micros) const;
  // The tiles, one per level from level 0, that hold `time_micros`.
  void TilesOf(int64_t time_micros, std::vector<TileRef>* out) const;
  // Appends to `out` whole tiles covering exactly base tiles [first, end), each once.
  void Cover(int64_t first, int64_t end, std::vector<TileRef>* out) const;
  // The tiles of a window of `window_tiles` base tiles as of `as_of_micros`: base tiles
  // [S - k, S] where S = BaseIndex(as_of_micros).
  void WindowTiles(int64_t as_of_micros, int64_t window_tiles, std::vector<TileRef>* out) const;

 private:
  TilePyramid(int64_t tile_micros, int fanout, int levels)
      : tile_micros_(tile_micros), fanout_(fanout), levels_(levels) {}

  int64_t tile_micros_;
  int fanout_;
  int levels_;
};

// floor(a / b) and the matching non-negative remainder, for b > 0.
int64_t FloorDiv(int64_t a, int64_t b);
int64_t FloorMod(int64_t a, int64_t b);

}  // namespace fabrique::features

#endif  // FABRIQUE_LIBS_FEATURES_AGGREGATION_TILE_PYRAMID_H_
