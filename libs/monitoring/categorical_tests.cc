// The tests on counts per category or bin: PSI, Jensen–Shannon, chi-square and the Z-test.

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "absl/status/status.h"
#include "libs/monitoring/drift_statistics.h"
#include "libs/monitoring/special_functions.h"

namespace fabrique::monitoring {
namespace {

absl::Status CheckCounts(const AlignedCounts& counts) {
  if (counts.reference.size() != counts.current.size() ||
      counts.reference.size() != counts.categories.size()) {
    return absl::InvalidArgumentError("the two windows' counts do not have one entry a category");
  }
  for (size_t i = 0; i < counts.reference.size(); ++i) {
    if (!(counts.reference[i] >= 0) || !(counts.current[i] >= 0)) {
      return absl::InvalidArgumentError("a category count is negative or not a number");
    }
  }
  const double reference_total =
      std::accumulate(counts.reference.begin(), counts.reference.end(), 0.0);
  const double current_total = std::accumulate(counts.current.begin(), counts.current.end(), 0.0);
  if (reference_total <= 0 || current_total <= 0) {
    return absl::InvalidArgumentError(
        "both the reference and the current window need at least one counted value");
  }
  return absl::OkStatus();
}

std::vector<double> Shares(const std::vector<double>& counts) {
  const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
  std::vector<double> shares(counts.size());
  for (size_t i = 0; i < counts.size(); ++i) shares[i] = counts[i] / total;
  return shares;
}

// Evidently's epsilon for an empty category: the smallest non-zero share / 10^6 when that share
// is at most 10^-4, else 10^-4, so the logarithms and ratios stay finite.
std::vector<double> SharesWithoutZeros(const std::vector<double>& counts) {
  std::vector<double> shares = Shares(counts);
  double smallest = 1.0;
  for (double share : shares) {
    if (share > 0) smallest = std::min(smallest, share);
  }
  const double epsilon = smallest <= 1e-4 ? smallest / 1e6 : 1e-4;
  for (double& share : shares) {
    if (share == 0) share = epsilon;
  }
  return shares;
}

// x·ln(x / y) with scipy.special.rel_entr's conventions for zeros.
double RelativeEntropyTerm(double x, double y) {
  if (x == 0 && y >= 0) return 0.0;
  if (x > 0 && y > 0) return x * std::log(x / y);
  return INFINITY;
}

}  // namespace

absl::StatusOr<double> Psi(const AlignedCounts& counts) {
  if (absl::Status status = CheckCounts(counts); !status.ok()) return status;
  const std::vector<double> r = SharesWithoutZeros(counts.reference);
  const std::vector<double> c = SharesWithoutZeros(counts.current);
  double psi = 0.0;
  for (size_t i = 0; i < r.size(); ++i) psi += (r[i] - c[i]) * std::log(r[i] / c[i]);
  return psi;
}

absl::StatusOr<double> JensenShannon(const AlignedCounts& counts, double base) {
  if (absl::Status status = CheckCounts(counts); !status.ok()) return status;
  if (!(base > 1)) return absl::InvalidArgumentError("the logarithm's base must exceed 1");
  const std::vector<double> p = Shares(counts.reference), q = Shares(counts.current);
  double divergence = 0.0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double m = (p[i] + q[i]) / 2.0;
    divergence += RelativeEntropyTerm(p[i], m) + RelativeEntropyTerm(q[i], m);
  }
  divergence /= std::log(base);
  // Rounding can leave a tiny negative sum for identical windows; the distance is then 0.
  return std::sqrt(std::max(divergence / 2.0, 0.0));
}

absl::StatusOr<ChiSquareResult> ChiSquare(const AlignedCounts& counts) {
  if (absl::Status status = CheckCounts(counts); !status.ok()) return status;
  const double current_total = std::accumulate(counts.current.begin(), counts.current.end(), 0.0);
  std::vector<double> shares = SharesWithoutZeros(counts.reference);
  const double share_total = std::accumulate(shares.begin(), shares.end(), 0.0);
  ChiSquareResult result;
  result.degrees_of_freedom = static_cast<int64_t>(counts.categories.size()) - 1;
  for (size_t i = 0; i < shares.size(); ++i) {
    const double expected = shares[i] / share_total * current_total;
    result.expected.push_back(expected);
    result.statistic += (counts.current[i] - expected) * (counts.current[i] - expected) / expected;
  }
  result.p_value = result.degrees_of_freedom > 0
                       ? ChiSquareSurvival(result.statistic, result.degrees_of_freedom)
                       : 1.0;
  return result;
}

absl::StatusOr<ZTestResult> ZTestProportions(const AlignedCounts& counts) {
  if (absl::Status status = CheckCounts(counts); !status.ok()) return status;
  if (counts.categories.size() > 2) {
    return absl::InvalidArgumentError("the Z-test for proportions needs at most two categories");
  }
  ZTestResult result;
  if (counts.categories.size() < 2) return result;  // one category in both windows: no change
  const double n1 = counts.reference[0] + counts.reference[1];
  const double n2 = counts.current[0] + counts.current[1];
  const double p1 = counts.reference[1] / n1, p2 = counts.current[1] / n2;
  const double pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  if (pooled <= 0 || pooled >= 1) return result;  // a category counted in neither window
  result.statistic = (p1 - p2) / std::sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2));
  result.p_value = NormalTwoSidedPValue(result.statistic);
  return result;
}

}  // namespace fabrique::monitoring
