#include "libs/monitoring/special_functions.h"

#include <cmath>
#include <limits>

namespace fabrique::monitoring {
namespace {

constexpr int kMaxIterations = 100000;
constexpr double kEpsilon = std::numeric_limits<double>::epsilon();

// log(x^a e^-x / Γ(a)), the factor both expansions share.
double LogGammaPrefactor(double a, double x) { return a * std::log(x) - x - std::lgamma(a); }

// P(a, x) by its power series, which converges fast below x = a + 1.
double LowerGammaSeries(double a, double x) {
  double term = 1.0 / a;
  double sum = term;
  for (int n = 1; n < kMaxIterations; ++n) {
    term *= x / (a + n);
    sum += term;
    if (std::fabs(term) < std::fabs(sum) * kEpsilon) break;
  }
  return sum * std::exp(LogGammaPrefactor(a, x));
}

// Q(a, x) by Legendre's continued fraction (modified Lentz), which converges fast above a + 1.
double UpperGammaContinuedFraction(double a, double x) {
  constexpr double kTiny = 1e-300;
  double b = x + 1.0 - a;
  double c = 1.0 / kTiny;
  double d = 1.0 / b;
  double h = d;
  for (int i = 1; i < kMaxIterations; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1.0) < kEpsilon) break;
  }
  return std::exp(LogGammaPrefactor(a, x)) * h;
}

}  // namespace

double RegularizedUpperGamma(double a, double x) {
  if (std::isnan(a) || std::isnan(x) || a <= 0 || x < 0) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (x == 0) return 1.0;
  if (std::isinf(x)) return 0.0;
  if (x < a + 1.0) return 1.0 - LowerGammaSeries(a, x);
  return UpperGammaContinuedFraction(a, x);
}

double ChiSquareSurvival(double statistic, int64_t degrees_of_freedom) {
  return RegularizedUpperGamma(0.5 * static_cast<double>(degrees_of_freedom), 0.5 * statistic);
}

double NormalTwoSidedPValue(double z) { return std::erfc(std::fabs(z) / std::sqrt(2.0)); }

}  // namespace fabrique::monitoring
