#include "libs/training/reference_profile.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "libs/monitoring/sketch/category_counts.h"
#include "libs/monitoring/sketch/quantile_sketch.h"

namespace fabrique::training {

namespace {

// Names tracked by the training set's category counts; beyond them values are still counted
// exactly, in other_count. High enough that only identifier-like features reach it.
constexpr int kTrackedCategories = 100000;

}  // namespace

v1::NumericSummary SummarizeNumeric(absl::Span<const float> values, int bins,
                                    uint64_t sketch_seed) {
  monitoring::QuantileSketch::Options sketch_options;
  sketch_options.seed = sketch_seed;
  monitoring::QuantileSketch sketch(sketch_options);
  std::vector<float> present;
  present.reserve(values.size());
  double sum = 0, sum_sq = 0;
  float low = 0, high = 0;
  for (float v : values) {
    if (std::isnan(v)) continue;
    if (present.empty() || v < low) low = v;
    if (present.empty() || v > high) high = v;
    present.push_back(v);
    sketch.Update(v);
    sum += v;
    sum_sq += static_cast<double>(v) * v;
  }
  v1::NumericSummary summary;
  summary.set_count(static_cast<int64_t>(present.size()));
  if (present.empty()) return summary;
  const double n = static_cast<double>(present.size());
  summary.set_mean(sum / n);
  summary.set_stddev(std::sqrt(std::max(0.0, sum_sq / n - summary.mean() * summary.mean())));
  summary.set_min_value(low);
  summary.set_max_value(high);
  summary.set_quantile_sketch(sketch.Serialize());
  summary.set_rank_error(sketch.rank_error());
  // Equal-frequency edges: the k/bins quantiles, with repeated edges (ties) merged. Each is
  // selected in the part after the previous one, not by sorting: a 784-pixel image feature of
  // 54,000 rows has 42 million values.
  std::vector<double> edges = {low};
  size_t from = 0;
  for (int k = 1; k < bins; ++k) {
    const size_t at = static_cast<size_t>(k * n / bins);
    std::nth_element(present.begin() + from, present.begin() + at, present.end());
    from = at;
    const double edge = present[at];
    if (edge > edges.back()) edges.push_back(edge);
  }
  if (high > edges.back() || edges.size() == 1) edges.push_back(high);
  std::vector<int64_t> counts(edges.size() - 1, 0);
  for (double v : present) {
    // The bin whose lower edge is the last one <= v; the maximum stays in the last bin.
    size_t bin = std::upper_bound(edges.begin(), edges.end(), v) - edges.begin();
    bin = std::min(std::max<size_t>(bin, 1), counts.size()) - 1;
    ++counts[bin];
  }
  for (double edge : edges) summary.add_bin_edges(edge);
  for (int64_t c : counts) summary.add_bin_fractions(static_cast<double>(c) / n);
  return summary;
}

v1::CategoricalSummary SummarizeCategorical(const std::vector<std::string>& values,
                                            const std::vector<uint8_t>& missing, int top) {
  monitoring::CategoryCounts::Options options;
  options.max_categories = kTrackedCategories;
  monitoring::CategoryCounts counts(options);
  for (size_t i = 0; i < values.size(); ++i) {
    if ((!missing.empty() && missing[i]) || values[i].empty()) continue;
    counts.Add(values[i]);
  }
  return counts.ToProto(std::max(0, top));
}

v1::ReferenceProfile BuildReferenceProfile(const ProfileInput& input) {
  v1::ReferenceProfile profile;
  profile.set_dataset_id(input.dataset_id);
  profile.set_row_count(input.train->rows);
  const int64_t rows = input.train->rows;
  // Each sketch its own seed, in the profile's order.
  uint64_t next_seed = input.sketch_seed;
  for (const RawColumn& column : input.train->columns) {
    v1::DistributionProfile* feature = profile.add_features();
    feature->set_name(column.name);
    feature->set_count(rows);
    int64_t missing_rows = 0;
    if (column.categorical) {
      for (int64_t i = 0; i < rows; ++i) {
        missing_rows += (!column.missing.empty() && column.missing[i]) || column.strings[i].empty();
      }
      *feature->mutable_categorical() = SummarizeCategorical(column.strings, column.missing);
    } else {
      // A row is missing when any of its elements is (a vector comes whole or not at all).
      for (int64_t i = 0; i < rows; ++i) {
        bool missing = false;
        for (int k = 0; k < column.width; ++k)
          missing |= std::isnan(column.numeric[i * column.width + k]);
        missing_rows += missing;
      }
      *feature->mutable_numeric() = SummarizeNumeric(column.numeric, 10, next_seed++);
    }
    feature->set_missing_rate(rows > 0 ? static_cast<double>(missing_rows) / rows : 0);
  }
  // The label, and the validation predictions.
  v1::DistributionProfile* label = profile.mutable_label();
  label->set_name("label");
  label->set_count(static_cast<int64_t>(input.labels->size()));
  if (input.task == v1::TASK_REGRESSION) {
    std::vector<float> values(input.labels->begin(), input.labels->end());
    *label->mutable_numeric() = SummarizeNumeric(values, 10, next_seed++);
  } else {
    std::vector<std::string> classes;
    for (double y : *input.labels) classes.push_back(absl::StrCat(static_cast<int64_t>(y)));
    *label->mutable_categorical() = SummarizeCategorical(classes, {}, 1000);
  }
  if (input.validation_predictions == nullptr) return profile;
  const std::vector<double>& p = *input.validation_predictions;
  const auto add_numeric = [&](const std::string& name, const std::vector<float>& values) {
    v1::DistributionProfile* out = profile.add_predictions();
    out->set_name(name);
    out->set_count(static_cast<int64_t>(values.size()));
    *out->mutable_numeric() = SummarizeNumeric(values, 10, next_seed++);
  };
  if (input.task == v1::TASK_MULTICLASS_CLASSIFICATION && input.num_classes > 0) {
    const size_t n = p.size() / input.num_classes;
    std::vector<std::string> predicted;
    for (size_t i = 0; i < n; ++i) {
      int best = 0;
      for (int c = 1; c < input.num_classes; ++c) {
        if (p[i * input.num_classes + c] > p[i * input.num_classes + best]) best = c;
      }
      predicted.push_back(absl::StrCat(best));
    }
    v1::DistributionProfile* out = profile.add_predictions();
    out->set_name("class");
    out->set_count(static_cast<int64_t>(n));
    *out->mutable_categorical() = SummarizeCategorical(predicted, {}, 1000);
    for (int c = 0; c < input.num_classes; ++c) {
      std::vector<float> column;
      for (size_t i = 0; i < n; ++i)
        column.push_back(static_cast<float>(p[i * input.num_classes + c]));
      add_numeric(absl::StrCat("probability_", c), column);
    }
  } else {
    add_numeric(input.task == v1::TASK_REGRESSION ? "prediction" : "probability",
                std::vector<float>(p.begin(), p.end()));
  }
  return profile;
}

}  // namespace fabrique::training
