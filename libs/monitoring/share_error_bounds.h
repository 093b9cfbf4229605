#ifndef FABRIQUE_LIBS_MONITORING_SHARE_ERROR_BOUNDS_H_
#define FABRIQUE_LIBS_MONITORING_SHARE_ERROR_BOUNDS_H_

// How far PSI and the Jensen–Shannon distance computed from estimated shares (read from
// sketches) can be from the same statistic on the exact shares, given a bound on each share's
// error.
//
// Both statistics are sums over categories (or bins) of a term f(r, c) of the two windows'
// shares that is jointly convex, zero where r = c, increasing in r and decreasing in c where
// r > c (and the reverse where r < c): r·ln(r/c) + c·ln(c/r) for PSI, and rel_entr(r, m) +
// rel_entr(c, m) with m = (r + c)/2 for Jensen–Shannon. Relaxing the shares to independent
// intervals [estimate ± error] (the true shares lie in them, and also sum to 1, which the
// relaxation drops) bounds each term: its largest value is at a corner of the box (convexity),
// its smallest is 0 when the intervals overlap, else at the corner nearest the diagonal
// (monotonicity). The sum of the terms' bounds bounds the statistic.
//
// PSI replaces a zero share with Evidently's epsilon (the smallest non-zero share / 10^6 when
// that share is at most 10^-4, else 10^-4), which depends on the other shares: an interval
// reaching 0 is widened to every epsilon possible for the window's size, [10^-6 / n, 10^-4].
//
// Categories a sketch may have dropped (values it did not retain) add their mass `unseen`: a
// category of shares r, c adds at most (r + c)·ln 2 to the Jensen–Shannon divergence, and at
// most (r + c)·ln(1 / smallest epsilon) to PSI.

#include <cstdint>
#include <vector>

namespace fabrique::monitoring {

// One window's estimated shares, the bound on each one's error, and its size.
struct EstimatedShares {
  std::vector<double> shares;
  double error = 0;   // |estimate - exact| <= error, for every share
  double unseen = 0;  // total share of categories missing from `shares`
  int64_t count = 0;  // values counted (PSI's smallest possible epsilon)
};

// Bound on |PSI(estimated) - PSI(exact)|; `psi` is the PSI of the estimates.
double PsiErrorBound(const EstimatedShares& reference, const EstimatedShares& current, double psi);

// Bound on |JS(estimated) - JS(exact)| for scipy's Jensen–Shannon distance (natural logarithm);
// `distance` is the distance of the estimates.
double JensenShannonErrorBound(const EstimatedShares& reference, const EstimatedShares& current,
                               double distance);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_SHARE_ERROR_BOUNDS_H_
