#include "libs/features/aggregation/tile_pyramid.h"

namespace fabrique::features {

int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

TilePyramid TilePyramid::For(int64_t tile_micros, int64_t max_window_tiles, int fanout) {
  int levels = 1;
  int64_t top = 1;  // Base tiles per tile of the top level.
  while (levels < kMaxLevels && top * fanout < max_window_tiles + 1) {
    top *= fanout;
    ++levels;
  }
  return TilePyramid(tile_micros, fanout, levels);
}

int64_t TilePyramid::BaseIndex(int64_t time_micros) const {
  return FloorDiv(time_micros, tile_micros_);
}

void TilePyramid::TilesOf(int64_t time_micros, std::vector<TileRef>* out) const {
  int64_t index = BaseIndex(time_micros);
  for (int level = 0; level < levels_; ++level) {
    out->push_back({level, index});
    index = FloorDiv(index, fanout_);
  }
}

void TilePyramid::Cover(int64_t first, int64_t end, std::vector<TileRef>* out) const {
  // [lo, hi) in base tiles; at level l both stay multiples of unit = F^l.
  int64_t lo = first;
  int64_t hi = end;
  int64_t unit = 1;
  for (int level = 0; lo < hi; ++level) {
    if (level == levels_ - 1) {
      for (int64_t t = lo; t < hi; t += unit) out->push_back({level, t / unit});
      break;
    }
    const int64_t next = unit * fanout_;
    while (lo < hi && FloorMod(lo, next) != 0) {
      out->push_back({level, FloorDiv(lo, unit)});
      lo += unit;
    }
    while (hi > lo && FloorMod(hi, next) != 0) {
      hi -= unit;
      out->push_back({level, FloorDiv(hi, unit)});
    }
    unit = next;
  }
}

void TilePyramid::WindowTiles(int64_t as_of_micros, int64_t window_tiles,
                              std::vector<TileRef>* out) const {
  const int64_t s = BaseIndex(as_of_micros);
  Cover(s - window_tiles, s + 1, out);
}

}  // namespace fabrique::features
