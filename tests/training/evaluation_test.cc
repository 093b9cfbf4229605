// Evaluation metrics against values worked out by hand (or by scikit-learn's definitions), and
// their trivial baselines.

#include "libs/training/evaluation.h"

#include <cmath>
#include <vector>

#include "catch2/catch.hpp"

namespace fabrique::training {
namespace {

double Value(const std::vector<v1::Metric>& metrics, const std::string& name) {
  const v1::Metric* metric = FindMetric(metrics, name);
  REQUIRE(metric != nullptr);
  return metric->value();
}
double Baseline(const std::vector<v1::Metric>& metrics, const std::string& name) {
  return FindMetric(metrics, name)->baseline().value();
}

TEST_CASE("AUC: perfect, inverted, ties and one class", "[evaluation]") {
  CHECK(AucRoc({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}) == Approx(0.75));  // scikit-learn's example.
  CHECK(AucRoc({0.1, 0.2, 0.8, 0.9}, {0, 0, 1, 1}) == Approx(1.0));
  CHECK(AucRoc({0.9, 0.8, 0.2, 0.1}, {0, 0, 1, 1}) == Approx(0.0));
  CHECK(AucRoc({0.5, 0.5, 0.5, 0.5}, {0, 1, 0, 1}) == Approx(0.5));  // All tied.
  CHECK(AucRoc({0.2, 0.7}, {1, 1}) == 0.5);                          // No negative.
}

TEST_CASE("Binary metrics and the majority-class baseline", "[evaluation]") {
  const std::vector<double> p = {0.9, 0.8, 0.3, 0.6, 0.1, 0.2};
  const std::vector<int64_t> y = {1, 1, 1, 0, 0, 0};
  const std::vector<v1::Metric> m = BinaryMetrics(p, y, 0.25, "validation");
  CHECK(Value(m, "accuracy") == Approx(4.0 / 6));
  CHECK(Value(m, "precision") == Approx(2.0 / 3));
  CHECK(Value(m, "recall") == Approx(2.0 / 3));
  const double log_loss = -(std::log(0.9) + std::log(0.8) + std::log(0.3) + std::log(0.4) +
                            std::log(0.9) + std::log(0.8)) /
                          6;
  CHECK(Value(m, "log_loss") == Approx(log_loss));
  CHECK(Baseline(m, "accuracy") == Approx(0.5));  // Predicts 0 for all: half are 0.
  CHECK(Baseline(m, "auc") == 0.5);
  CHECK(Baseline(m, "log_loss") == Approx(-(3 * std::log(0.25) + 3 * std::log(0.75)) / 6));
  CHECK(FindMetric(m, "auc")->higher_is_better());
  CHECK_FALSE(FindMetric(m, "log_loss")->higher_is_better());
  CHECK(FindMetric(m, "ece")->split() == "validation");
}

TEST_CASE("Calibration error: calibrated is 0, overconfident is not", "[evaluation]") {
  // Ten rows at 0.75, of which 3 in 4 positive: calibrated in its bin.
  std::vector<double> p(8, 0.75);
  std::vector<int64_t> y = {1, 1, 1, 0, 1, 1, 1, 0};
  CHECK(ExpectedCalibrationError(p, y) == Approx(0.0).margin(1e-12));
  std::vector<double> sure(8, 0.99);
  CHECK(ExpectedCalibrationError(sure, y) == Approx(0.24));
}

TEST_CASE("Multi-class metrics and the prior baseline", "[evaluation]") {
  // Three rows, three classes: rows predicted 0, 1, 1; labels 0, 1, 2.
  const std::vector<double> p = {0.7, 0.2, 0.1,  //
                                 0.1, 0.8, 0.1,  //
                                 0.2, 0.5, 0.3};
  const std::vector<int64_t> y = {0, 1, 2};
  const std::vector<v1::Metric> m = MulticlassMetrics(p, 3, y, {0.5, 0.3, 0.2}, "validation");
  CHECK(Value(m, "accuracy") == Approx(2.0 / 3));
  // F1: class 0 = 1, class 1 = 2/3 (tp 1, fp 1), class 2 = 0.
  CHECK(Value(m, "macro_f1") == Approx((1 + 2.0 / 3 + 0) / 3));
  CHECK(Value(m, "log_loss") == Approx(-(std::log(0.7) + std::log(0.8) + std::log(0.3)) / 3));
  CHECK(Baseline(m, "accuracy") == Approx(1.0 / 3));  // Always class 0.
}

TEST_CASE("Regression metrics and the mean baseline", "[evaluation]") {
  const std::vector<double> t = {1, 2, 3, 4};
  const std::vector<v1::Metric> perfect = RegressionMetrics(t, t, 2.5, "validation");
  CHECK(Value(perfect, "rmse") == 0);
  CHECK(Value(perfect, "r2") == 1);
  CHECK(Baseline(perfect, "r2") == Approx(0));
  CHECK(Baseline(perfect, "mae") == Approx(1.0));
  const std::vector<v1::Metric> off = RegressionMetrics({2, 2, 4, 4}, t, 2.5, "validation");
  // Errors 1, 0, 1, 0; the targets' sum of squares about their mean is 5.
  CHECK(Value(off, "rmse") == Approx(std::sqrt(0.5)));
  CHECK(Value(off, "mae") == Approx(0.5));
  CHECK(Value(off, "r2") == Approx(1 - 2.0 / 5));
  CHECK(PrimaryMetric(v1::TASK_REGRESSION) == "rmse");
  CHECK(PrimaryMetric(v1::TASK_BINARY_CLASSIFICATION) == "auc");
}

}  // namespace
}  // namespace fabrique::training
