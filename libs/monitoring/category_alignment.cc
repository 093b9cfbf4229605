// Turning two windows of a column into counts over one shared list of categories or bins.

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/monitoring/drift_statistics.h"

namespace fabrique::monitoring {
namespace {

// Evidently bins a numeric column only when its reference has more distinct values than this.
constexpr size_t kMaxDistinctValuesAsCategories = 20;

std::vector<double> SortedFinite(absl::Span<const double> column) {
  std::vector<double> values = DropMissing(column).values;
  for (double& value : values) value += 0.0;  // -0 and +0 are one value
  std::sort(values.begin(), values.end());
  return values;
}

// How many sorted values lie in [lo, hi), or in [lo, hi] for the last bin (np.histogram).
double CountInBin(const std::vector<double>& sorted, double lo, double hi, bool last) {
  const auto begin = std::lower_bound(sorted.begin(), sorted.end(), lo);
  const auto end = last ? std::upper_bound(sorted.begin(), sorted.end(), hi)
                        : std::lower_bound(sorted.begin(), sorted.end(), hi);
  return static_cast<double>(end - begin);
}

}  // namespace

AlignedCounts AlignCategories(const CategoryCountMap& reference, const CategoryCountMap& current) {
  absl::btree_map<std::string, std::pair<double, double>> both;
  for (const auto& [category, count] : reference) both[category].first += count;
  for (const auto& [category, count] : current) both[category].second += count;
  AlignedCounts aligned;
  for (const auto& [category, counts] : both) {
    if (counts.first == 0 && counts.second == 0) continue;
    aligned.categories.push_back(category);
    aligned.reference.push_back(counts.first);
    aligned.current.push_back(counts.second);
  }
  return aligned;
}

AlignedCounts AlignValues(absl::Span<const double> reference, absl::Span<const double> current) {
  const std::vector<double> a = SortedFinite(reference), b = SortedFinite(current);
  AlignedCounts aligned;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    const double x = (j == b.size() || (i < a.size() && a[i] <= b[j])) ? a[i] : b[j];
    double in_a = 0, in_b = 0;
    for (; i < a.size() && a[i] == x; ++i) ++in_a;
    for (; j < b.size() && b[j] == x; ++j) ++in_b;
    aligned.categories.push_back(absl::StrFormat("%.17g", x));
    aligned.reference.push_back(in_a);
    aligned.current.push_back(in_b);
  }
  return aligned;
}

std::vector<double> SturgesBinEdges(double first, double last, int64_t count) {
  // numpy.histogram_bin_edges(pooled, bins="sturges"), step for step.
  const double range = last - first;
  const double width = range / (std::log2(static_cast<double>(count)) + 1.0);
  const int64_t bins = static_cast<int64_t>(std::ceil(range / width));
  std::vector<double> edges(bins + 1);
  const double step = range / static_cast<double>(bins);
  for (int64_t k = 0; k < bins; ++k) edges[k] = static_cast<double>(k) * step + first;
  edges[bins] = last;
  return edges;
}

AlignedCounts BinForDistance(absl::Span<const double> reference, absl::Span<const double> current) {
  const std::vector<double> a = SortedFinite(reference), b = SortedFinite(current);
  std::vector<double> distinct_reference;
  std::unique_copy(a.begin(), a.end(), std::back_inserter(distinct_reference));
  if (distinct_reference.size() <= kMaxDistinctValuesAsCategories || b.empty()) {
    return AlignValues(a, b);
  }
  // first < last: the reference has more than 20 distinct values.
  const std::vector<double> edges =
      SturgesBinEdges(std::min(a.front(), b.front()), std::max(a.back(), b.back()),
                      static_cast<int64_t>(a.size() + b.size()));
  const int64_t bins = static_cast<int64_t>(edges.size()) - 1;
  AlignedCounts aligned;
  for (int64_t k = 0; k < bins; ++k) {
    const bool last_bin = k + 1 == bins;
    aligned.categories.push_back(
        absl::StrFormat("[%.17g, %.17g%c", edges[k], edges[k + 1], last_bin ? ']' : ')'));
    aligned.reference.push_back(CountInBin(a, edges[k], edges[k + 1], last_bin));
    aligned.current.push_back(CountInBin(b, edges[k], edges[k + 1], last_bin));
  }
  return aligned;
}

}  // namespace fabrique::monitoring
