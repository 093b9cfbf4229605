#ifndef FABRIQUE_LIBS_MONITORING_SKETCH_COLUMN_SUMMARY_H_
#define FABRIQUE_LIBS_MONITORING_SKETCH_COLUMN_SUMMARY_H_

// What is kept of one column (a feature, the label or a model output) over a training set or a
// window of live traffic: values seen, missing ones, ones out of the reference's range, and the
// distribution as a quantile sketch (numbers) or exact category counts. Memory does not grow
// with the values seen; summaries of windows merge into longer windows; the persisted form is
// the profile's DistributionProfile.
//
//   ColumnSummary live(ColumnSummary::AgainstReference(reference));
//   for (double v : values) live.AddNumber(v);   // NaN and ±inf count as missing.
//   v1::DistributionProfile window = live.ToProto("amount");

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/common.pb.h"
#include "libs/monitoring/sketch/category_counts.h"
#include "libs/monitoring/sketch/quantile_sketch.h"

namespace fabrique::monitoring {

class ColumnSummary {
 public:
  enum class Kind { kNumeric, kCategorical };

  struct Options {
    Kind kind = Kind::kNumeric;
    QuantileSketch::Options sketch;      // Numeric columns.
    CategoryCounts::Options categories;  // Categorical columns.
    // Numbers below or above these count as out of range (they are still summarised). Unset:
    // no bound on that side.
    std::optional<double> reference_min;
    std::optional<double> reference_max;
    // Categories outside these count as out of range. Empty: not checked.
    std::vector<std::string> reference_categories;
  };

  // Options comparing a column with `reference`: its kind, its [min, max] or its categories
  // (only when the reference lists every category, other_count 0).
  static Options AgainstReference(const v1::DistributionProfile& reference);

  explicit ColumnSummary(Options options);

  // Counts a number; NaN and ±inf count as missing (as the drift statistics treat them). A
  // categorical column counts it as its decimal text (class labels).
  void AddNumber(double value);
  // Counts a category; a numeric column counts it as missing.
  void AddCategory(absl::string_view value);
  void AddMissing(int64_t times = 1);

  // Adds `other`'s values. INVALID_ARGUMENT when the kinds differ. The reference of this
  // summary is kept (the other's out-of-range count is added as it is).
  absl::Status Merge(const ColumnSummary& other);

  Kind kind() const { return kind_; }
  int64_t count() const { return count_; }  // Values seen, missing included.
  int64_t missing_count() const { return missing_count_; }
  int64_t out_of_range_count() const { return out_of_range_count_; }
  // Numbers summarised (a float vector feature's profile pools its elements).
  int64_t number_count() const { return numbers_; }
  double mean() const;    // Of the numbers; 0 when none.
  double stddev() const;  // Population standard deviation of the numbers; 0 when none.
  // The numbers' sketch; nullptr for categorical columns and for profiles read from before
  // sketches (ReferenceCdf then falls back to their bins).
  const QuantileSketch* sketch() const { return sketch_ ? &*sketch_ : nullptr; }
  const CategoryCounts& categories() const { return categories_; }

  // The persisted form, named `name`. Numeric summaries carry the sketch's bytes and error and,
  // for readers of the older format, `bins` equal-frequency bins taken from the sketch.
  v1::DistributionProfile ToProto(absl::string_view name, int bins = 10) const;
  // Reads a persisted summary; INVALID_ARGUMENT for corrupt sketch bytes or counts, or when it
  // holds neither a numeric nor a categorical summary.
  static absl::StatusOr<ColumnSummary> FromProto(const v1::DistributionProfile& profile,
                                                 Options options);
  static absl::StatusOr<ColumnSummary> FromProto(const v1::DistributionProfile& profile);

 private:
  void CountRange(double value);

  Kind kind_;
  std::optional<double> reference_min_;
  std::optional<double> reference_max_;
  absl::flat_hash_set<std::string> reference_categories_;
  int64_t count_ = 0;
  int64_t missing_count_ = 0;
  int64_t out_of_range_count_ = 0;
  // Numbers summarised: values seen less missing ones, or a profile's pooled vector elements.
  int64_t numbers_ = 0;
  double sum_ = 0;
  double sum_squares_ = 0;
  std::optional<QuantileSketch> sketch_;
  CategoryCounts categories_;
};

// Equal-frequency bins of the sketch's values, in NumericSummary's fields (bin_edges,
// bin_fractions): edges at the i/bins quantiles with ties merged; a value at an edge falls in
// the bin above it, the maximum in the last bin.
void FillBins(const QuantileSketch& sketch, int bins, v1::NumericSummary* summary);

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_SKETCH_COLUMN_SUMMARY_H_
