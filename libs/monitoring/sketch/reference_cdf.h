#ifndef FABRIQUE_LIBS_MONITORING_SKETCH_REFERENCE_CDF_H_
#define FABRIQUE_LIBS_MONITORING_SKETCH_REFERENCE_CDF_H_

// The distribution of a numeric reference, as drift statistics read it: from the profile's
// quantile sketch when it has one, else (profiles made before sketches) from its equal-frequency
// bins, linear inside each bin. The error it states tells the two apart: the sketch's rank
// error, or for bins the largest bin's share (inside a bin the values could lie anywhere).

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "fabrique/v1/common.pb.h"
#include "libs/monitoring/sketch/quantile_sketch.h"

namespace fabrique::monitoring {

class ReferenceCdf {
 public:
  // INVALID_ARGUMENT for corrupt sketch bytes or inconsistent bins (edges not one more than
  // fractions, edges decreasing, negative fractions).
  static absl::StatusOr<ReferenceCdf> FromSummary(const v1::NumericSummary& summary);

  // Share of the reference values <= x, in [0, 1].
  double Cdf(double x) const;
  // The value at rank q (q clamped to [0, 1]); NaN when the reference is empty.
  double Quantile(double q) const;
  // Bound on |Cdf(x) - exact CDF| over all x.
  double rank_error() const { return rank_error_; }
  bool from_sketch() const { return sketch_.has_value(); }
  const QuantileSketch* sketch() const { return sketch_ ? &*sketch_ : nullptr; }

 private:
  ReferenceCdf() = default;

  std::optional<QuantileSketch> sketch_;
  std::vector<double> edges_;       // Bins when there is no sketch.
  std::vector<double> cumulative_;  // Share of values below each edge; same size as edges_.
  double rank_error_ = 0;
};

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_SKETCH_REFERENCE_CDF_H_
