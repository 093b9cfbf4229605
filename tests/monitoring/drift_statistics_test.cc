// Each statistic on cases small enough to compute by hand, and on the data that breaks naive
// code: empty windows, missing values only, constant columns, categories seen on one side only.

#include "libs/monitoring/drift_statistics.h"

#include <cmath>
#include <vector>

#include "catch2/catch.hpp"

namespace fabrique::monitoring {
namespace {

constexpr double kNaN = NAN;

TEST_CASE("missing values are dropped and counted") {
  const NumericSample sample = DropMissing({1.0, kNaN, 2.0, INFINITY, -INFINITY, 3.0});
  CHECK(sample.values == std::vector<double>{1.0, 2.0, 3.0});
  CHECK(sample.missing == 3);
}

TEST_CASE("KS on hand-computed cases") {
  // Disjoint samples of 3 and 3: D = 1, and 2 of the C(6,3) = 20 orderings are that extreme.
  absl::StatusOr<KsResult> ks = Ks2Samp({1, 2, 3}, {4, 5, 6});
  REQUIRE(ks.ok());
  CHECK(ks->statistic == 1.0);
  CHECK(ks->p_value == Approx(2.0 / 20).epsilon(1e-14));
  CHECK(ks->exact);
  // Unequal sizes take the lattice-path count: 2 of C(6,2) = 15 orderings.
  ks = Ks2Samp({1, 2, 3, 4}, {5, 6});
  REQUIRE(ks.ok());
  CHECK(ks->p_value == Approx(2.0 / 15).epsilon(1e-14));
  // Missing values take no part.
  ks = Ks2Samp({1, kNaN, 2, 3, 4}, {5, INFINITY, 6});
  REQUIRE(ks.ok());
  CHECK(ks->p_value == Approx(2.0 / 15).epsilon(1e-14));
  // Interleaved: F1 - F2 peaks at 1/2 after {1, 2} (scipy: 0.5, 0.771428571428571).
  ks = Ks2Samp({1, 2, 5, 6}, {3, 4, 7, 8});
  REQUIRE(ks.ok());
  CHECK(ks->statistic == 0.5);
  CHECK(ks->p_value == Approx(0.7714285714285715).epsilon(1e-12));
}

TEST_CASE("KS on constant and identical columns, and refusing empty ones") {
  absl::StatusOr<KsResult> ks = Ks2Samp({2, 2, 2}, {2, 2});
  REQUIRE(ks.ok());
  CHECK(ks->statistic == 0.0);
  CHECK(ks->p_value == 1.0);
  ks = Ks2Samp({2, 2, 2}, {3, 3});
  REQUIRE(ks.ok());
  CHECK(ks->statistic == 1.0);
  CHECK(ks->p_value == Approx(2.0 / 10).epsilon(1e-14));
  CHECK(Ks2Samp({}, {1.0}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Ks2Samp({kNaN, kNaN}, {1.0}).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Wasserstein on a shift, a constant reference, and empty windows") {
  absl::StatusOr<WassersteinResult> w = Wasserstein({0, 1, 3}, {5, 6, 8});
  REQUIRE(w.ok());
  CHECK(w->distance == Approx(5.0).epsilon(1e-14));
  CHECK(w->reference_std == Approx(std::sqrt(42.0 / 27.0)).epsilon(1e-14));
  CHECK(w->normalised == Approx(5.0 / std::sqrt(42.0 / 27.0)).epsilon(1e-14));
  // A constant reference has no spread; the 0.001 floor keeps the ratio finite.
  w = Wasserstein({2, 2, 2}, {3, 3, kNaN});
  REQUIRE(w.ok());
  CHECK(w->distance == Approx(1.0).epsilon(1e-14));
  CHECK(w->reference_std == 0.0);
  CHECK(w->normalised == Approx(1000.0).epsilon(1e-12));
  CHECK(Wasserstein({1.0}, {kNaN}).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("categories align over their union, in name order") {
  const AlignedCounts aligned =
      AlignCategories({{"card", 5}, {"cash", 3}, {"gone", 0}}, {{"cash", 1}, {"crypto", 2}});
  CHECK(aligned.categories == std::vector<std::string>{"card", "cash", "crypto"});
  CHECK(aligned.reference == std::vector<double>{5, 3, 0});
  CHECK(aligned.current == std::vector<double>{0, 1, 2});
  const AlignedCounts values = AlignValues({1, -0.0, 0.0, kNaN}, {2, 1});
  CHECK(values.categories == std::vector<std::string>{"0", "1", "2"});
  CHECK(values.reference == std::vector<double>{2, 1, 0});
  CHECK(values.current == std::vector<double>{0, 1, 1});
}

TEST_CASE("numeric columns with more than 20 distinct values are binned with Sturges' rule") {
  std::vector<double> reference, current;
  for (int i = 0; i < 21; ++i) reference.push_back(i);
  for (int i = 0; i < 11; ++i) current.push_back(20);
  // 32 values: ceil(log2(32) + 1) = 6 equal bins over [0, 20], the last one closed.
  const AlignedCounts bins = BinForDistance(reference, current);
  REQUIRE(bins.categories.size() == 6);
  CHECK(bins.reference == std::vector<double>{4, 3, 3, 4, 3, 4});  // as np.histogram
  CHECK(bins.current == std::vector<double>{0, 0, 0, 0, 0, 11});
  // 20 distinct values: each value is its own category.
  reference.pop_back();
  CHECK(BinForDistance(reference, current).categories.size() == 21);
}

TEST_CASE("PSI and Jensen–Shannon on hand-computed shares") {
  const AlignedCounts half_half{{"a", "b"}, {50, 50}, {25, 75}};
  CHECK(*Psi(half_half) == Approx(0.25 * std::log(3.0)).epsilon(1e-14));
  CHECK(*Psi(AlignedCounts{{"a", "b"}, {3, 7}, {30, 70}}) == Approx(0.0).margin(1e-15));
  const AlignedCounts disjoint{{"a", "b"}, {10, 0}, {0, 10}};
  CHECK(*JensenShannon(disjoint) == Approx(std::sqrt(std::log(2.0))).epsilon(1e-14));
  CHECK(*JensenShannon(disjoint, 2.0) == Approx(1.0).epsilon(1e-14));
  CHECK(*JensenShannon(AlignedCounts{{"a", "b"}, {1, 3}, {10, 30}}) == 0.0);
  // Empty bins take Evidently's epsilon, 10^-4: PSI stays finite.
  const double eps = 1e-4;
  CHECK(*Psi(disjoint) == Approx(2 * (1 - eps) * std::log(1 / eps)).epsilon(1e-12));
}

TEST_CASE("PSI and Jensen–Shannon refuse empty windows and bad bases") {
  const AlignedCounts empty_current{{"a"}, {4}, {0}};
  CHECK(Psi(empty_current).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(JensenShannon(empty_current).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(JensenShannon(AlignedCounts{{"a"}, {1}, {1}}, 1.0).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Psi(AlignedCounts{{"a"}, {1, 2}, {1}}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Psi(AlignedCounts{{"a"}, {-1}, {1}}).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("chi-square on hand-computed counts, new categories and a single category") {
  absl::StatusOr<ChiSquareResult> chi = ChiSquare(AlignedCounts{{"a", "b"}, {50, 50}, {30, 70}});
  REQUIRE(chi.ok());
  CHECK(chi->statistic == Approx(16.0).epsilon(1e-14));
  CHECK(chi->degrees_of_freedom == 1);
  CHECK(chi->p_value == Approx(std::erfc(4.0 / std::sqrt(2.0))).epsilon(1e-11));
  // A category the reference never saw expects 10^-4 of the (renormalised) shares.
  chi = ChiSquare(AlignedCounts{{"a", "new"}, {100, 0}, {50, 50}});
  REQUIRE(chi.ok());
  CHECK(chi->expected[0] == Approx(100 / 1.0001).epsilon(1e-14));
  CHECK(chi->expected[1] == Approx(0.01 / 1.0001).epsilon(1e-14));
  CHECK(std::isfinite(chi->statistic));
  CHECK(chi->p_value < 1e-100);
  chi = ChiSquare(AlignedCounts{{"a"}, {10}, {5}});
  REQUIRE(chi.ok());
  CHECK(chi->statistic == 0.0);
  CHECK(chi->p_value == 1.0);
  CHECK(ChiSquare(AlignedCounts{}).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("the Z-test for two proportions") {
  absl::StatusOr<ZTestResult> z =
      ZTestProportions(AlignedCounts{{"no", "yes"}, {60, 40}, {40, 60}});
  REQUIRE(z.ok());
  CHECK(z->statistic == Approx(-0.2 / std::sqrt(0.25 * 0.02)).epsilon(1e-14));
  CHECK(z->p_value == Approx(std::erfc(2.0)).epsilon(1e-12));
  z = ZTestProportions(AlignedCounts{{"yes"}, {10}, {4}});
  REQUIRE(z.ok());
  CHECK(z->statistic == 0.0);
  CHECK(z->p_value == 1.0);
  CHECK(ZTestProportions(AlignedCounts{{"a", "b", "c"}, {1, 1, 1}, {1, 1, 1}}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fabrique::monitoring
