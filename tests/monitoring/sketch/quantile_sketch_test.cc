// The quantile sketch keeps its stated rank error (measured on 1M-value draws over seeds and
// distributions, alone and merged from many), is exact while small, reproducible from its seed,
// bounded in memory, and refuses corrupt bytes.

#include "libs/monitoring/sketch/quantile_sketch.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "catch2/catch.hpp"

namespace fabrique::monitoring {
namespace {

constexpr int kRows = 1000000;
constexpr double kStatedBound = 0.01;

QuantileSketch::Options Options(uint64_t seed, int k = QuantileSketch::Options{}.k,
                                int64_t exact_limit = QuantileSketch::Options{}.exact_limit) {
  QuantileSketch::Options options;
  options.seed = seed;
  options.k = k;
  options.exact_limit = exact_limit;
  return options;
}

// Largest |sketch rank - exact rank| over every retained value and 1,000 quantiles of the data;
// the largest miss of Quantile(q) for q on a grid (q must lie within the error of the exact
// rank interval of the value returned); and the largest error of the share between two of 100
// quantiles of the data (bins of every width).
struct Errors {
  double rank = 0;
  double quantile = 0;
  double share = 0;
};

Errors MeasureErrors(const QuantileSketch& sketch, std::vector<double> data) {
  std::sort(data.begin(), data.end());
  const double n = static_cast<double>(data.size());
  const auto exact_rank = [&](double x) {
    return static_cast<double>(std::upper_bound(data.begin(), data.end(), x) - data.begin()) / n;
  };
  Errors errors;
  std::vector<double> points;
  for (const auto& item : sketch.SortedView()) points.push_back(item.value);
  for (int i = 0; i < 1000; ++i) points.push_back(data[static_cast<size_t>(i * n / 1000)]);
  for (const double x : points) {
    errors.rank = std::max(errors.rank, std::abs(sketch.Rank(x) - exact_rank(x)));
  }
  std::vector<double> grid;
  for (int i = 0; i < 100; ++i) grid.push_back(data[static_cast<size_t>(i * n / 100)]);
  for (size_t i = 0; i < grid.size(); ++i) {
    for (size_t j = i + 1; j < grid.size(); ++j) {
      const double estimated = sketch.Rank(grid[j]) - sketch.Rank(grid[i]);
      const double exact = exact_rank(grid[j]) - exact_rank(grid[i]);
      errors.share = std::max(errors.share, std::abs(estimated - exact));
    }
  }
  for (int i = 1; i < 1000; ++i) {
    const double q = i / 1000.0;
    const double v = sketch.Quantile(q);
    const double low =
        static_cast<double>(std::lower_bound(data.begin(), data.end(), v) - data.begin()) / n;
    const double high = exact_rank(v);
    errors.quantile = std::max({errors.quantile, low - q, q - high});
  }
  return errors;
}

using Draw = std::function<double(std::mt19937_64&)>;

struct Distribution {
  const char* name;
  Draw draw;
};

std::vector<Distribution> Distributions() {
  return {
      {"uniform", [](std::mt19937_64& g) { return std::uniform_real_distribution<>(0, 1)(g); }},
      {"normal", [](std::mt19937_64& g) { return std::normal_distribution<>(50, 10)(g); }},
      {"lognormal (heavy tail)",
       [](std::mt19937_64& g) { return std::lognormal_distribution<>(0, 2)(g); }},
      {"few values (ties)",
       [](std::mt19937_64& g) { return static_cast<double>(std::poisson_distribution<>(3)(g)); }},
      {"sorted ramp", nullptr},  // Adversarial order: increasing values.
  };
}

std::vector<double> DrawValues(const Distribution& d, uint64_t seed, int rows) {
  std::vector<double> values(static_cast<size_t>(rows));
  std::mt19937_64 g(seed);
  for (int i = 0; i < rows; ++i) values[i] = d.draw ? d.draw(g) : static_cast<double>(i);
  return values;
}

TEST_CASE("The stated error is under 1% and holds on 1M values over seeds and distributions",
          "[sketch]") {
  CHECK(QuantileSketch::NormalizedRankError(QuantileSketch::Options{}.k) <= kStatedBound);
  CHECK(QuantileSketch::NormalizedRankError(400) == Approx(0.0086).margin(0.0001));
  // k = 200 would not meet it.
  CHECK(QuantileSketch::NormalizedRankError(200) > kStatedBound);
  for (const Distribution& d : Distributions()) {
    for (uint64_t seed = 1; seed <= 4; ++seed) {
      const std::vector<double> values = DrawValues(d, seed, kRows);
      QuantileSketch sketch(Options(seed));
      for (const double v : values) sketch.Update(v);
      INFO(d.name << ", seed " << seed);
      REQUIRE(sketch.count() == kRows);
      CHECK_FALSE(sketch.exact());
      CHECK(sketch.rank_error() <= kStatedBound);
      CHECK(sketch.min() == *std::min_element(values.begin(), values.end()));
      CHECK(sketch.max() == *std::max_element(values.begin(), values.end()));
      const Errors errors = MeasureErrors(sketch, values);
      CHECK(errors.rank <= sketch.rank_error());
      CHECK(errors.quantile <= sketch.rank_error());
      CHECK(errors.share <= sketch.rank_error());
    }
  }
}

TEST_CASE("A merge of 100 sketches keeps the bound", "[sketch]") {
  for (const Distribution& d : Distributions()) {
    for (uint64_t seed = 1; seed <= 2; ++seed) {
      const std::vector<double> values = DrawValues(d, seed, kRows);
      // Windows of 10,000 values, each its own sketch, merged in one pass and as a tree.
      std::vector<QuantileSketch> windows;
      for (int w = 0; w < 100; ++w) {
        QuantileSketch window(Options(seed * 1000 + w));
        for (int i = w * 10000; i < (w + 1) * 10000; ++i) window.Update(values[i]);
        windows.push_back(window);
      }
      QuantileSketch linear(Options(seed));
      for (const QuantileSketch& window : windows) linear.Merge(window);
      std::vector<QuantileSketch> level = windows;
      while (level.size() > 1) {
        std::vector<QuantileSketch> next;
        for (size_t i = 0; i + 1 < level.size(); i += 2) {
          next.push_back(level[i]);
          next.back().Merge(level[i + 1]);
        }
        if (level.size() % 2 == 1) next.push_back(level.back());
        level = std::move(next);
      }
      INFO(d.name << ", seed " << seed);
      for (const QuantileSketch* merged : {&linear, &level[0]}) {
        REQUIRE(merged->count() == kRows);
        const Errors errors = MeasureErrors(*merged, values);
        CHECK(errors.rank <= merged->rank_error());
        CHECK(errors.quantile <= merged->rank_error());
        CHECK(errors.share <= merged->rank_error());
        CHECK(merged->retained() <= 3 * merged->k() + 8 * merged->num_levels());
      }
    }
  }
}

TEST_CASE("Sketches of different k merge into the coarser one's error", "[sketch]") {
  const std::vector<double> values = DrawValues(Distributions()[1], 5, 200000);
  QuantileSketch fine(Options(1));
  QuantileSketch coarse(Options(2, 64));
  for (size_t i = 0; i < values.size(); ++i) (i % 2 ? fine : coarse).Update(values[i]);
  fine.Merge(coarse);
  CHECK(fine.k() == 64);
  CHECK(fine.rank_error() == QuantileSketch::NormalizedRankError(64));
  CHECK(fine.count() == 200000);
  const Errors errors = MeasureErrors(fine, values);
  CHECK(errors.rank <= fine.rank_error());
  CHECK(errors.share <= fine.rank_error());
  // k is kept within [8, 65535].
  CHECK(QuantileSketch(Options(0, 1)).k() == 8);
  CHECK(QuantileSketch(Options(0, 1 << 20)).k() == 65535);
}

TEST_CASE("Exact mode: every value kept while the count is small", "[sketch]") {
  std::mt19937_64 g(7);
  std::vector<double> values;
  QuantileSketch sketch(Options(1, 100, 3000));
  for (int i = 0; i < 3000; ++i) {
    values.push_back(std::normal_distribution<>(0, 1)(g));
    sketch.Update(values.back());
  }
  sketch.Update(NAN);  // Not counted: missing values are the caller's.
  REQUIRE(sketch.count() == 3000);
  CHECK(sketch.exact());
  CHECK(sketch.rank_error() == 0);
  CHECK(sketch.retained() == 3000);
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 1; i <= 3000; ++i) {
    // The i-th smallest is the quantile at i/n, and its rank is exactly i/n.
    const double q = i / 3000.0;
    CHECK(sketch.Quantile(q) == sorted[i - 1]);
    CHECK(sketch.Rank(sorted[i - 1]) == Approx(q).epsilon(1e-12));
  }
  CHECK(sketch.Quantile(0) == sorted.front());
  CHECK(sketch.Rank(sorted.front() - 1) == 0);

