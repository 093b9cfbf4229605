#ifndef FABRIQUE_LIBS_MONITORING_SPECIAL_FUNCTIONS_H_
#define FABRIQUE_LIBS_MONITORING_SPECIAL_FUNCTIONS_H_

#include <cstdint>

// The distribution functions behind the drift tests' p-values, written to agree with scipy
// (scipy.stats.chi2, norm, kstwo) to about 1e-12, so that a drift verdict here and one computed
// in a notebook on the same data never differ.

namespace fabrique::monitoring {

// Returns Q(a, x) = Γ(a, x) / Γ(a), the regularised upper incomplete gamma function (scipy's
// gammaincc), for a > 0 and x >= 0: a series below x = a + 1, a continued fraction above.
double RegularizedUpperGamma(double a, double x);

// Returns P(X >= statistic) for X chi-square with `degrees_of_freedom` (scipy.stats.chi2.sf).
double ChiSquareSurvival(double statistic, int64_t degrees_of_freedom);

// Returns P(|Z| >= |z|) for Z standard normal: the two-sided p-value of a z statistic.
double NormalTwoSidedPValue(double z);

// Returns P(D_n >= x) for the two-sided one-sample Kolmogorov statistic D_n of n samples
// (scipy.stats.kstwo.sf(x, n)). Follows Simard and L'Ecuyer (2011) as scipy does: Ruben–Gambino
// at the ends, Durbin's matrix (Marsaglia–Tsang–Wang) or Pomeranz's recursion for small n·x²,
// the Smirnov sum for large n·x², and the Pelz–Good series in between for n > 140; each regime
// switches at scipy's cut-offs, so results match scipy's to rounding.
double KolmogorovSurvival(int64_t n, double x);

// Returns P(D+_n >= x) for the one-sided Kolmogorov statistic (scipy.special.smirnov), summed
// exactly (Birnbaum and Tingey, 1951) in logarithms and long double.
double SmirnovSurvival(int64_t n, double x);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_SPECIAL_FUNCTIONS_H_
