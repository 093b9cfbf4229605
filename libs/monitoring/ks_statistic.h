#ifndef FABRIQUE_LIBS_MONITORING_KS_STATISTIC_H_
#define FABRIQUE_LIBS_MONITORING_KS_STATISTIC_H_

// The two-sample KS statistic D = sup |F_a - F_b|, computed as scipy.stats.ks_2samp computes it
// (each ECDF difference i/n1 - j/n2 at a pooled value, i and j the values <= it), so that both
// agree to the last bit; two ways that give the same bits.

#include <cstdint>
#include <vector>

#include "absl/types/span.h"

namespace fabrique::monitoring {

// D of two sorted samples, by one merge pass over them.
double KsStatisticSorted(const std::vector<double>& a, const std::vector<double>& b);

// D of two unsorted columns, their non-finite values skipped, without sorting them: the values
// are counted into equal-width buckets (over the range of a strided sample, values beyond it in
// the end buckets; one pass over each column), which gives the exact ECDF difference after each
// bucket's last value; a bucket can hold the supremum only when that difference before it, plus
// the bucket's share of a (or minus its share of b), reaches the largest difference found so
// far, and only those buckets' values are gathered (a second pass), sorted and merged.
// Typically a few buckets out of (n1 + n2) / 32, so the cost is two passes of reading instead
// of a sort; values crowded into few buckets (far outliers) degrade to sorting them.
struct UnsortedKs {
  double statistic = 0;
  int64_t reference_count = 0;  // finite values of a
  int64_t current_count = 0;    // finite values of b
};
UnsortedKs KsStatisticUnsorted(absl::Span<const double> a, absl::Span<const double> b);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_KS_STATISTIC_H_
