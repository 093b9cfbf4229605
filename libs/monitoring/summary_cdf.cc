#include "libs/monitoring/summary_cdf.h"

#include <algorithm>
#include <cmath>

#include "libs/monitoring/sketch/reference_cdf.h"

namespace fabrique::monitoring {
namespace {

// The CDF strictly between two breakpoints: linear from F(left) to F(right-).
double Between(const SummaryCdf::Point& left, const SummaryCdf::Point& right, double x) {
  const double width = right.x - left.x;
  const double within = width > 0 ? (x - left.x) / width : 0;
  return left.at + (right.below - left.at) * within;
}

// ∫ |g| over a piece of width `width` where g is linear from u to v.
double AbsoluteIntegral(double u, double v, double width) {
  if (u * v >= 0) return (std::fabs(u) + std::fabs(v)) / 2 * width;
  // g crosses zero inside: two triangles.
  return (u * u + v * v) / (2 * (std::fabs(u) + std::fabs(v))) * width;
}

std::vector<double> UnionOfBreakpoints(const SummaryCdf& a, const SummaryCdf& b) {
  const std::vector<double> xa = a.Breakpoints(), xb = b.Breakpoints();
  std::vector<double> xs;
  xs.reserve(xa.size() + xb.size());
  std::merge(xa.begin(), xa.end(), xb.begin(), xb.end(), std::back_inserter(xs));
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
  return xs;
}

}  // namespace

SummaryCdf SummaryCdf::FromSketch(const QuantileSketch& sketch, double rank_error) {
  SummaryCdf cdf;
  cdf.rank_error_ = std::max(sketch.rank_error(), rank_error);
  cdf.exact_ = sketch.exact();
  cdf.from_sketch_ = true;
  const std::vector<QuantileSketch::WeightedValue> items = sketch.SortedView();
  for (const QuantileSketch::WeightedValue& item : items) {
    if (std::isfinite(item.value)) {
      cdf.count_ += item.weight;
    } else {
      cdf.infinite_count_ += item.weight;
    }
  }
  if (cdf.count_ == 0) return cdf;
  const double total = static_cast<double>(cdf.count_);
  int64_t below = 0;
  for (const QuantileSketch::WeightedValue& item : items) {
    if (!std::isfinite(item.value)) continue;
    const double x = item.value + 0.0;  // -0 and +0 are one value
    if (cdf.points_.empty() || cdf.points_.back().x != x) {
      cdf.points_.push_back({x, static_cast<double>(below) / total, 0});
    }
    below += item.weight;
    cdf.points_.back().at = static_cast<double>(below) / total;
  }
  cdf.points_.back().at = 1.0;
  return cdf;
}

absl::StatusOr<SummaryCdf> SummaryCdf::FromBins(const v1::NumericSummary& summary) {
  // ReferenceCdf checks the bins and states their error; the points are read from them here.
  absl::StatusOr<ReferenceCdf> checked = ReferenceCdf::FromSummary(summary);
  if (!checked.ok()) return checked.status();
  SummaryCdf cdf;
  cdf.rank_error_ = checked->rank_error();
  cdf.count_ = summary.count();
  if (summary.bin_edges_size() == 0) return cdf;
  double below = 0;
  for (int i = 0; i < summary.bin_edges_size(); ++i) {
    const double x = summary.bin_edges(i);
    const double share = std::min(below, 1.0);
    // Equal edges enclose a bin of width 0: a jump of the CDF at that value.
    if (cdf.points_.empty() || cdf.points_.back().x != x) {
      cdf.points_.push_back({x, share, share});
    } else {
      cdf.points_.back().at = share;
    }
    if (i < summary.bin_fractions_size()) below += summary.bin_fractions(i);
  }
  cdf.points_.back().at = 1.0;
  return cdf;
}

double SummaryCdf::At(double x) const {
  const auto after = std::upper_bound(points_.begin(), points_.end(), x,
                                      [](double v, const Point& p) { return v < p.x; });
  if (after == points_.begin()) return 0;
  const Point& last = *(after - 1);
  if (last.x == x || after == points_.end()) return last.at;
  return Between(last, *after, x);
}

double SummaryCdf::Below(double x) const {
  const auto at_or_after = std::lower_bound(points_.begin(), points_.end(), x,
                                            [](const Point& p, double v) { return p.x < v; });
  if (at_or_after == points_.end()) return points_.empty() ? 0 : 1;
  if (at_or_after->x == x) return at_or_after->below;
  if (at_or_after == points_.begin()) return 0;
  return Between(*(at_or_after - 1), *at_or_after, x);
}

std::vector<double> SummaryCdf::Breakpoints() const {
  std::vector<double> xs;
  xs.reserve(points_.size());
  for (const Point& p : points_) xs.push_back(p.x);
  return xs;
}

double KsDistance(const SummaryCdf& reference, const SummaryCdf& current) {
  double largest = 0;
  for (double x : UnionOfBreakpoints(reference, current)) {
    largest = std::max({largest, std::fabs(reference.At(x) - current.At(x)),
                        std::fabs(reference.Below(x) - current.Below(x))});
  }
  return std::min(largest, 1.0);
}

double WassersteinDistance(const SummaryCdf& reference, const SummaryCdf& current) {
  const std::vector<double> xs = UnionOfBreakpoints(reference, current);
  double distance = 0;
  for (size_t k = 0; k + 1 < xs.size(); ++k) {
    const double u = reference.At(xs[k]) - current.At(xs[k]);
    const double v = reference.Below(xs[k + 1]) - current.Below(xs[k + 1]);
    distance += AbsoluteIntegral(u, v, xs[k + 1] - xs[k]);
  }
  return distance;
}

double WassersteinErrorBound(const SummaryCdf& reference, const SummaryCdf& current) {
  if (!reference.from_sketch() || !current.from_sketch() || reference.empty() || current.empty()) {
    const auto spread = [](const SummaryCdf& cdf) {
      return cdf.empty() ? 0.0 : cdf.rank_error() * (cdf.max() - cdf.min());
    };
    return spread(reference) + spread(current);
  }
  const std::vector<double> xs = UnionOfBreakpoints(reference, current);
  double over = 0, under = 0;
  for (size_t k = 0; k + 1 < xs.size(); ++k) {
    const double a = reference.At(xs[k]), b = current.At(xs[k]);
    const double a_lo = std::max(0.0, a - reference.rank_error());
    const double a_hi = std::min(1.0, a + reference.rank_error());
    const double b_lo = std::max(0.0, b - current.rank_error());
    const double b_hi = std::min(1.0, b + current.rank_error());
    const double estimate = std::fabs(a - b), width = xs[k + 1] - xs[k];
    over += (std::max(a_hi - b_lo, b_hi - a_lo) - estimate) * width;
    under += (estimate - std::max({0.0, a_lo - b_hi, b_lo - a_hi})) * width;
  }
  return std::max(over, under);
}

std::vector<double> BinShares(const SummaryCdf& cdf, const std::vector<double>& edges) {
  std::vector<double> shares;
  for (size_t k = 0; k + 1 < edges.size(); ++k) {
    const bool last = k + 2 == edges.size();
    const double upper = last ? cdf.At(edges[k + 1]) : cdf.Below(edges[k + 1]);
    shares.push_back(std::max(upper - cdf.Below(edges[k]), 0.0));
  }
  return shares;
}

}  // namespace fabrique::monitoring
