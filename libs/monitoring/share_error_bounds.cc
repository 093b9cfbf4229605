#include "libs/monitoring/share_error_bounds.h"

#include <algorithm>
#include <cmath>

namespace fabrique::monitoring {
namespace {

// Evidently's epsilon for a zero share is at most this (SmallestEpsilon: at least).
constexpr double kLargestEpsilon = 1e-4;

struct Interval {
  double lo;
  double hi;
};

Interval Around(double share, double error) {
  return {std::max(0.0, share - error), std::min(1.0, share + error)};
}

// The smallest epsilon PSI can put in place of a zero share: the smallest non-zero share is at
// least 1 / count, and the epsilon is it / 10^6 or 10^-4.
double SmallestEpsilon(int64_t count) {
  return std::min(kLargestEpsilon, 1e-6 / static_cast<double>(std::max<int64_t>(count, 1)));
}

// The shares PSI can see for a true share in `interval`: a true zero becomes an epsilon, and a
// true non-zero share is at least one value's.
Interval AsPsiSees(Interval interval, int64_t count) {
  if (interval.lo <= 0) {
    return {SmallestEpsilon(count), std::max(interval.hi, kLargestEpsilon)};
  }
  return {std::max(interval.lo, 1.0 / static_cast<double>(std::max<int64_t>(count, 1))),
          interval.hi};
}

double PsiTerm(double r, double c) { return (r - c) * std::log(r / c); }

double RelativeEntropy(double x, double y) { return x > 0 ? x * std::log(x / y) : 0.0; }

double JensenShannonTerm(double p, double q) {
  const double m = (p + q) / 2;
  return m > 0 ? RelativeEntropy(p, m) + RelativeEntropy(q, m) : 0.0;
}

// Adds the bounds of term(r, c) over the box r in `r`, c in `c` (see the header).
template <typename Term>
void AddTermBounds(Term term, Interval r, Interval c, double& lo, double& hi) {
  hi += std::max({term(r.lo, c.lo), term(r.lo, c.hi), term(r.hi, c.lo), term(r.hi, c.hi)});
  if (r.lo > c.hi) {
    lo += term(r.lo, c.hi);
  } else if (c.lo > r.hi) {
    lo += term(r.hi, c.lo);
  }
}

}  // namespace

double PsiErrorBound(const EstimatedShares& reference, const EstimatedShares& current, double psi) {
  double lo = 0, hi = 0;
  for (size_t i = 0; i < reference.shares.size() && i < current.shares.size(); ++i) {
    AddTermBounds(PsiTerm, AsPsiSees(Around(reference.shares[i], reference.error), reference.count),
                  AsPsiSees(Around(current.shares[i], current.error), current.count), lo, hi);
  }
  const double log_ratio =
      -std::log(std::min(SmallestEpsilon(reference.count), SmallestEpsilon(current.count)));
  hi += (reference.unseen + current.unseen) * log_ratio;
  return std::max({hi - psi, psi - lo, 0.0});
}

double JensenShannonErrorBound(const EstimatedShares& reference, const EstimatedShares& current,
                               double distance) {
  double lo = 0, hi = 0;
  for (size_t i = 0; i < reference.shares.size() && i < current.shares.size(); ++i) {
    AddTermBounds(JensenShannonTerm, Around(reference.shares[i], reference.error),
                  Around(current.shares[i], current.error), lo, hi);
  }
  hi += (reference.unseen + current.unseen) * std::log(2.0);
  // scipy's distance is sqrt(divergence / 2), increasing in the divergence.
  const double smallest = std::sqrt(std::max(lo, 0.0) / 2), largest = std::sqrt(hi / 2);
  return std::max({largest - distance, distance - smallest, 0.0});
}

}  // namespace fabrique::monitoring
