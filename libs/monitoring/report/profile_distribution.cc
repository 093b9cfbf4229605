#include "libs/monitoring/report/profile_distribution.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "libs/monitoring/sketch/quantile_sketch.h"

namespace fabrique::monitoring::report {
namespace {

std::optional<QuantileSketch> SketchOf(const v1::NumericSummary& summary) {
  if (summary.quantile_sketch().empty()) return std::nullopt;
  absl::StatusOr<QuantileSketch> sketch = QuantileSketch::Parse(summary.quantile_sketch());
  if (!sketch.ok() || sketch->count() == 0) return std::nullopt;
  return *std::move(sketch);
}

// Ten bins at the sketch's deciles, equal values merged; empty when they are not finite.
std::vector<double> DecileEdges(const QuantileSketch& sketch) {
  std::vector<double> edges;
  for (int i = 0; i <= 10; ++i) {
    const double q = sketch.Quantile(i / 10.0);
    if (!std::isfinite(q)) return {};
    if (edges.empty() || q > edges.back()) edges.push_back(q);
  }
  if (edges.size() < 2) {
    // One value only: one bin around it.
    const double v = edges.empty() ? 0 : edges.front();
    return {v - 0.5, v + 0.5};
  }
  return edges;
}

// Shares of the sketch's values in each bin; the first and last bins are open-ended, as the
// drift tests count live data.
std::vector<double> SharesAt(const QuantileSketch& sketch, const std::vector<double>& edges) {
  std::vector<double> shares;
  double below = 0;
  for (size_t i = 1; i + 1 < edges.size(); ++i) {
    const double cdf = sketch.Cdf(edges[i]);
    shares.push_back(std::max(0.0, cdf - below));
    below = std::max(below, cdf);
  }
  shares.push_back(std::max(0.0, 1 - below));
  return shares;
}

bool AllFinite(const std::vector<double>& values) {
  return std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
}

void FillNumeric(const v1::NumericSummary& reference, const v1::NumericSummary* live,
                 Distribution* d) {
  std::vector<double> edges(reference.bin_edges().begin(), reference.bin_edges().end());
  std::vector<double> reference_shares(reference.bin_fractions().begin(),
                                       reference.bin_fractions().end());
  const std::optional<QuantileSketch> reference_sketch = SketchOf(reference);
  if ((edges.size() < 2 || reference_shares.size() + 1 != edges.size()) &&
      reference_sketch.has_value()) {
    edges = DecileEdges(*reference_sketch);
    reference_shares = SharesAt(*reference_sketch, edges);
  }
  if (edges.size() < 2 || reference_shares.size() + 1 != edges.size() || !AllFinite(edges)) {
    return;
  }
  d->bin_edges = std::move(edges);
  d->reference_shares = std::move(reference_shares);
  if (live == nullptr) return;
  if (static_cast<size_t>(live->bin_fractions_size()) + 1 == d->bin_edges.size()) {
    d->current_shares.assign(live->bin_fractions().begin(), live->bin_fractions().end());
  } else if (const std::optional<QuantileSketch> sketch = SketchOf(*live); sketch.has_value()) {
    d->current_shares = SharesAt(*sketch, d->bin_edges);
  }
}

// Shares by category of one summary; the folded rest under kOtherCategory.
absl::flat_hash_map<std::string, double> SharesOf(const v1::CategoricalSummary& summary) {
  absl::flat_hash_map<std::string, double> shares;
  for (const v1::CategoryFrequency& c : summary.categories()) shares[c.value()] += c.fraction();
  if (summary.other_fraction() > 0) shares[kOtherCategory] += summary.other_fraction();
  return shares;
}

void FillCategorical(const v1::CategoricalSummary& reference, const v1::CategoricalSummary* live,
                     size_t max_categories, Distribution* d) {
  const absl::flat_hash_map<std::string, double> reference_shares = SharesOf(reference);
  absl::flat_hash_map<std::string, double> live_shares;
  if (live != nullptr) live_shares = SharesOf(*live);
  // Reference categories first (most frequent first), then the live window's new ones.
  std::vector<std::string> order;
  for (const v1::CategoryFrequency& c : reference.categories()) order.push_back(c.value());
  if (live != nullptr) {
    for (const v1::CategoryFrequency& c : live->categories()) {
      if (!reference_shares.contains(c.value())) order.push_back(c.value());
    }
  }
  // Bars past the cap fold into "(other)" on both sides.
  double reference_other = 0;
  double live_other = 0;
  auto share = [](const absl::flat_hash_map<std::string, double>& shares, const std::string& c) {
    auto it = shares.find(c);
    return it == shares.end() ? 0.0 : it->second;
  };
  const size_t keep = max_categories > 0 ? max_categories - 1 : 0;
  for (size_t i = 0; i < order.size(); ++i) {
    if (order[i] == kOtherCategory) continue;
    if (d->categories.size() < keep) {
      d->categories.push_back(order[i]);
      d->reference_shares.push_back(share(reference_shares, order[i]));
      if (live != nullptr) d->current_shares.push_back(share(live_shares, order[i]));
    } else {
      reference_other += share(reference_shares, order[i]);
      live_other += share(live_shares, order[i]);
    }
  }
  reference_other += share(reference_shares, kOtherCategory);
  live_other += share(live_shares, kOtherCategory);
  if (reference_other > 0 || live_other > 0) {
    d->categories.push_back(kOtherCategory);
    d->reference_shares.push_back(reference_other);
    if (live != nullptr) d->current_shares.push_back(live_other);
  }
}

}  // namespace

Distribution DistributionFromProfiles(const v1::DistributionProfile& reference,
                                      const v1::DistributionProfile& live, size_t max_categories) {
  Distribution d;
  if (reference.has_numeric()) {
    FillNumeric(reference.numeric(), live.has_numeric() ? &live.numeric() : nullptr, &d);
  } else if (reference.has_categorical()) {
    FillCategorical(reference.categorical(), live.has_categorical() ? &live.categorical() : nullptr,
                    max_categories, &d);
  }
  return d;
}

}  // namespace fabrique::monitoring::report
