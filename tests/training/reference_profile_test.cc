// The reference profile's sketches: quantiles of each numeric feature, label and prediction
// within the stated error of the training data's exact quantiles (exact for small data), exact
// category counts beyond the top 20, and the same profile from the same data and seed.

#include "libs/training/reference_profile.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "libs/monitoring/sketch/quantile_sketch.h"
#include "libs/monitoring/sketch/reference_cdf.h"
#include "libs/training/tabular_data.h"

namespace fabrique::training {
namespace {

// Largest distance from q to the exact rank interval of the sketch's q-quantile.
double WorstQuantileMiss(const monitoring::QuantileSketch& sketch, std::vector<float> data) {
  data.erase(std::remove_if(data.begin(), data.end(), [](float v) { return std::isnan(v); }),
             data.end());
  std::sort(data.begin(), data.end());
  const double n = static_cast<double>(data.size());
  double worst = 0;
  for (int i = 1; i < 200; ++i) {
    const double q = i / 200.0;
    const float v = static_cast<float>(sketch.Quantile(q));
    const double low = (std::lower_bound(data.begin(), data.end(), v) - data.begin()) / n;
    const double high = (std::upper_bound(data.begin(), data.end(), v) - data.begin()) / n;
    worst = std::max({worst, low - q, q - high});
  }
  return worst;
}

monitoring::QuantileSketch SketchOf(const v1::NumericSummary& summary) {
  absl::StatusOr<monitoring::QuantileSketch> sketch =
      monitoring::QuantileSketch::Parse(summary.quantile_sketch());
  REQUIRE(sketch.ok());
  return *std::move(sketch);
}

struct Data {
  RawTable train;
  std::vector<double> labels;
  std::vector<double> predictions;
};

Data MakeData(int rows) {
  std::mt19937_64 g(42);
  Data d;
  d.train.rows = rows;
  RawColumn amount;  // Skewed, with missing values.
  amount.name = "amount";
  RawColumn pixels;  // A float vector: its elements pooled.
  pixels.name = "pixels";
  pixels.width = 3;
  RawColumn shop;  // 50 categories: more than the old top 20.
  shop.name = "shop";
  shop.categorical = true;
  for (int i = 0; i < rows; ++i) {
    amount.numeric.push_back(
        i % 50 == 0 ? NAN : static_cast<float>(std::lognormal_distribution<>(3, 1)(g)));
    for (int k = 0; k < 3; ++k) {
      pixels.numeric.push_back(static_cast<float>(std::uniform_int_distribution<>(0, 255)(g)));
    }
    shop.strings.push_back(absl::StrCat("shop-", std::geometric_distribution<>(0.08)(g) % 50));
    d.labels.push_back(std::normal_distribution<>(100, 15)(g));
    d.predictions.push_back(d.labels.back() + std::normal_distribution<>(0, 5)(g));
  }
  d.train.columns = {amount, pixels, shop};
  return d;
}

v1::ReferenceProfile Profile(const Data& d, uint64_t seed) {
  ProfileInput input{&d.train, &d.labels, v1::TASK_REGRESSION, 0, &d.predictions, "ds"};
  input.sketch_seed = seed;
  return BuildReferenceProfile(input);
}

TEST_CASE("Sketch quantiles match the training data's within the stated error", "[profile]") {
  const Data d = MakeData(200000);
  const v1::ReferenceProfile p = Profile(d, 1);
  REQUIRE(p.features_size() == 3);
  const auto check = [](const v1::NumericSummary& summary, const std::vector<float>& data) {
    const monitoring::QuantileSketch sketch = SketchOf(summary);
    CHECK(sketch.count() == summary.count());
    CHECK(sketch.min() == summary.min_value());
    CHECK(sketch.max() == summary.max_value());
    CHECK(summary.rank_error() == sketch.rank_error());
    CHECK(summary.rank_error() > 0);
    CHECK(summary.rank_error() <= 0.01);
    CHECK(WorstQuantileMiss(sketch, data) <= summary.rank_error());
    CHECK(summary.bin_edges_size() == 11);  // The bins stay for older readers.
  };
  check(p.features(0).numeric(), d.train.columns[0].numeric);
  CHECK(p.features(0).numeric().count() == 200000 - 4000);
  check(p.features(1).numeric(), d.train.columns[1].numeric);
  CHECK(p.features(1).numeric().count() == 600000);
  check(p.label().numeric(), std::vector<float>(d.labels.begin(), d.labels.end()));
  REQUIRE(p.predictions_size() == 1);
  check(p.predictions(0).numeric(), std::vector<float>(d.predictions.begin(), d.predictions.end()));

  // Every category listed with its exact count.
  const v1::CategoricalSummary& shops = p.features(2).categorical();
  CHECK(shops.categories_size() == shops.distinct_count());
  CHECK(shops.categories_size() > 20);
  CHECK(shops.other_count() == 0);
  int64_t total = 0;
  for (const v1::CategoryFrequency& c : shops.categories()) {
    CHECK(c.count() == std::count(d.train.columns[2].strings.begin(),
                                  d.train.columns[2].strings.end(), c.value()));
    total += c.count();
  }
  CHECK(total == 200000);

  // The monitor reads the sketch, not the bins.
  absl::StatusOr<monitoring::ReferenceCdf> cdf =
      monitoring::ReferenceCdf::FromSummary(p.features(0).numeric());
  REQUIRE(cdf.ok());
  CHECK(cdf->from_sketch());
}

TEST_CASE("Small training sets have exact quantiles", "[profile]") {
  const Data d = MakeData(1000);
  const v1::ReferenceProfile p = Profile(d, 1);
  const v1::NumericSummary& amount = p.features(0).numeric();
  CHECK(amount.rank_error() == 0);
  const monitoring::QuantileSketch sketch = SketchOf(amount);
  CHECK(sketch.exact());
  std::vector<float> sorted;
  for (float v : d.train.columns[0].numeric)
    if (!std::isnan(v)) sorted.push_back(v);
  std::sort(sorted.begin(), sorted.end());
  REQUIRE(sketch.count() == static_cast<int64_t>(sorted.size()));
  for (size_t i = 1; i <= sorted.size(); ++i) {
    CHECK(sketch.Quantile(static_cast<double>(i) / sorted.size()) == sorted[i - 1]);
  }
}

TEST_CASE("Same data and seed: the same profile", "[profile]") {
  const Data d = MakeData(50000);
  CHECK(Profile(d, 7).SerializeAsString() == Profile(d, 7).SerializeAsString());
  CHECK(Profile(d, 7).features(0).numeric().quantile_sketch() !=
        Profile(d, 8).features(0).numeric().quantile_sketch());
}

}  // namespace
}  // namespace fabrique::training
