// The tests on raw numeric samples: two-sample Kolmogorov–Smirnov and Wasserstein distance.

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "absl/status/status.h"
#include "libs/monitoring/drift_statistics.h"
#include "libs/monitoring/ks_statistic.h"
#include "libs/monitoring/sorted_finite.h"
#include "libs/monitoring/special_functions.h"

namespace fabrique::monitoring {
namespace {

// scipy's ks_2samp(method='auto') counts lattice paths exactly up to this many values a side.
constexpr int64_t kMaxExactKsSize = 10000;
// From this many values in both windows together, D is computed without sorting them
// (ks_statistic.h); below, sorting is as fast.
constexpr size_t kMinUnsortedKsSize = 1 << 15;

absl::Status CheckNotEmpty(const std::vector<double>& reference,
                           const std::vector<double>& current) {
  if (reference.empty() || current.empty()) {
    return absl::InvalidArgumentError(
        "both the reference and the current window need at least one finite value");
  }
  return absl::OkStatus();
}

// P(D >= h / n) for equal sizes n: Hodges' closed form for the paths that leave the band
// |x - y| < h, summed by inclusion–exclusion over how often they cross.
double ExactPValueEqualSizes(int64_t n, int64_t h) {
  double p = 0.0;
  for (int64_t k = n / h; k >= 0; --k) {
    double path_share = 1.0;
    for (int64_t j = 0; j < h; ++j) {
      path_share =
          static_cast<double>(n - k * h - j) * path_share / static_cast<double>(n + k * h + j + 1);
    }
    p = path_share * (1.0 - p);
  }
  return 2 * p;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// P(D >= d) for sizes n1 != n2, where d·lcm(n1, n2) = h: one minus the probability that a
// uniformly random merge of the two sorted samples keeps |i·n2/g - j·n1/g| < h at every step.
// The probability of each lattice point is carried forward (never a path count), so nothing
// overflows and no binomial coefficient is divided at the end.
double ExactPValueLatticePaths(int64_t n1, int64_t n2, int64_t g, int64_t h) {
  const int64_t n1g = n1 / g, n2g = n2 / g, total = n1 + n2;
  std::vector<double> previous(n2 + 1, 0.0), current(n2 + 1, 0.0);
  int64_t previous_lo = 0, previous_hi = -1, stale_lo = 0, stale_hi = -1;
  for (int64_t i = 0; i <= n1; ++i) {
    const int64_t lo = std::max<int64_t>(FloorDiv(i * n2g - h, n1g) + 1, 0);
    const int64_t hi = std::min<int64_t>(-FloorDiv(-(i * n2g + h), n1g) - 1, n2);
    if (lo > hi) return 1.0;  // every path leaves the band here
    for (int64_t j = stale_lo; j <= stale_hi; ++j) current[j] = 0.0;
    for (int64_t j = lo; j <= hi; ++j) {
      double p = (i == 0 && j == 0) ? 1.0 : 0.0;
      if (i > 0) {
        p += previous[j] * static_cast<double>(n1 - i + 1) / static_cast<double>(total - i + 1 - j);
      }
      if (j > lo) {
        p += current[j - 1] * static_cast<double>(n2 - j + 1) /
             static_cast<double>(total - i - j + 1);
      }
      current[j] = p;
    }
    stale_lo = previous_lo;
    stale_hi = previous_hi;
    previous_lo = lo;
    previous_hi = hi;
    std::swap(previous, current);
  }
  const double inside = (previous_lo <= n2 && n2 <= previous_hi) ? previous[n2] : 0.0;
  return std::clamp(1.0 - inside, 0.0, 1.0);
}

}  // namespace

NumericSample DropMissing(absl::Span<const double> column) {
  NumericSample sample;
  sample.values.reserve(column.size());
  for (double value : column) {
    if (std::isfinite(value)) {
      sample.values.push_back(value);
    } else {
      ++sample.missing;
    }
  }
  return sample;
}

absl::StatusOr<KsResult> Ks2Samp(absl::Span<const double> reference,
                                 absl::Span<const double> current) {
  if (reference.size() + current.size() >= kMinUnsortedKsSize) {
    const UnsortedKs ks = KsStatisticUnsorted(reference, current);
    if (ks.reference_count == 0 || ks.current_count == 0) return CheckNotEmpty({}, {});
    return KsPValue(ks.reference_count, ks.current_count, ks.statistic);
  }
  const std::vector<double> a = SortedFiniteValues(reference), b = SortedFiniteValues(current);
  if (absl::Status status = CheckNotEmpty(a, b); !status.ok()) return status;
  return KsPValue(static_cast<int64_t>(a.size()), static_cast<int64_t>(b.size()),
                  KsStatisticSorted(a, b));
}

absl::StatusOr<KsResult> KsPValue(int64_t n1, int64_t n2, double statistic) {
  if (n1 < 1 || n2 < 1) {
    return absl::InvalidArgumentError("a KS p-value needs at least one value a side");
  }
  KsResult result;
  result.statistic = std::clamp(statistic, 0.0, 1.0);
  result.exact = std::max(n1, n2) <= kMaxExactKsSize;
  if (result.exact) {
    const int64_t g = std::gcd(n1, n2);
    const int64_t lcm = (n1 / g) * n2;
    // np.round rounds half to even, as nearbyint does in the default rounding mode.
    const int64_t h = static_cast<int64_t>(std::nearbyint(result.statistic * lcm));
    result.statistic = static_cast<double>(h) / static_cast<double>(lcm);
    if (h == 0) {
      result.p_value = 1.0;
    } else {
      result.p_value =
          n1 == n2 ? ExactPValueEqualSizes(n1, h) : ExactPValueLatticePaths(n1, n2, g, h);
      result.p_value = std::clamp(result.p_value, 0.0, 1.0);
    }
    return result;
  }
  const double m = static_cast<double>(std::max(n1, n2)), n = static_cast<double>(std::min(n1, n2));
  const int64_t effective_n = static_cast<int64_t>(std::nearbyint(m * n / (m + n)));
  result.p_value = KolmogorovSurvival(effective_n, result.statistic);
  return result;
}

absl::StatusOr<WassersteinResult> Wasserstein(absl::Span<const double> reference,
                                              absl::Span<const double> current) {
  const std::vector<double> u = SortedFiniteValues(reference), v = SortedFiniteValues(current);
  if (absl::Status status = CheckNotEmpty(u, v); !status.ok()) return status;
  std::vector<double> pooled(u.size() + v.size());
  std::merge(u.begin(), u.end(), v.begin(), v.end(), pooled.begin());
  // ∫ |U(x) - V(x)| dx over the steps between consecutive pooled values.
  WassersteinResult result;
  size_t i = 0, j = 0;
  for (size_t k = 0; k + 1 < pooled.size(); ++k) {
    while (i < u.size() && u[i] <= pooled[k]) ++i;
    while (j < v.size() && v[j] <= pooled[k]) ++j;
    const double u_cdf = static_cast<double>(i) / static_cast<double>(u.size());
    const double v_cdf = static_cast<double>(j) / static_cast<double>(v.size());
    result.distance += std::fabs(u_cdf - v_cdf) * (pooled[k + 1] - pooled[k]);
  }
  const double n = static_cast<double>(u.size());
  const double mean = std::accumulate(u.begin(), u.end(), 0.0) / n;
  double squares = 0.0;
  for (double x : u) squares += (x - mean) * (x - mean);
  result.reference_std = std::sqrt(squares / n);
  result.normalised = result.distance / std::max(result.reference_std, 0.001);
  return result;
}

}  // namespace fabrique::monitoring
