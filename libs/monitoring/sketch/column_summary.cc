#include "libs/monitoring/sketch/column_summary.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace fabrique::monitoring {

ColumnSummary::Options ColumnSummary::AgainstReference(const v1::DistributionProfile& reference) {
  Options options;
  if (reference.has_categorical()) {
    options.kind = Kind::kCategorical;
    // Only a complete list says what is out of range; a truncated one would flag its tail.
    if (reference.categorical().other_count() == 0 &&
        reference.categorical().other_fraction() == 0) {
      for (const v1::CategoryFrequency& category : reference.categorical().categories()) {
        options.reference_categories.push_back(category.value());
      }
    }
  } else if (reference.has_numeric() && reference.numeric().count() > 0) {
    options.reference_min = reference.numeric().min_value();
    options.reference_max = reference.numeric().max_value();
  }
  return options;
}

ColumnSummary::ColumnSummary(Options options)
    : kind_(options.kind),
      reference_min_(options.reference_min),
      reference_max_(options.reference_max),
      reference_categories_(options.reference_categories.begin(),
                            options.reference_categories.end()),
      categories_(options.categories) {
  if (kind_ == Kind::kNumeric) sketch_.emplace(options.sketch);
}

void ColumnSummary::AddNumber(double value) {
  if (!std::isfinite(value)) return AddMissing();  // as the drift statistics treat them
  if (kind_ == Kind::kCategorical) return AddCategory(absl::StrCat(value));
  ++count_;
  ++numbers_;
  sum_ += value;
  sum_squares_ += value * value;
  if ((reference_min_ && value < *reference_min_) || (reference_max_ && value > *reference_max_)) {
    ++out_of_range_count_;
  }
  if (sketch_) sketch_->Update(value);
}

void ColumnSummary::AddCategory(absl::string_view value) {
  if (kind_ == Kind::kNumeric) return AddMissing();
  ++count_;
  if (!reference_categories_.empty() && !reference_categories_.contains(value)) {
    ++out_of_range_count_;
  }
  categories_.Add(value);
}

void ColumnSummary::AddMissing(int64_t times) {
  count_ += times;
  missing_count_ += times;
}

absl::Status ColumnSummary::Merge(const ColumnSummary& other) {
  if (other.kind_ != kind_) {
    return absl::InvalidArgumentError("cannot merge a numeric and a categorical column summary");
  }
  count_ += other.count_;
  missing_count_ += other.missing_count_;
  out_of_range_count_ += other.out_of_range_count_;
  numbers_ += other.numbers_;
  sum_ += other.sum_;
  sum_squares_ += other.sum_squares_;
  if (sketch_ && other.sketch_) {
    sketch_->Merge(*other.sketch_);
  } else if (other.sketch_ == std::nullopt && kind_ == Kind::kNumeric) {
    sketch_.reset();  // A summary without its values makes the merged distribution unknown.
  }
  categories_.Merge(other.categories_);
  return absl::OkStatus();
}

double ColumnSummary::mean() const {
  return numbers_ > 0 ? sum_ / static_cast<double>(numbers_) : 0;
}

double ColumnSummary::stddev() const {
  if (numbers_ <= 0) return 0;
  const double m = mean();
  return std::sqrt(std::max(0.0, sum_squares_ / static_cast<double>(numbers_) - m * m));
}

void FillBins(const QuantileSketch& sketch, int bins, v1::NumericSummary* summary) {
  summary->clear_bin_edges();
  summary->clear_bin_fractions();
  if (sketch.empty() || bins < 1) return;
  std::vector<double> edges = {sketch.min()};
  for (int i = 1; i < bins; ++i) {
    const double edge = sketch.Quantile(static_cast<double>(i) / bins);
    if (edge > edges.back()) edges.push_back(edge);
  }
  if (sketch.max() > edges.back() || edges.size() == 1) edges.push_back(sketch.max());
  std::vector<int64_t> weights(edges.size() - 1, 0);
  for (const QuantileSketch::WeightedValue& item : sketch.SortedView()) {
    size_t bin = std::upper_bound(edges.begin(), edges.end(), item.value) - edges.begin();
    bin = std::min(std::max<size_t>(bin, 1), weights.size()) - 1;
    weights[bin] += item.weight;
  }
  for (const double edge : edges) summary->add_bin_edges(edge);
  for (const int64_t w : weights) {
    summary->add_bin_fractions(static_cast<double>(w) / static_cast<double>(sketch.count()));
  }
}

