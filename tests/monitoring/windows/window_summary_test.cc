// One window's summary: what each kind of value becomes, outputs and predicted labels, merges,
// its persisted bytes, and memory that does not grow with the records.

#include "libs/monitoring/windows/window_summary.h"

#include "catch2/catch.hpp"
#include "window_test_util.h"

namespace fabrique::monitoring {
namespace {

using testing::Bool;
using testing::Double;
using testing::Int;
using testing::kStart;
using testing::Prediction;
using testing::RequireSameSummaries;
using testing::Scored;
using testing::String;

v1::Value Vector(std::vector<float> values) {
  v1::Value value;
  for (float v : values) value.mutable_float_vector_value()->add_values(v);
  return value;
}

v1::PredictionRecord WithInputs(const std::string& id, std::vector<v1::Value> inputs) {
  v1::PredictionRecord record = Prediction(id, "churn", 1, kStart);
  record.clear_predicted_label();
  for (v1::Value& value : inputs) *record.add_inputs() = std::move(value);
  return record;
}

TEST_CASE("A window counts records, shadow and canary ones, and the last prediction time",
          "[windows]") {
  WindowSummary window;
  v1::PredictionRecord shadow = Prediction("p1", "churn", 1, kStart + absl::Minutes(5));
  shadow.set_shadow(true);
  v1::PredictionRecord canary = Prediction("p2", "churn", 1, kStart + absl::Minutes(2));
  canary.set_canary(true);
  window.Add(shadow);
  window.Add(canary);
  window.Add(Prediction("p3", "churn", 1, kStart));
  CHECK(window.predictions() == 3);
  CHECK(window.shadow_predictions() == 1);
  CHECK(window.canary_predictions() == 1);
  CHECK(window.last_prediction_time() == kStart + absl::Minutes(5));
}

TEST_CASE("Numbers are numeric, booleans and strings categorical, null missing", "[windows]") {
  WindowSummary window;
  window.Add(WithInputs("p1", {Double(1.5), Bool(true), String("fr"), v1::Value(), Int(4)}));
  window.Add(WithInputs("p2", {Double(2.5), Bool(false), String("de"), Double(3), Int(6)}));
  const auto& in = window.inputs();
  REQUIRE(in.size() == 5);
  CHECK(in[0].summary().kind() == ColumnSummary::Kind::kNumeric);
  CHECK(in[0].summary().mean() == 2.0);
  CHECK(in[1].summary().kind() == ColumnSummary::Kind::kCategorical);
  CHECK(in[1].summary().categories().Count("true") == 1);
  CHECK(in[2].summary().categories().Count("de") == 1);
  // A column missing in its first record takes the kind of its first value.
  CHECK(in[3].summary().kind() == ColumnSummary::Kind::kNumeric);
  CHECK(in[3].summary().missing_count() == 1);
  CHECK(in[3].summary().count() == 2);
  CHECK(in[4].summary().mean() == 5.0);
}

TEST_CASE("A column's first non-missing value sets its kind; the other kind counts as missing",
          "[windows]") {
  WindowSummary window;
  window.Add(WithInputs("p1", {v1::Value(), Double(1)}));
  window.Add(WithInputs("p2", {String("a"), String("x")}));
  window.Add(WithInputs("p3", {Double(7), Double(2)}));
  const auto& in = window.inputs();
  CHECK(in[0].summary().kind() == ColumnSummary::Kind::kCategorical);
  CHECK(in[0].summary().count() == 3);
  CHECK(in[0].summary().missing_count() == 2);
  CHECK(in[0].summary().categories().Count("a") == 1);
  CHECK(in[1].summary().kind() == ColumnSummary::Kind::kNumeric);
  CHECK(in[1].summary().missing_count() == 1);
  CHECK(in[1].summary().number_count() == 2);
}

TEST_CASE("A float vector pools its elements; a record with fewer inputs counts them missing",
          "[windows]") {
  WindowSummary window;
  window.Add(WithInputs("p1", {Vector({1, 2, 3}), Double(1)}));
  window.Add(WithInputs("p2", {Vector({5})}));
  const auto& in = window.inputs();
  CHECK(in[0].summary().number_count() == 4);
  CHECK(in[0].summary().mean() == 2.75);
  CHECK(in[1].summary().missing_count() == 1);
  CHECK(in[1].summary().count() == 2);
  // A position first seen in a later record was missing in the earlier ones.
  window.Add(WithInputs("p3", {Double(0), Double(0), Double(9)}));
  CHECK(in[2].summary().count() == 3);
  CHECK(in[2].summary().missing_count() == 2);
}

TEST_CASE("Outputs: one element is its name's column, n elements n columns, and the label",
          "[windows]") {
  WindowSummary window;
  for (int i = 0; i < 4; ++i) {
    v1::PredictionRecord record = Prediction(absl::StrCat("p", i), "churn", 1, kStart);
    record.set_predicted_label(i % 2 == 0 ? "yes" : "no");
    v1::ModelOutput* probability = record.add_outputs();
    probability->set_name("probability");
    probability->add_values(0.25f * i);
    v1::ModelOutput* probabilities = record.add_outputs();
    probabilities->set_name("probabilities");
    for (float p : {0.2f, 0.3f, 0.5f}) probabilities->add_values(p);
    window.Add(record);
  }
  std::vector<std::string> names;
  for (const auto& [name, column] : window.outputs()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"probability", "probabilities_0", "probabilities_1",
                                          "probabilities_2", "predicted_label"});
  CHECK(window.outputs()[0].second.summary().mean() == Approx(0.375));
  CHECK(window.outputs()[3].second.summary().mean() == Approx(0.5));
  const ColumnSummary& label = window.outputs()[4].second.summary();
  CHECK(label.kind() == ColumnSummary::Kind::kCategorical);
  CHECK(label.categories().Count("yes") == 2);
}

TEST_CASE("Merging windows equals one window of every record (exact while small)", "[windows]") {
  WindowSummary all, first, second;
  for (int i = 0; i < 500; ++i) {
    const v1::PredictionRecord record =
        Scored(absl::StrCat("p", i), "churn", 1, kStart + absl::Seconds(i), i * 0.5,
               i % 3 == 0 ? "a" : "b", 0.001f * i);
    all.Add(record);
    (i < 200 ? first : second).Add(record);
  }
  first.Merge(second);
  RequireSameSummaries(first.ToLive(kStart, kStart + absl::Hours(1)),
                       all.ToLive(kStart, kStart + absl::Hours(1)));
}

TEST_CASE("Merged windows of different kinds keep the first kind and count the rest missing",
          "[windows]") {
  WindowSummary numbers, strings, nothing;
  numbers.Add(WithInputs("p1", {Double(1)}));
  strings.Add(WithInputs("p2", {String("x")}));
  strings.Add(WithInputs("p3", {String("y")}));
  nothing.Add(WithInputs("p4", {v1::Value()}));
  WindowSummary merged = nothing;
  merged.Merge(strings);  // The missing-only column takes the categorical kind.
  merged.Merge(numbers);  // A settled column keeps it: the number counts as missing.
  const ColumnSummary& column = merged.inputs()[0].summary();
  CHECK(column.kind() == ColumnSummary::Kind::kCategorical);
  CHECK(column.count() == 4);
  CHECK(column.missing_count() == 2);
}

TEST_CASE("A window's bytes read back the same summary; corrupt bytes are DATA_LOSS", "[windows]") {
  WindowSummary window;
  for (int i = 0; i < 300; ++i) {
    v1::PredictionRecord record = Scored(absl::StrCat("p", i), "churn", 1,
                                         kStart + absl::Seconds(i), i, i % 2 ? "a" : "b", 0.5f);
    record.set_predicted_label(i % 2 ? "1" : "0");
    record.set_canary(i % 5 == 0);
    window.Add(record);
  }
  absl::StatusOr<WindowSummary> read = WindowSummary::Decode(window.Encode());
  INTAKE_REQUIRE_OK(read);
  RequireSameSummaries(read->ToLive(kStart, kStart + absl::Hours(1)),
                       window.ToLive(kStart, kStart + absl::Hours(1)));
  const std::string bytes = window.Encode();
  CHECK(WindowSummary::Decode(bytes.substr(0, bytes.size() - 3)).status().code() ==
        absl::StatusCode::kDataLoss);
  CHECK(WindowSummary::Decode("nonsense").status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("A window of a million records keeps memory of the sketch's size, not the records'",
          "[windows]") {
  WindowSummary window;
  v1::PredictionRecord record = Scored("p", "churn", 1, kStart, 0, "a", 0.5f);
  for (int i = 0; i < 1'000'000; ++i) {
    record.mutable_inputs(0)->set_double_value(std::sin(i) * 1000);
    record.mutable_inputs(1)->set_string_value(i % 7 == 0 ? "rare" : "common");
    record.mutable_outputs(0)->set_values(0, static_cast<float>(i % 1000) / 1000);
    window.Add(record);
  }
  CHECK(window.predictions() == 1'000'000);
  CHECK(window.inputs()[0].summary().number_count() == 1'000'000);
  // Two numeric sketches of k = 400 (about 3k values plus 8 per level) and two categories.
  CHECK(window.ApproxBytes() < 64 * 1024);
  CHECK(window.Encode().size() < 64 * 1024);
}

}  // namespace
}  // namespace fabrique::monitoring
