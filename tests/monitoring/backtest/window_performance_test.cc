// A window's performance against values worked out by hand and against the trainer's own
// functions, beside the training figures; coverage, "not enough data", and the refusals.

#include "libs/monitoring/backtest/window_performance.h"

#include <cmath>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/training/evaluation.h"

namespace fabrique::monitoring {
namespace {

LabelledRow Scored(std::vector<double> scores, int64_t label) {
  LabelledRow row;
  row.scores = std::move(scores);
  row.label.set_int64_value(label);
  return row;
}

LabelledRow Regressed(double prediction, double target) {
  LabelledRow row;
  row.scores = {prediction};
  row.label.set_double_value(target);
  return row;
}

v1::Metric Trained(const std::string& name, double value, const std::string& split) {
  v1::Metric metric;
  metric.set_name(name);
  metric.set_value(value);
  metric.set_split(split);
  return metric;
}

const MetricComparison& Find(const WindowPerformance& performance, const std::string& name) {
  for (const MetricComparison& metric : performance.metrics) {
    if (metric.name == name) return metric;
  }
  FAIL("no metric " << name);
  throw std::logic_error("unreachable");
}

bool Has(const WindowPerformance& performance, const std::string& name) {
  for (const MetricComparison& metric : performance.metrics) {
    if (metric.name == name) return true;
  }
  return false;
}

PerformanceOptions AtLeast(int64_t min_labelled, std::vector<std::string> class_labels = {}) {
  PerformanceOptions options;
  options.min_labelled = min_labelled;
  options.class_labels = std::move(class_labels);
  return options;
}

const std::vector<double> kP = {0.9, 0.8, 0.3, 0.6, 0.1, 0.2};
const std::vector<int64_t> kY = {1, 1, 1, 0, 0, 0};

std::vector<LabelledRow> BinaryRows() {
  std::vector<LabelledRow> rows;
  for (size_t i = 0; i < kP.size(); ++i) rows.push_back(Scored({kP[i]}, kY[i]));
  return rows;
}

TEST_CASE("Binary: auc, log loss, accuracy, precision, recall by hand and as training computes") {
  const std::vector<v1::Metric> training = {
      Trained("auc", 0.95, "train"), Trained("auc", 0.90, "validation"),
      Trained("auc", 0.85, "test"), Trained("log_loss", 0.40, "validation")};
  absl::StatusOr<WindowPerformance> performance =
      ComputePerformance(v1::TASK_BINARY_CLASSIFICATION, BinaryRows(), 8, training, AtLeast(6));
  REQUIRE(performance.ok());
  CHECK(performance->enough_data);
  CHECK(performance->reason.empty());
  CHECK(performance->predicted_count == 8);
  CHECK(performance->joined_count == 6);
  CHECK(performance->labelled_count == 6);
  CHECK(performance->label_coverage == Approx(0.75));

  // 8 of the 9 (positive, negative) pairs are ordered right: 0.3 is below 0.6.
  const MetricComparison& auc = Find(*performance, "auc");
  CHECK(auc.live == Approx(8.0 / 9));
  CHECK(auc.higher_is_better);
  REQUIRE(auc.training.has_value());
  CHECK(*auc.training == Approx(0.85));  // The test split is preferred.
  CHECK(*auc.delta == Approx(8.0 / 9 - 0.85));
  const double log_loss = -(std::log(0.9) + std::log(0.8) + std::log(0.3) + std::log(0.4) +
                            std::log(0.9) + std::log(0.8)) /
                          6;
  const MetricComparison& loss = Find(*performance, "log_loss");
  CHECK(loss.live == Approx(log_loss));
  CHECK_FALSE(loss.higher_is_better);
  CHECK(*loss.training == Approx(0.40));
  CHECK(*loss.delta == Approx(log_loss - 0.40));
  CHECK(Find(*performance, "accuracy").live == Approx(4.0 / 6));
  CHECK(Find(*performance, "precision").live == Approx(2.0 / 3));
  CHECK(Find(*performance, "recall").live == Approx(2.0 / 3));
  CHECK_FALSE(Find(*performance, "accuracy").training.has_value());
  CHECK_FALSE(Find(*performance, "accuracy").delta.has_value());

  // The same numbers as the trainer's, metric by metric.
  for (const v1::Metric& expected : training::BinaryMetrics(kP, kY, 0.5, "validation")) {
    CHECK(Find(*performance, expected.name()).live == Approx(expected.value()));
    CHECK(Find(*performance, expected.name()).higher_is_better == expected.higher_is_better());
  }
}

TEST_CASE("Binary with predicted labels only: label metrics, no auc, log loss or ece") {
  std::vector<LabelledRow> rows;
  for (const auto& [predicted, label] : std::vector<std::pair<std::string, std::string>>{
           {"yes", "yes"}, {"yes", "no"}, {"no", "no"}, {"no", "yes"}, {"yes", "yes"}}) {
    LabelledRow row;
    row.predicted_label = predicted;
    row.label.set_string_value(label);
    rows.push_back(row);
  }
  absl::StatusOr<WindowPerformance> performance =
      ComputePerformance(v1::TASK_BINARY_CLASSIFICATION, rows, 5, {}, AtLeast(5, {"no", "yes"}));
  REQUIRE(performance.ok());
  CHECK(Find(*performance, "accuracy").live == Approx(3.0 / 5));
  CHECK(Find(*performance, "precision").live == Approx(2.0 / 3));
  CHECK(Find(*performance, "recall").live == Approx(2.0 / 3));
  CHECK_FALSE(Has(*performance, "auc"));
  CHECK_FALSE(Has(*performance, "log_loss"));
  CHECK_FALSE(Has(*performance, "ece"));
}

TEST_CASE("Multi-class: accuracy, macro-F1 and log loss by hand") {
  const std::vector<std::string> classes = {"a", "b", "c"};
  const std::vector<std::pair<std::vector<double>, std::string>> data = {
      {{0.7, 0.2, 0.1}, "a"}, {{0.1, 0.8, 0.1}, "b"}, {{0.2, 0.3, 0.5}, "c"},
      {{0.6, 0.3, 0.1}, "b"}, {{0.1, 0.2, 0.7}, "c"}, {{0.3, 0.4, 0.3}, "a"}};
  std::vector<LabelledRow> rows;
  std::vector<double> flat;
  std::vector<int64_t> labels;
  for (const auto& [scores, label] : data) {
    LabelledRow row;
    row.scores = scores;
    row.label.set_string_value(label);
    rows.push_back(row);
    flat.insert(flat.end(), scores.begin(), scores.end());
    labels.push_back(label[0] - 'a');
  }
  absl::StatusOr<WindowPerformance> performance =
      ComputePerformance(v1::TASK_MULTICLASS_CLASSIFICATION, rows, 6,
                         {Trained("macro_f1", 0.7, "validation")}, AtLeast(6, classes));
  REQUIRE(performance.ok());
  CHECK(performance->label_coverage == 1);
  CHECK(Find(*performance, "accuracy").live == Approx(4.0 / 6));
  // F1 per class: a 2·1/(2+1+1) = 0.5, b 0.5, c 2·2/(4+0+0) = 1.
  const MetricComparison& f1 = Find(*performance, "macro_f1");
  CHECK(f1.live == Approx(2.0 / 3));
  CHECK(*f1.delta == Approx(2.0 / 3 - 0.7));
  CHECK(Find(*performance, "log_loss").live ==
        Approx(-(std::log(0.7) + std::log(0.8) + std::log(0.5) + std::log(0.3) + std::log(0.7) +
                 std::log(0.3)) /
               6));
  const std::vector<double> prior(3, 1.0 / 3);
  for (const v1::Metric& expected : training::MulticlassMetrics(flat, 3, labels, prior, "x")) {
    CHECK(Find(*performance, expected.name()).live == Approx(expected.value()));
  }
}

TEST_CASE("Regression: RMSE, MAE and R² by hand; lower is better for the errors") {
  const std::vector<double> predictions = {2, 4, 6, 8}, targets = {1, 5, 6, 10};
  std::vector<LabelledRow> rows;
  for (size_t i = 0; i < targets.size(); ++i) rows.push_back(Regressed(predictions[i], targets[i]));
  absl::StatusOr<WindowPerformance> performance = ComputePerformance(
      v1::TASK_REGRESSION, rows, 10, {Trained("rmse", 1.0, "validation")}, AtLeast(4));
  REQUIRE(performance.ok());
  CHECK(performance->label_coverage == Approx(0.4));
  const MetricComparison& rmse = Find(*performance, "rmse");
  CHECK(rmse.live == Approx(std::sqrt(6.0 / 4)));  // Errors 1, -1, 0, -2.
  CHECK_FALSE(rmse.higher_is_better);
  CHECK(*rmse.delta == Approx(std::sqrt(1.5) - 1));
  CHECK(Find(*performance, "mae").live == Approx(1.0));
  CHECK_FALSE(Find(*performance, "mae").higher_is_better);
  CHECK(Find(*performance, "r2").live == Approx(1 - 6.0 / 41));  // Mean 5.5: total 41.
  CHECK(Find(*performance, "r2").higher_is_better);
  for (const v1::Metric& expected : training::RegressionMetrics(predictions, targets, 0, "x")) {
    CHECK(Find(*performance, expected.name()).live == Approx(expected.value()));
  }
}

TEST_CASE("Too few labelled predictions: not enough data, no metric") {
  std::vector<LabelledRow> rows = BinaryRows();
  LabelledRow unreadable = Scored({0.5}, 7);
  rows.push_back(unreadable);
  absl::StatusOr<WindowPerformance> performance =
      ComputePerformance(v1::TASK_BINARY_CLASSIFICATION, rows, 100, {}, AtLeast(7));
  REQUIRE(performance.ok());
  CHECK_FALSE(performance->enough_data);
  CHECK(performance->metrics.empty());
  CHECK(performance->joined_count == 7);
  CHECK(performance->labelled_count == 6);
  CHECK(performance->skipped_count == 1);
  CHECK(performance->skipped_reason == "row 6: label 7 is not 0 or 1");
  CHECK(performance->label_coverage == Approx(0.07));
  CHECK(performance->reason == "not enough data: 6 labelled predictions, 7 needed");
  // The default asks for 30.
  performance = ComputePerformance(v1::TASK_BINARY_CLASSIFICATION, BinaryRows(), 6, {});
  REQUIRE(performance.ok());
  CHECK_FALSE(performance->enough_data);
  // No prediction at all: no coverage, no data.
  performance = ComputePerformance(v1::TASK_REGRESSION, {}, 0, {}, AtLeast(1));
  REQUIRE(performance.ok());
  CHECK(performance->label_coverage == 0);
  CHECK_FALSE(performance->enough_data);
}

TEST_CASE("Refusals: counts, options and the task") {
  CHECK(ComputePerformance(v1::TASK_BINARY_CLASSIFICATION, BinaryRows(), 5, {}, AtLeast(1))
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
  CHECK(ComputePerformance(v1::TASK_BINARY_CLASSIFICATION, BinaryRows(), 6, {}, AtLeast(0))
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
  CHECK(ComputePerformance(v1::TASK_UNSPECIFIED, BinaryRows(), 6, {}, AtLeast(1)).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(MetricHigherIsBetter(v1::TASK_REGRESSION, "auc").status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(*MetricHigherIsBetter(v1::TASK_REGRESSION, "r2"));
  CHECK_FALSE(*MetricHigherIsBetter(v1::TASK_MULTICLASS_CLASSIFICATION, "log_loss"));
}

TEST_CASE("Live metrics as reported: split live, the training figure as baseline") {
  absl::StatusOr<WindowPerformance> performance = ComputePerformance(
      v1::TASK_BINARY_CLASSIFICATION, BinaryRows(), 6,
      {Trained("auc", 0.9, "validation"), Trained("auc", 0.5, "live")}, AtLeast(1));
  REQUIRE(performance.ok());
  const std::vector<v1::Metric> metrics = LiveMetrics(*performance);
  REQUIRE(metrics.size() == performance->metrics.size());
  for (const v1::Metric& metric : metrics) {
    CHECK(metric.split() == "live");
    CHECK(metric.has_baseline() == (metric.name() == "auc"));
    if (metric.name() == "auc") {
      CHECK(metric.baseline().value() == Approx(0.9));  // Never an earlier live figure.
      CHECK(metric.value() == Approx(8.0 / 9));
      CHECK(metric.higher_is_better());
    }
  }
}

}  // namespace
}  // namespace fabrique::monitoring
