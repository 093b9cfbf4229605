// How a logged prediction and its outcome become a labelled row, and how rows are read for the
// metrics: every kind of label each task accepts, predicted labels without scores, and the rows
// left out with their reason.

#include "libs/monitoring/backtest/labelled_rows.h"

#include <cmath>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "google/protobuf/text_format.h"
#include "libs/monitoring/backtest/row_resolution.h"

namespace fabrique::monitoring {
namespace {

// A label written as text, e.g. "int64_value: 1" or "string_value: 'yes'".
v1::Value Label(const std::string& text) {
  v1::Value value;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(text, &value));
  return value;
}

LabelledRow Row(std::vector<double> scores, v1::Value label, std::string predicted = "") {
  LabelledRow row;
  row.scores = std::move(scores);
  row.label = std::move(label);
  row.predicted_label = std::move(predicted);
  return row;
}

TEST_CASE("A prediction record's score output, predicted label, time and the outcome's label") {
  v1::PredictionRecord record;
  record.mutable_time()->set_seconds(1'700'000'000);
  record.mutable_time()->set_nanos(500);
  v1::ModelOutput* logits = record.add_outputs();
  logits->set_name("logits");
  logits->add_values(3.0f);
  v1::ModelOutput* probability = record.add_outputs();
  probability->set_name("probability");
  probability->add_values(0.25f);
  record.set_predicted_label("no");
  v1::Outcome outcome;
  *outcome.mutable_label() = Label("bool_value: true");

  const LabelledRow row = LabelledRowOf(v1::TASK_BINARY_CLASSIFICATION, record, outcome);
  CHECK(row.task == v1::TASK_BINARY_CLASSIFICATION);
  CHECK(row.scores == std::vector<double>{0.25});
  CHECK(row.predicted_label == "no");
  CHECK(row.label.bool_value());
  CHECK(row.time == absl::FromUnixSeconds(1'700'000'000) + absl::Nanoseconds(500));

  // A regression model has no "prediction" output here: its first output is its answer.
  const LabelledRow value = LabelledRowOf(v1::TASK_REGRESSION, record, outcome);
  CHECK(value.scores == std::vector<double>{3.0});
  // Multi-class: "probabilities", every value of the row.
  v1::ModelOutput* probabilities = record.add_outputs();
  probabilities->set_name("probabilities");
  for (float p : {0.5f, 0.25f, 0.25f}) probabilities->add_values(p);
  CHECK(LabelledRowOf(v1::TASK_MULTICLASS_CLASSIFICATION, record, outcome).scores ==
        std::vector<double>{0.5, 0.25, 0.25});
  // No numeric output: the predicted label is all there is.
  record.clear_outputs();
  CHECK(LabelledRowOf(v1::TASK_BINARY_CLASSIFICATION, record, outcome).scores.empty());
}

TEST_CASE("Binary labels: bool, 0/1 as integer or number, class names; bad rows counted out") {
  const std::vector<std::string> classes = {"no", "yes"};
  const std::vector<LabelledRow> rows = {
      Row({0.9}, Label("bool_value: true")),
      Row({0.2}, Label("int64_value: 0")),
      Row({0.7}, Label("double_value: 1.0")),
      Row({0.4}, Label("string_value: 'yes'")),
      Row({0.3, 0.6}, Label("string_value: 'no'")),  // Two scores: P(1) second.
      Row({}, Label("string_value: 'no'"), "yes"),   // A predicted label only.
      Row({0.5}, Label("int64_value: 2")),
      Row({0.5}, Label("double_value: 0.5")),
      Row({1.5}, Label("int64_value: 1")),
      Row({0.5}, Label("string_value: 'maybe'")),
      Row({}, Label("int64_value: 1")),
      Row({0.5}, v1::Value()),
  };
  absl::StatusOr<ResolvedRows> resolved =
      ResolveRows(v1::TASK_BINARY_CLASSIFICATION, rows, classes);
  REQUIRE(resolved.ok());
  CHECK(resolved->classes == 2);
  CHECK(resolved->labels == std::vector<int64_t>{1, 0, 1, 1, 0, 0});
  CHECK(resolved->scores == std::vector<double>{0.9, 0.2, 0.7, 0.4, 0.6, 1.0});
  CHECK(resolved->predicted == std::vector<int64_t>{1, 0, 1, 0, 1, 1});
  CHECK_FALSE(resolved->all_scored);
  CHECK(resolved->skipped == 6);
  CHECK(resolved->skip_reason == "row 6: label 2 is not 0 or 1");

  // Without class labels, "0"/"1"/"false"/"true" name the classes.
  resolved = ResolveRows(
      v1::TASK_BINARY_CLASSIFICATION,
      {Row({}, Label("string_value: 'true'"), "1"), Row({}, Label("string_value: '0'"), "false")},
      {});
  REQUIRE(resolved.ok());
  CHECK(resolved->labels == std::vector<int64_t>{1, 0});
  CHECK(resolved->scores == std::vector<double>{1, 0});
}

TEST_CASE("Multi-class labels: index or name; the number of classes from labels or scores") {
  const std::vector<std::string> classes = {"cat", "dog", "bird"};
  absl::StatusOr<ResolvedRows> resolved = ResolveRows(
      v1::TASK_MULTICLASS_CLASSIFICATION,
      {Row({0.1, 0.7, 0.2}, Label("string_value: 'dog'")),
       Row({0.5, 0.2, 0.3}, Label("int64_value: 2")), Row({}, Label("double_value: 0"), "bird"),
       Row({0.5, 0.5}, Label("int64_value: 0")), Row({0.2, 0.2, 0.6}, Label("int64_value: 3")),
       Row({0.2, 0.2, 0.6}, Label("bool_value: true")),
       Row({0.2, NAN, 0.6}, Label("int64_value: 1"))},
      classes);
  REQUIRE(resolved.ok());
  CHECK(resolved->classes == 3);
  CHECK(resolved->labels == std::vector<int64_t>{1, 2, 0});
  CHECK(resolved->predicted == std::vector<int64_t>{1, 0, 2});
  CHECK(resolved->scores == std::vector<double>{0.1, 0.7, 0.2, 0.5, 0.2, 0.3, 0, 0, 1});
  CHECK(resolved->skipped == 4);
  CHECK(resolved->skip_reason == "row 3: 2 scores where 3 are expected");

  // Without class labels: the width of the scores.
  resolved = ResolveRows(
      v1::TASK_MULTICLASS_CLASSIFICATION,
      {Row({0.2, 0.3, 0.1, 0.4}, Label("int64_value: 1")), Row({}, Label("int64_value: 0"), "2")},
      {});
  REQUIRE(resolved.ok());
  CHECK(resolved->classes == 4);
  // Predicted labels only, as indices: the largest index seen.
  resolved = ResolveRows(
      v1::TASK_MULTICLASS_CLASSIFICATION,
      {Row({}, Label("int64_value: 4"), "1"), Row({}, Label("int64_value: 0"), "2")}, {});
  REQUIRE(resolved.ok());
  CHECK(resolved->classes == 5);
  CHECK(resolved->labels == std::vector<int64_t>{4, 0});
}

TEST_CASE("Regression labels: finite numbers") {
  absl::StatusOr<ResolvedRows> resolved =
      ResolveRows(v1::TASK_REGRESSION,
                  {Row({1.5}, Label("double_value: 2")), Row({3}, Label("int64_value: 4")),
                   Row({2}, Label("string_value: '4'")), Row({}, Label("double_value: 1")),
                   Row({2}, Label("double_value: inf"))},
                  {});
  REQUIRE(resolved.ok());
  CHECK(resolved->classes == 0);
  CHECK(resolved->scores == std::vector<double>{1.5, 3});
  CHECK(resolved->targets == std::vector<double>{2, 4});
  CHECK(resolved->size() == 2);
  CHECK(resolved->skipped == 3);
  CHECK(resolved->skip_reason == "row 2: a regression label must be a number");
}

TEST_CASE("Rows that cannot belong to the model are refused, not skipped") {
  LabelledRow regression = Row({1}, Label("double_value: 1"));
  regression.task = v1::TASK_REGRESSION;
  CHECK(ResolveRows(v1::TASK_BINARY_CLASSIFICATION, {regression}, {}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(ResolveRows(v1::TASK_UNSPECIFIED, {}, {}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  const std::vector<std::string> three = {"a", "b", "c"};
  CHECK(ResolveRows(v1::TASK_BINARY_CLASSIFICATION, {}, three).status().code() ==
        absl::StatusCode::kInvalidArgument);
  const std::vector<std::string> one = {"a"};
  CHECK(ResolveRows(v1::TASK_MULTICLASS_CLASSIFICATION, {}, one).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fabrique::monitoring
