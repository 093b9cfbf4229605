// What is handed over with a model: the reference profile (numeric bins of equal frequency with
// ties merged, missing rates, category frequencies, the label and the validation predictions),
// the model card, and the preprocessing it learned (standardisation, missing indicators,
// vocabularies with an unknown bucket).

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "libs/training/model_card.h"
#include "libs/training/reference_profile.h"
#include "libs/training/tabular_data.h"

namespace fabrique::training {
namespace {

double Sum(const google::protobuf::RepeatedField<double>& values) {
  double sum = 0;
  for (double v : values) sum += v;
  return sum;
}

TEST_CASE("Numeric summaries: equal-frequency bins, ties merged, missing skipped", "[profile]") {
  std::vector<float> values;
  for (int i = 0; i < 100; ++i) values.push_back(static_cast<float>(i));
  values.push_back(NAN);
  const v1::NumericSummary s = SummarizeNumeric(values, 4);
  CHECK(s.count() == 100);
  CHECK(s.mean() == Approx(49.5));
  CHECK(s.min_value() == 0);
  CHECK(s.max_value() == 99);
  REQUIRE(s.bin_edges_size() == 5);
  CHECK(s.bin_edges(1) == 25);
  CHECK(s.bin_edges(4) == 99);
  for (double f : s.bin_fractions()) CHECK(f == Approx(0.25));

  // Mostly one value: its bins merge; fractions still sum to 1.
  std::vector<float> skewed(90, 0.0f);
  for (int i = 0; i < 10; ++i) skewed.push_back(static_cast<float>(i + 1));
  const v1::NumericSummary t = SummarizeNumeric(skewed, 10);
  CHECK(t.bin_edges_size() < 11);
  CHECK(t.bin_fractions(0) >= 0.9);
  CHECK(Sum(t.bin_fractions()) == Approx(1.0));

  const v1::NumericSummary constant = SummarizeNumeric(std::vector<float>(5, 3.0f));
  REQUIRE(constant.bin_fractions_size() == 1);
  CHECK(constant.bin_fractions(0) == 1.0);
  CHECK(SummarizeNumeric(std::vector<float>{NAN}).count() == 0);
}

TEST_CASE("Categorical summaries and a whole reference profile", "[profile]") {
  RawTable train;
  train.rows = 6;
  RawColumn amount;
  amount.name = "amount";
  amount.numeric = {1, 2, NAN, 4, 5, 6};
  RawColumn country;
  country.name = "country";
  country.categorical = true;
  country.strings = {"FR", "FR", "DE", "", "FR", "IT"};
  train.columns = {amount, country};
  const std::vector<double> labels = {0, 1, 1, 0, 1, 1};
  const std::vector<double> predictions = {0.2, 0.9, 0.7};
  const v1::ReferenceProfile p = BuildReferenceProfile(
      {&train, &labels, v1::TASK_BINARY_CLASSIFICATION, 2, &predictions, "ds-1"});
  CHECK(p.dataset_id() == "ds-1");
  CHECK(p.row_count() == 6);
  REQUIRE(p.features_size() == 2);
  CHECK(p.features(0).missing_rate() == Approx(1.0 / 6));
  CHECK(p.features(0).numeric().count() == 5);
  CHECK(p.features(1).missing_rate() == Approx(1.0 / 6));
  const v1::CategoricalSummary& c = p.features(1).categorical();
  REQUIRE(c.categories_size() == 3);
  CHECK(c.categories(0).value() == "FR");
  CHECK(c.categories(0).fraction() == Approx(0.6));
  CHECK(c.distinct_count() == 3);
  CHECK(p.label().categorical().categories(0).value() == "1");
  REQUIRE(p.predictions_size() == 1);
  CHECK(p.predictions(0).name() == "probability");
  CHECK(p.predictions(0).numeric().count() == 3);

  const v1::CategoricalSummary top1 = SummarizeCategorical(country.strings, {}, 1);
  CHECK(top1.other_fraction() == Approx(0.4));
}

TEST_CASE("Preprocessing learns means, spreads, indicators and vocabularies", "[profile]") {
  RawTable train;
  train.rows = 4;
  RawColumn x;
  x.name = "x";
  x.numeric = {1, 3, NAN, 5};
  RawColumn v;
  v.name = "v";
  v.width = 2;
  v.numeric = {0, 7, 0, 7, 0, 7, 0, 7};  // Constant elements.
  RawColumn c;
  c.name = "c";
  c.categorical = true;
  c.strings = {"b", "a", "b", ""};
  train.columns = {x, v, c};
  REQUIRE(train.Validate().ok());
  const Preprocessing p = FitPreprocessing(train);
  REQUIRE(p.numeric.size() == 2);
  CHECK(p.numeric[0].mean[0] == Approx(3));
  CHECK(p.numeric[0].missing_indicator);
  CHECK(p.numeric[1].stddev[0] == 1.0f);  // Constant: not divided by zero.
  CHECK_FALSE(p.numeric[1].missing_indicator);
  REQUIRE(p.categorical.size() == 1);
  CHECK(p.categorical[0].vocabulary == std::vector<std::string>{"b", "a"});  // By frequency.
  // 1 + 2 values, 1 indicator, 3 one-hot slots (unknown, b, a).
  CHECK(p.EncodedWidth() == 7);
  const std::vector<float> row = Encode(p, train.Take({2}));  // x missing, c = "b".
  CHECK(row[0] == 0.0f);  // Imputed with the mean: 0 once standardised.
  CHECK(row[3] == 1.0f);  // The missing indicator.
  CHECK(row[5] == 1.0f);  // "b" is index 1 after the unknown bucket.
  RawTable bad = train;
  bad.columns[0].numeric.pop_back();
  CHECK(bad.Validate().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("The model card states data, lineage, training, metrics and limits", "[profile]") {
  ModelCardInput in;
  in.model_name = "fraud";
  in.use_case_id = "card-fraud";
  in.family = "MLP 64-32, relu";
  in.run_id = "01RUN";
  in.dataset_id = "ds-7";
  in.features = {"payments:amount (schema v2)", "payments:country (schema v2)"};
  in.train_rows = 800;
  in.validation_rows = 200;
  in.parameters = {{"learning_rate", "0.001"}};
  v1::Metric auc;
  auc.set_name("auc");
  auc.set_value(0.91);
  auc.mutable_baseline()->set_value(0.5);
  auc.set_higher_is_better(true);
  in.metrics = {auc};
  const std::string card = RenderModelCard(in);
  for (const char* expected :
       {"# Model card: fraud", "card-fraud", "ds-7", "01RUN", "payments:amount (schema v2)",
        "800 for training", "| auc | 0.9100 | 0.5000 | higher |", "## Limitations",
        "learning_rate: 0.001"}) {
    INFO(expected);
    CHECK(absl::StrContains(card, expected));
  }
}

}  // namespace
}  // namespace fabrique::training
