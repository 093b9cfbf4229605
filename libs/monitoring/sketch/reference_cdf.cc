#include "libs/monitoring/sketch/reference_cdf.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/status/status.h"

namespace fabrique::monitoring {

absl::StatusOr<ReferenceCdf> ReferenceCdf::FromSummary(const v1::NumericSummary& summary) {
  ReferenceCdf cdf;
  if (!summary.quantile_sketch().empty()) {
    absl::StatusOr<QuantileSketch> sketch = QuantileSketch::Parse(summary.quantile_sketch());
    if (!sketch.ok()) return sketch.status();
    cdf.rank_error_ = std::max(sketch->rank_error(), summary.rank_error());
    cdf.sketch_ = *std::move(sketch);
    return cdf;
  }
  if (summary.bin_edges_size() == 0 && summary.bin_fractions_size() == 0) return cdf;
  if (summary.bin_edges_size() != summary.bin_fractions_size() + 1) {
    return absl::InvalidArgumentError("reference bins: edges are not one more than fractions");
  }
  double below = 0;
  for (int i = 0; i < summary.bin_edges_size(); ++i) {
    if (i > 0 && !(summary.bin_edges(i) >= summary.bin_edges(i - 1))) {
      return absl::InvalidArgumentError("reference bins: edges not in increasing order");
    }
    cdf.edges_.push_back(summary.bin_edges(i));
    cdf.cumulative_.push_back(std::min(1.0, below));
    if (i < summary.bin_fractions_size()) {
      const double f = summary.bin_fractions(i);
      if (!(f >= 0 && f <= 1)) {
        return absl::InvalidArgumentError("reference bins: fraction outside [0, 1]");
      }
      below += f;
      cdf.rank_error_ = std::max(cdf.rank_error_, f);
    }
  }
  // The last edge is the maximum: everything is at or below it.
  cdf.cumulative_.back() = 1.0;
  return cdf;
}

double ReferenceCdf::Cdf(double x) const {
  if (sketch_) return sketch_->Cdf(x);
  if (edges_.empty() || x < edges_.front()) return 0;
  if (x >= edges_.back()) return 1;
  const size_t i = std::upper_bound(edges_.begin(), edges_.end(), x) - edges_.begin() - 1;
  const double width = edges_[i + 1] - edges_[i];
  const double within = width > 0 ? (x - edges_[i]) / width : 0;
  return cumulative_[i] + within * (cumulative_[i + 1] - cumulative_[i]);
}

double ReferenceCdf::Quantile(double q) const {
  if (sketch_) return sketch_->Quantile(q);
  if (edges_.empty()) return std::numeric_limits<double>::quiet_NaN();
  q = std::clamp(q, 0.0, 1.0);
  // The first edge whose share below reaches q, interpolated back into its bin.
  const size_t j =
      std::lower_bound(cumulative_.begin(), cumulative_.end(), q) - cumulative_.begin();
  if (j == 0) return edges_.front();
  if (j >= edges_.size()) return edges_.back();
  const double mass = cumulative_[j] - cumulative_[j - 1];
  const double within = mass > 0 ? (q - cumulative_[j - 1]) / mass : 1;
  return edges_[j - 1] + within * (edges_[j] - edges_[j - 1]);
}

}  // namespace fabrique::monitoring
