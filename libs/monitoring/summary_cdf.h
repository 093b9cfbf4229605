#ifndef FABRIQUE_LIBS_MONITORING_SUMMARY_CDF_H_
#define FABRIQUE_LIBS_MONITORING_SUMMARY_CDF_H_

// The distribution function of a numeric column as a summary keeps it, in one form for the
// drift statistics computed from summaries (summary_drift.h): the CDF is known at breakpoints
// (its value just before and at each one) and linear between them. A quantile sketch gives a
// step function (breakpoints at its retained values, constant between); the bins of a profile
// made before sketches give a continuous one (breakpoints at the edges, linear inside a bin).
// Each carries the bound on its distance from the column's exact CDF, at every x at once.

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "fabrique/v1/common.pb.h"
#include "libs/monitoring/sketch/quantile_sketch.h"

namespace fabrique::monitoring {

class SummaryCdf {
 public:
  // The sketch's finite values (±inf count as missing, as on exact data) with its stated rank
  // error, or `rank_error` when larger (what a profile states).
  static SummaryCdf FromSketch(const QuantileSketch& sketch, double rank_error = 0);
  // A profile's equal-frequency bins (bin_edges, bin_fractions), linear inside each bin; its
  // error is the largest bin's share (ReferenceCdf's). INVALID_ARGUMENT for inconsistent bins.
  static absl::StatusOr<SummaryCdf> FromBins(const v1::NumericSummary& summary);

  // Share of the values <= x, and of the values < x.
  double At(double x) const;
  double Below(double x) const;

  // The finite values counted, and those the sketch held as ±inf.
  int64_t count() const { return count_; }
  int64_t infinite_count() const { return infinite_count_; }
  bool empty() const { return points_.empty(); }
  double min() const { return points_.front().x; }  // Only when not empty.
  double max() const { return points_.back().x; }
  double rank_error() const { return rank_error_; }
  // True for a sketch that holds every value: the breakpoints are the values.
  bool exact() const { return exact_; }
  // True when read from a sketch (a step function), false for bins.
  bool from_sketch() const { return from_sketch_; }
  // The breakpoints' positions, ascending: every value a sketch retained, or every bin edge.
  std::vector<double> Breakpoints() const;

  struct Point {
    double x;
    double below;  // F(x-)
    double at;     // F(x)
  };
  const std::vector<Point>& points() const { return points_; }

 private:
  SummaryCdf() = default;

  std::vector<Point> points_;
  int64_t count_ = 0;
  int64_t infinite_count_ = 0;
  double rank_error_ = 0;
  bool exact_ = false;
  bool from_sketch_ = false;
};

// sup |F_reference(x) - F_current(x)| over all x: both CDFs are linear between the union of
// their breakpoints, so the supremum is at a breakpoint, from one side or the other.
double KsDistance(const SummaryCdf& reference, const SummaryCdf& current);

// ∫ |F_reference(x) - F_current(x)| dx: the first Wasserstein distance, integrated exactly over
// the linear pieces between the union of the breakpoints.
double WassersteinDistance(const SummaryCdf& reference, const SummaryCdf& current);

// Bound on |WassersteinDistance - the distance of the exact CDFs|. Each exact CDF lies within
// its rank error of the estimate at every x, inside [0, 1], and equals the estimate outside
// [min, max] (kept exactly). Between two sketches' kept points both estimates are constant, so
// on each piece the exact |F_ref - F_cur| lies between the smallest and largest distance of two
// such intervals: the bound integrates how far those reach from the estimate. For bins (linear
// pieces) it is the plain e_ref·(max_ref - min_ref) + e_cur·(max_cur - min_cur), which the
// other never exceeds.
double WassersteinErrorBound(const SummaryCdf& reference, const SummaryCdf& current);

// The shares of `cdf`'s values in the bins [edges[k], edges[k + 1]), the last bin closed, as
// numpy.histogram counts them (divided by the count).
std::vector<double> BinShares(const SummaryCdf& cdf, const std::vector<double>& edges);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_SUMMARY_CDF_H_
