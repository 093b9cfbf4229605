// TilePyramid: a window's tiles cover exactly its base tiles, each once, in a bounded number of
// reads whatever the window's length.

#include "libs/features/aggregation/tile_pyramid.h"

#include <map>
#include <random>

#include "catch2/catch.hpp"

namespace fabrique::features {
namespace {

TEST_CASE("Floor division works on both sides of zero", "[pyramid]") {
  REQUIRE(FloorDiv(7, 2) == 3);
  REQUIRE(FloorDiv(-7, 2) == -4);
  REQUIRE(FloorDiv(-8, 2) == -4);
  REQUIRE(FloorMod(-7, 2) == 1);
}

TEST_CASE("Each event adds to one tile per level", "[pyramid]") {
  TilePyramid pyramid = TilePyramid::For(60, 10'000, 16);
  REQUIRE(pyramid.levels() == 4);
  std::vector<TileRef> tiles;
  pyramid.TilesOf(60 * 300 + 5, &tiles);
  REQUIRE(tiles.size() == 4);
  REQUIRE(tiles[0] == TileRef{0, 300});
  REQUIRE(tiles[1] == TileRef{1, 18});
  REQUIRE(tiles[2] == TileRef{2, 1});
  REQUIRE(tiles[3] == TileRef{3, 0});
}

TEST_CASE("Window decomposition matches brute force on random windows", "[pyramid]") {
  std::mt19937_64 rng(11);
  for (int fanout : {2, 4, 16}) {
    for (int64_t longest : {1, 15, 16, 300, 10'080}) {
      TilePyramid pyramid = TilePyramid::For(1, longest, fanout);
      size_t most = 0;
      for (int trial = 0; trial < 300; ++trial) {
        const int64_t k = static_cast<int64_t>(rng() % (longest + 1));
        const int64_t s = static_cast<int64_t>(rng() % 2'000'000) - 1'000'000;
        std::vector<TileRef> cover;
        pyramid.Cover(s - k, s + 1, &cover);
        most = std::max(most, cover.size());
        // Every base tile of [s - k, s] covered exactly once, nothing else.
        std::map<int64_t, int> hits;
        int64_t unit_of_level[TilePyramid::kMaxLevels];
        unit_of_level[0] = 1;
        for (int l = 1; l < pyramid.levels(); ++l) unit_of_level[l] = unit_of_level[l - 1] * fanout;
        for (const TileRef& t : cover) {
          REQUIRE(t.level >= 0);
          REQUIRE(t.level < pyramid.levels());
          const int64_t unit = unit_of_level[t.level];
          for (int64_t b = t.index * unit; b < (t.index + 1) * unit; ++b) ++hits[b];
        }
        REQUIRE(static_cast<int64_t>(hits.size()) == k + 1);
        REQUIRE(hits.begin()->first == s - k);
        REQUIRE(hits.rbegin()->first == s);
        for (const auto& [b, n] : hits) REQUIRE(n == 1);
      }
      // Bounded: two partial runs per level below the top, and the top level's middle (under
      // fanout + 1 tiles unless the level count is capped).
      int64_t top = 1;
      for (int l = 1; l < pyramid.levels(); ++l) top *= fanout;
      const int64_t middle = std::max<int64_t>(fanout, (longest + 1 + top - 1) / top) + 1;
      const size_t bound = static_cast<size_t>(2 * (fanout - 1) * (pyramid.levels() - 1) + middle);
      if (pyramid.levels() < TilePyramid::kMaxLevels) REQUIRE(middle == fanout + 1);
      INFO("fanout " << fanout << " longest " << longest << " most " << most);
      REQUIRE(most <= bound);
    }
  }
}

}  // namespace
}  // namespace fabrique::features
