#ifndef FABRIQUE_LIBS_MONITORING_DRIFT_STATISTICS_H_
#define FABRIQUE_LIBS_MONITORING_DRIFT_STATISTICS_H_

// The statistics that compare a column of live data (current) with the same column of a model's
// training data (reference). Each is computed on exact data and equals scipy's computation
// (scipy.stats.ks_2samp, wasserstein_distance, chisquare; scipy.spatial.distance.jensenshannon)
// to 1e-9, so a verdict here can be reproduced in a notebook. Missing values (NaN and ±inf, as
// Evidently treats them) never enter a statistic; callers count them with DropMissing.

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace fabrique::monitoring {

// The finite values of a numeric column, and how many of its values were missing.
struct NumericSample {
  std::vector<double> values;
  int64_t missing = 0;
};
NumericSample DropMissing(absl::Span<const double> column);

// Two-sample Kolmogorov–Smirnov test, as scipy.stats.ks_2samp(method='auto'): the p-value is
// exact (the Hodges lattice-path count) when both samples have at most 10,000 values, else from
// the Kolmogorov distribution of D_n with n = round(n1·n2 / (n1 + n2)). In the exact regime the
// statistic is rounded to the lattice of the path count (h / lcm(n1, n2)), as scipy returns it.
struct KsResult {
  double statistic = 0;  // sup |F_reference - F_current|
  double p_value = 1;
  bool exact = true;  // whether the p-value came from the exact path count
};
// Returns INVALID_ARGUMENT when either sample has no finite value.
absl::StatusOr<KsResult> Ks2Samp(absl::Span<const double> reference,
                                 absl::Span<const double> current);

// One column's two windows, for KS tests of many columns at once.
struct ColumnPair {
  absl::Span<const double> reference;
  absl::Span<const double> current;
};
// Ks2Samp of every pair (the same results), the pairs shared among `threads` threads (<= 0: one
// per hardware thread); the result of columns[i] at index i.
std::vector<absl::StatusOr<KsResult>> Ks2SampColumns(absl::Span<const ColumnPair> columns,
                                                     int threads = 0);

// The p-value of a two-sample KS statistic `statistic` on samples of n1 and n2 values, as
// Ks2Samp computes it (exact path count with the statistic rounded to its lattice when both
// sizes are at most 10,000, else the Kolmogorov distribution), for statistics computed
// elsewhere (from sketches). `statistic` is clamped to [0, 1]. Returns INVALID_ARGUMENT when
// n1 or n2 is below 1.
absl::StatusOr<KsResult> KsPValue(int64_t n1, int64_t n2, double statistic);

// First Wasserstein (earth mover's) distance between the two empirical distributions, as
// scipy.stats.wasserstein_distance, and that distance divided by the reference's population
// standard deviation (floored at 0.001, as Evidently does, so a constant reference still gives
// a finite, comparable number).
struct WassersteinResult {
  double distance = 0;
  double normalised = 0;
  double reference_std = 0;  // population (ddof = 0), before the floor
};
// Returns INVALID_ARGUMENT when either sample has no finite value.
absl::StatusOr<WassersteinResult> Wasserstein(absl::Span<const double> reference,
                                              absl::Span<const double> current);

// How many times each category occurs in one window of a categorical column. (The sketch's
// bounded, mergeable counter is sketch/category_counts.h's CategoryCounts.)
using CategoryCountMap = absl::btree_map<std::string, int64_t>;

// The two windows' counts over the union of their categories (or bins), in one order: sorted
// category names, ascending values, or bins left to right.
struct AlignedCounts {
  std::vector<std::string> categories;
  std::vector<double> reference;
  std::vector<double> current;
};
AlignedCounts AlignCategories(const CategoryCountMap& reference, const CategoryCountMap& current);
// Each distinct finite value is a category (Evidently's treatment of a numeric column with few
// values); -0 and +0 are one value.
AlignedCounts AlignValues(absl::Span<const double> reference, absl::Span<const double> current);
// Evidently's binning for PSI and Jensen–Shannon (get_binned_data): when the reference has more
// than 20 distinct finite values, numpy's "sturges" bins over both windows together
// (ceil(log2(n) + 1) equal-width bins from min to max, the last one closed); otherwise each
// value is its own category.
AlignedCounts BinForDistance(absl::Span<const double> reference, absl::Span<const double> current);

// The edges of numpy's "sturges" bins (numpy.histogram_bin_edges(x, bins="sturges")) for
// `count` values from `first` to `last` (first < last): ceil(log2(count) + 1) equal-width bins,
// the last edge exactly `last`. BinForDistance's bins.
std::vector<double> SturgesBinEdges(double first, double last, int64_t count);

// Population stability index, Σ (r - c)·ln(r / c) over the shares r and c of each category or
// bin. A share of zero becomes Evidently's epsilon: the window's smallest non-zero share / 10^6
// when that share is at most 10^-4, else 10^-4. Returns INVALID_ARGUMENT when a window is empty.
absl::StatusOr<double> Psi(const AlignedCounts& counts);

// Jensen–Shannon distance between the two windows' share vectors, as
// scipy.spatial.distance.jensenshannon(reference, current, base): natural logarithm by
// default, which is what Evidently's drift test uses and its 0.1 threshold assumes; base 2
// bounds the distance by 1. Returns INVALID_ARGUMENT when a window is empty or base <= 1.
absl::StatusOr<double> JensenShannon(const AlignedCounts& counts, double base = std::exp(1.0));

// Pearson's chi-square goodness-of-fit of the current counts to the reference's shares, as
// scipy.stats.chisquare(observed, expected) with k - 1 degrees of freedom. Expected counts are
// the reference shares scaled to the current total, as Evidently computes them; a category the
// reference never saw would then expect zero (an infinite statistic), so its share becomes PSI's
// epsilon and the shares are renormalised to sum to 1 before scaling. With a single category in
// both windows there is nothing to test: statistic 0, p-value 1.
struct ChiSquareResult {
  double statistic = 0;
  double p_value = 1;
  int64_t degrees_of_freedom = 0;
  std::vector<double> expected;  // in the order of AlignedCounts::categories
};
// Returns INVALID_ARGUMENT when a window is empty.
absl::StatusOr<ChiSquareResult> ChiSquare(const AlignedCounts& counts);

// The Z-test for two proportions on a binary column (Evidently's z test): the proportion is
// the share of the second category, pooled under the null hypothesis; the p-value is two-sided.
// A single category shared by both windows gives statistic 0 and p-value 1.
struct ZTestResult {
  double statistic = 0;
  double p_value = 1;
};
// Returns INVALID_ARGUMENT when a window is empty or there are more than two categories.
absl::StatusOr<ZTestResult> ZTestProportions(const AlignedCounts& counts);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_DRIFT_STATISTICS_H_
