#include "libs/monitoring/ks_statistic.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "libs/monitoring/sorted_finite.h"

namespace fabrique::monitoring {
namespace {

// Values per bucket on average: small enough that few values need sorting, large enough that
// the counts stay in cache.
constexpr int64_t kValuesPerBucket = 32;
constexpr int64_t kMaxBuckets = int64_t{1} << 20;
// Values a column contributes to the sample that sets the buckets' range.
constexpr size_t kSampleSize = 2048;
// Slack on the bound that rules a bucket out, far above the rounding of a few additions.
constexpr double kBoundSlack = 1e-9;

// The running ECDF difference and its extremes, as scipy's ks_2samp computes them.
struct Extremes {
  double n1;
  double n2;
  double largest = 0;
  double smallest = 0;
  void Add(int64_t i, int64_t j) {
    const double difference = static_cast<double>(i) / n1 - static_cast<double>(j) / n2;
    largest = std::max(largest, difference);
    smallest = std::min(smallest, difference);
  }
  double Statistic() const { return std::max(largest, std::clamp(-smallest, 0.0, 1.0)); }
};

// Merges sorted a and b, counting i and j from the values below them, into `extremes`.
void Merge(const std::vector<double>& a, const std::vector<double>& b, int64_t i_below,
           int64_t j_below, Extremes& extremes) {
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    const double x = (j == b.size() || (i < a.size() && a[i] <= b[j])) ? a[i] : b[j];
    while (i < a.size() && a[i] <= x) ++i;
    while (j < b.size() && b[j] <= x) ++j;
    extremes.Add(i_below + static_cast<int64_t>(i), j_below + static_cast<int64_t>(j));
  }
}

// The range the buckets span: that of a strided sample of both columns' finite values, so that
// finding it costs no pass over the columns. Values outside it are clamped into the first or
// last bucket, which keeps the buckets in the values' order.
struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
};

void Sample(absl::Span<const double> column, Range& range) {
  const size_t stride = std::max<size_t>(1, column.size() / kSampleSize);
  for (size_t i = 0; i < column.size(); i += stride) {
    if (!std::isfinite(column[i])) continue;
    range.lo = std::min(range.lo, column[i]);
    range.hi = std::max(range.hi, column[i]);
  }
}

// Maps finite values to buckets of equal width over the range, preserving order: x <= y gives
// Bucket(x) <= Bucket(y) (subtracting, scaling and clamping are monotonic under rounding), and
// equal values share a bucket.
struct Buckets {
  double lo;
  double scale;
  int64_t count;
  int64_t operator()(double x) const {
    const double position = (x - lo) * scale;
    if (!(position > 0)) return 0;
    return position >= static_cast<double>(count) ? count - 1 : static_cast<int64_t>(position);
  }
};

// Counts each column's finite values per bucket; returns how many are finite.
int64_t Count(absl::Span<const double> column, const Buckets& bucket,
              std::vector<uint32_t>& counts) {
  int64_t finite = 0;
  for (double x : column) {
    if (!std::isfinite(x)) continue;
    ++counts[bucket(x)];
    ++finite;
  }
  return finite;
}

}  // namespace

double KsStatisticSorted(const std::vector<double>& a, const std::vector<double>& b) {
  Extremes extremes{static_cast<double>(a.size()), static_cast<double>(b.size())};
  Merge(a, b, 0, 0, extremes);
  return extremes.Statistic();
}

UnsortedKs KsStatisticUnsorted(absl::Span<const double> a, absl::Span<const double> b) {
  UnsortedKs result;
  Range range;
  Sample(a, range);
  Sample(b, range);
  const int64_t count = std::clamp<int64_t>(
      static_cast<int64_t>(a.size() + b.size()) / kValuesPerBucket, 1, kMaxBuckets);
  const double scale = static_cast<double>(count) / (range.hi - range.lo);
  // Counts fit in 32 bits; a sample of one value, or a range too wide or too narrow for
  // doubles, leaves no buckets to count into: sort.
  if (a.size() + b.size() > std::numeric_limits<uint32_t>::max() || !(range.lo < range.hi) ||
      !std::isfinite(scale)) {
    const std::vector<double> sorted_a = SortedFiniteValues(a), sorted_b = SortedFiniteValues(b);
    result.reference_count = static_cast<int64_t>(sorted_a.size());
    result.current_count = static_cast<int64_t>(sorted_b.size());
    if (!sorted_a.empty() && !sorted_b.empty()) {
      result.statistic = KsStatisticSorted(sorted_a, sorted_b);
    }
    return result;
  }
  const Buckets bucket{range.lo, scale, count};
  std::vector<uint32_t> in_a(count, 0), in_b(count, 0);
  result.reference_count = Count(a, bucket, in_a);
  result.current_count = Count(b, bucket, in_b);
  if (result.reference_count == 0 || result.current_count == 0) return result;

  // The exact differences after each bucket's last value.
  Extremes extremes{static_cast<double>(result.reference_count),
                    static_cast<double>(result.current_count)};
  int64_t i = 0, j = 0;
  for (int64_t k = 0; k < count; ++k) {
    if (in_a[k] + in_b[k] == 0) continue;
    i += in_a[k];
    j += in_b[k];
    extremes.Add(i, j);
  }
  // The buckets inside which the difference could go beyond them, numbered in `slot`.
  std::vector<int32_t> slot(count, -1);
  std::vector<int64_t> i_before, j_before;
  i = 0, j = 0;
  for (int64_t k = 0; k < count; ++k) {
    const double before =
        static_cast<double>(i) / extremes.n1 - static_cast<double>(j) / extremes.n2;
    const bool may_exceed =
        before + static_cast<double>(in_a[k]) / extremes.n1 >= extremes.largest - kBoundSlack ||
        before - static_cast<double>(in_b[k]) / extremes.n2 <= extremes.smallest + kBoundSlack;
    if (may_exceed && in_a[k] + in_b[k] > 1) {
      slot[k] = static_cast<int32_t>(i_before.size());
      i_before.push_back(i);
      j_before.push_back(j);
    }
    i += in_a[k];
    j += in_b[k];
  }
  std::vector<std::vector<double>> values_a(i_before.size()), values_b(i_before.size());
  for (double x : a) {
    if (std::isfinite(x) && slot[bucket(x)] >= 0) values_a[slot[bucket(x)]].push_back(x);
  }
  for (double x : b) {
    if (std::isfinite(x) && slot[bucket(x)] >= 0) values_b[slot[bucket(x)]].push_back(x);
  }
  for (size_t s = 0; s < i_before.size(); ++s) {
    Merge(SortedFiniteValues(values_a[s]), SortedFiniteValues(values_b[s]), i_before[s],
          j_before[s], extremes);
  }
  result.statistic = extremes.Statistic();
  return result;
}

}  // namespace fabrique::monitoring