v1::DistributionProfile ColumnSummary::ToProto(absl::string_view name, int bins) const {
  v1::DistributionProfile profile;
  profile.set_name(std::string(name));
  profile.set_count(count_);
  profile.set_missing_rate(count_ > 0 ? static_cast<double>(missing_count_) / count_ : 0);
  if (kind_ == Kind::kCategorical) {
    *profile.mutable_categorical() = categories_.ToProto();
    profile.mutable_categorical()->set_out_of_range_count(out_of_range_count_);
    return profile;
  }
  v1::NumericSummary* numeric = profile.mutable_numeric();
  numeric->set_count(numbers_);
  numeric->set_mean(mean());
  numeric->set_stddev(stddev());
  numeric->set_out_of_range_count(out_of_range_count_);
  if (sketch_ && !sketch_->empty()) {
    numeric->set_min_value(sketch_->min());
    numeric->set_max_value(sketch_->max());
    numeric->set_quantile_sketch(sketch_->Serialize());
    numeric->set_rank_error(sketch_->rank_error());
    FillBins(*sketch_, bins, numeric);
  }
  return profile;
}

absl::StatusOr<ColumnSummary> ColumnSummary::FromProto(const v1::DistributionProfile& profile) {
  return FromProto(profile, Options());
}

absl::StatusOr<ColumnSummary> ColumnSummary::FromProto(const v1::DistributionProfile& profile,
                                                       Options options) {
  if (profile.count() < 0 || profile.missing_rate() < 0 || profile.missing_rate() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("column '", profile.name(), "': count or missing rate out of range"));
  }
  if (profile.has_categorical()) {
    options.kind = Kind::kCategorical;
  } else if (profile.has_numeric()) {
    options.kind = Kind::kNumeric;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "column '", profile.name(), "' has neither a numeric nor a categorical summary"));
  }
  ColumnSummary summary(options);
  summary.count_ = profile.count();
  summary.missing_count_ =
      std::llround(profile.missing_rate() * static_cast<double>(profile.count()));
  if (summary.kind_ == Kind::kCategorical) {
    absl::StatusOr<CategoryCounts> counts =
        CategoryCounts::FromProto(profile.categorical(), options.categories);
    if (!counts.ok()) return counts.status();
    summary.categories_ = *std::move(counts);
    summary.out_of_range_count_ = profile.categorical().out_of_range_count();
    return summary;
  }
  const v1::NumericSummary& numeric = profile.numeric();
  if (numeric.count() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("column '", profile.name(), "': negative count"));
  }
  summary.numbers_ = numeric.count();
  const double n = static_cast<double>(numeric.count());
  summary.sum_ = numeric.mean() * n;
  summary.sum_squares_ =
      (numeric.stddev() * numeric.stddev() + numeric.mean() * numeric.mean()) * n;
  summary.out_of_range_count_ = numeric.out_of_range_count();
  if (numeric.quantile_sketch().empty()) {
    summary.sketch_.reset();
    return summary;
  }
  absl::StatusOr<QuantileSketch> sketch = QuantileSketch::Parse(numeric.quantile_sketch());
  if (!sketch.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("column '", profile.name(), "': ", sketch.status().message()));
  }
  if (sketch->count() != numeric.count()) {
    return absl::InvalidArgumentError(absl::StrCat("column '", profile.name(), "': sketch of ",
                                                   sketch->count(), " values, summary of ",
                                                   numeric.count()));
  }
  summary.sketch_ = *std::move(sketch);
  return summary;
}

}  // namespace fabrique::monitoring
