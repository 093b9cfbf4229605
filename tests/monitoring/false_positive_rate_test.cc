// No drift is flagged on windows drawn from one distribution, beyond the rate each test's
// threshold states: about 5% for the p-value tests at 0.05, next to none for the distances at
// 0.1 on samples this large. 200 fixed seeds keep the test deterministic and under a second.
//
// Chi-square is Evidently's goodness of fit to the reference's shares, which it takes as exact:
// the reference's own sampling noise inflates the statistic by about 1 + current/reference, so
// its rate is 5% only when the reference is much larger than the window (13% at 500 against
// 200; 7% at 1000 against 100, the case below). The normalised Wasserstein distance passes 0.1
// on about 1.6% of same-distribution pairs of 2000 and 1000 values (scipy, 2000 draws), and on
// far fewer at 5000 and 2000, the case below.

#include <random>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/monitoring/column_drift.h"

namespace fabrique::monitoring {
namespace {

constexpr int kSeeds = 200;

std::vector<double> Normal(std::mt19937_64& engine, int n) {
  std::normal_distribution<double> normal(10.0, 2.0);
  std::vector<double> values(n);
  for (double& value : values) value = normal(engine);
  return values;
}

CategoryCountMap Categories(std::mt19937_64& engine, int n, const std::vector<double>& weights) {
  std::discrete_distribution<int> pick(weights.begin(), weights.end());
  const char* names[] = {"card", "cash", "transfer", "cheque"};
  CategoryCountMap counts;
  for (int i = 0; i < n; ++i) ++counts[names[pick(engine)]];
  return counts;
}

// How many of kSeeds same-distribution window pairs were flagged, and which test ran.
template <typename Draw>
int CountDrifted(Draw draw, DriftTestKind expected_test) {
  int drifted = 0;
  for (int seed = 0; seed < kSeeds; ++seed) {
    std::mt19937_64 engine(seed);
    absl::StatusOr<DriftResult> result = draw(engine);
    REQUIRE(result.ok());
    REQUIRE(result->test == expected_test);
    REQUIRE(result->enough_data);
    drifted += result->drifted ? 1 : 0;
  }
  return drifted;
}

TEST_CASE("p-value tests flag about 5% of same-distribution windows") {
  // Binomial(200, 0.05): mean 10, standard deviation 3.1; the bounds are about 2.5 sd out.
  const int ks = CountDrifted(
      [](std::mt19937_64& e) { return EvaluateColumn(Normal(e, 300), Normal(e, 200)); },
      DriftTestKind::kKs);
  CHECK(ks >= 2);
  CHECK(ks <= 18);
  const std::vector<double> weights = {0.4, 0.3, 0.2, 0.1};
  const int chi = CountDrifted(
      [&](std::mt19937_64& e) {
        return EvaluateColumn(CategoricalColumn{Categories(e, 1000, weights)},
                              CategoricalColumn{Categories(e, 100, weights)});
      },
      DriftTestKind::kChiSquare);
  CHECK(chi >= 4);  // Binomial(200, 0.07): mean 14, standard deviation 3.6
  CHECK(chi <= 24);
  const int z = CountDrifted(
      [](std::mt19937_64& e) {
        return EvaluateColumn(CategoricalColumn{Categories(e, 600, {0.7, 0.3})},
                              CategoricalColumn{Categories(e, 300, {0.7, 0.3})});
      },
      DriftTestKind::kZTest);
  CHECK(z >= 2);
  CHECK(z <= 18);
}

TEST_CASE("distances flag next to no same-distribution window of thousands of values") {
  CHECK(CountDrifted(
            [](std::mt19937_64& e) { return EvaluateColumn(Normal(e, 5000), Normal(e, 2000)); },
            DriftTestKind::kWasserstein) <= 1);
  const std::vector<double> weights = {0.4, 0.3, 0.2, 0.1};
  CHECK(CountDrifted(
            [&](std::mt19937_64& e) {
              return EvaluateColumn(CategoricalColumn{Categories(e, 3000, weights)},
                                    CategoricalColumn{Categories(e, 1000, weights)});
            },
            DriftTestKind::kJensenShannon) == 0);
}

}  // namespace
}  // namespace fabrique::monitoring