  // Two exact halves merge into an exact whole; one value more leaves exact mode.
  QuantileSketch a(Options(0, 100, 3000));
  QuantileSketch b(Options(0, 100, 3000));
  for (int i = 0; i < 1500; ++i) a.Update(values[i]);
  for (int i = 1500; i < 3000; ++i) b.Update(values[i]);
  a.Merge(b);
  CHECK(a.exact());
  CHECK(a.Quantile(0.5) == sorted[1499]);
  QuantileSketch twice = a;
  twice.Merge(twice);  // Itself: every value twice.
  CHECK(twice.count() == 6000);
  CHECK(twice.Rank(sorted[1499]) == Approx(0.5).margin(twice.rank_error()));
  a.Update(0.5);
  CHECK_FALSE(a.exact());
  CHECK(a.retained() < 3000);

  // Empty: no quantiles, rank 0.
  QuantileSketch empty;
  CHECK(std::isnan(empty.Quantile(0.5)));
  CHECK(empty.Rank(1) == 0);
  CHECK(std::isnan(empty.min()));
}

TEST_CASE("Memory is O(k log n), whatever the count", "[sketch]") {
  QuantileSketch sketch(Options(3));
  std::mt19937_64 g(3);
  std::uniform_real_distribution<> uniform(0, 1);
  int64_t checked = 10000;
  int last_levels = 0;
  for (int64_t i = 1; i <= 8000000; ++i) {
    sketch.Update(uniform(g));
    if (i == checked) {
      INFO(i << " values");
      // About 3k values plus at least 8 per level; levels grow with log2(n / k).
      CHECK(sketch.retained() <= 3 * sketch.k() + 8 * sketch.num_levels());
      CHECK(sketch.num_levels() <= 2 + std::ceil(std::log2(static_cast<double>(i) / sketch.k())));
      CHECK(sketch.num_levels() >= last_levels);
      last_levels = sketch.num_levels();
      checked *= 4;
    }
  }
  CHECK(sketch.Serialize().size() < 16 * 1024);
}

TEST_CASE("Same seed and values: same bytes; bytes round-trip", "[sketch]") {
  const auto build = [](uint64_t seed) {
    QuantileSketch sketch(Options(seed));
    std::mt19937_64 g(11);
    for (int i = 0; i < 100000; ++i) sketch.Update(std::exponential_distribution<>(1)(g));
    return sketch;
  };
  const QuantileSketch a = build(5);
  CHECK(a.Serialize() == build(5).Serialize());
  CHECK(a.Serialize() != build(6).Serialize());

  absl::StatusOr<QuantileSketch> parsed = QuantileSketch::Parse(a.Serialize());
  REQUIRE(parsed.ok());
  CHECK(parsed->count() == a.count());
  CHECK(parsed->min() == a.min());
  CHECK(parsed->max() == a.max());
  CHECK(parsed->k() == a.k());
  for (double q = 0; q <= 1; q += 0.01) CHECK(parsed->Quantile(q) == a.Quantile(q));
  CHECK(parsed->Serialize() == a.Serialize());
  // A parsed sketch goes on as the original would (its random state travels).
  QuantileSketch original = a;
  for (int i = 0; i < 5000; ++i) {
    original.Update(i * 0.001);
    parsed->Update(i * 0.001);
  }
  CHECK(parsed->Serialize() == original.Serialize());

  absl::StatusOr<QuantileSketch> empty = QuantileSketch::Parse(QuantileSketch().Serialize());
  REQUIRE(empty.ok());
  CHECK(empty->empty());
}

TEST_CASE("Corrupt bytes are refused with INVALID_ARGUMENT", "[sketch]") {
  QuantileSketch sketch;
  for (int i = 0; i < 20000; ++i) sketch.Update(i);
  const std::string good = sketch.Serialize();
  const auto refused = [](const std::string& bytes) {
    return QuantileSketch::Parse(bytes).status().code() == absl::StatusCode::kInvalidArgument;
  };
  CHECK(refused(""));
  CHECK(refused("FQKS"));
  CHECK(refused("not a sketch at all"));
  CHECK(refused(good.substr(0, good.size() - 1)));  // Truncated.
  CHECK(refused(good + "x"));                       // Trailing bytes.
  std::string version = good;
  version[4] = 9;  // A format this build does not know.
  CHECK(refused(version));
  std::string count = good;
  count[4 + 1 + 4 + 8 + 8] ^= 1;  // The count no longer matches the weights.
  CHECK(refused(count));
  std::string low = good;
  low[4 + 1 + 4 + 8 + 8 + 8 + 7] = 0x7f;  // The minimum becomes huge: values fall outside.
  CHECK(refused(low));
  // Flipping any byte never crashes; in the magic, version, count or number of levels
  // it is always refused (k, the random state, the exact limit, a smaller minimum or a larger
  // maximum can be consistent with the values).
  for (size_t i = 0; i < good.size(); ++i) {
    std::string flipped = good;
    flipped[i] ^= 0x40;
    const absl::StatusOr<QuantileSketch> parsed = QuantileSketch::Parse(flipped);
    const bool checked = i < 5 || (i >= 25 && i < 33) || (i >= 49 && i < 53);
    INFO("byte " << i);
    if (checked) CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
  }
  // Random damage: refused, or a sketch whose answers stay within its bounds.
  std::mt19937_64 g(9);
  for (int trial = 0; trial < 3000; ++trial) {
    std::string damaged = good;
    const int flips = 1 + static_cast<int>(g() % 4);
    for (int f = 0; f < flips; ++f) damaged[g() % damaged.size()] = static_cast<char>(g());
    if (trial % 3 == 0) damaged.resize(g() % damaged.size());
    const absl::StatusOr<QuantileSketch> parsed = QuantileSketch::Parse(damaged);
    if (!parsed.ok()) {
      CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
      continue;
    }
    const double median = parsed->Quantile(0.5);
    CHECK((parsed->empty() || (median >= parsed->min() && median <= parsed->max())));
    CHECK(parsed->Rank(median) >= 0);
    CHECK(parsed->Rank(median) <= 1);
  }
}

}  // namespace
}  // namespace fabrique::monitoring
