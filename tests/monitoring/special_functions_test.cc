// The distribution functions against values computed with scipy 1.10 (scipy.stats.kstwo.sf,
// scipy.special.smirnov and gammaincc, scipy.stats.chi2.sf), one per regime of each algorithm.

#include "libs/monitoring/special_functions.h"

#include <cmath>

#include "catch2/catch.hpp"

namespace fabrique::monitoring {
namespace {

TEST_CASE("the chi-square and normal tails match closed forms and scipy") {
  CHECK(ChiSquareSurvival(3.0, 2) == Approx(std::exp(-1.5)).epsilon(1e-13));
  CHECK(RegularizedUpperGamma(1.0, 0.7) == Approx(std::exp(-0.7)).epsilon(1e-13));
  CHECK(RegularizedUpperGamma(2.5, 3.0) == Approx(0.30621891841327875).epsilon(1e-12));
  CHECK(RegularizedUpperGamma(10.0, 2.0) == Approx(0.9999535019249828).epsilon(1e-12));
  CHECK(ChiSquareSurvival(30.0, 4) == Approx(4.894437128029217e-06).epsilon(1e-11));
  CHECK(ChiSquareSurvival(0.0, 3) == 1.0);
  CHECK(ChiSquareSurvival(INFINITY, 3) == 0.0);
  CHECK(std::isnan(RegularizedUpperGamma(-1.0, 1.0)));
  CHECK(NormalTwoSidedPValue(0.0) == 1.0);
  CHECK(NormalTwoSidedPValue(-1.959963984540054) == Approx(0.05).epsilon(1e-12));
}

TEST_CASE("the Kolmogorov distribution matches scipy's kstwo in each regime") {
  struct Case {
    int64_t n;
    double x, sf;
  };
  // n·x² spans Durbin's matrix (small), Pomeranz, the Smirnov sum (large), and for n > 140 the
  // Pelz–Good series and the underflow to zero.
  const Case cases[] = {{30, 0.03, 0.9999999999999984},      {30, 0.1, 0.8960782680050898},
                        {30, 0.3, 0.006852243362913235},     {30, 0.6, 7.392006292214292e-11},
                        {100, 0.05, 0.9532159710635725},     {100, 0.12, 0.10330374901819939},
                        {100, 0.25, 5.408871776434847e-06},  {1000, 0.02, 0.8108971656895577},
                        {1000, 0.06, 0.001428597887952891},  {5000, 0.005, 0.9995858441477996},
                        {5000, 0.004, 0.9999977369528622},   {5000, 0.01, 0.6954557253913853},
                        {5000, 0.03, 0.00024159234422666817}};
  for (const Case& c : cases) {
    INFO("n=" << c.n << " x=" << c.x);
    CHECK(KolmogorovSurvival(c.n, c.x) == Approx(c.sf).margin(1e-12).epsilon(1e-9));
  }
  CHECK(KolmogorovSurvival(5000, 0.2) == Approx(9.004289573855005e-176).epsilon(1e-9));
  CHECK(KolmogorovSurvival(5000, 0.3) == 0.0);  // n·x² >= 370: below every double
  CHECK(KolmogorovSurvival(10, 0.0) == 1.0);
  CHECK(KolmogorovSurvival(10, 1.0) == 0.0);
  CHECK(KolmogorovSurvival(10, 0.04) == 1.0);  // below 1/(2n): D_n cannot be that small
  CHECK(SmirnovSurvival(50, 0.1) == Approx(0.34490701996888).epsilon(1e-12));
  CHECK(SmirnovSurvival(1, 0.25) == Approx(0.75).epsilon(1e-15));
}

}  // namespace
}  // namespace fabrique::monitoring
