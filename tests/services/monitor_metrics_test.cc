// The monitor's report gauges: a drift or performance report sets its version's series, a newer
// one replaces them (a feature it no longer reports disappears), other versions keep theirs, and
// the exposition passes `promtool check metrics`.

#include "services/monitor/monitor_metrics.h"

#include <cmath>
#include <map>
#include <string>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "tests/util/test_util.h"

namespace fabrique::services {
namespace {

// The value of the series of `family` with exactly `labels`; NaN when there is none.
double Value(prometheus::Registry& registry, const std::string& family,
             const std::map<std::string, std::string>& labels) {
  for (const prometheus::MetricFamily& f : registry.Collect()) {
    if (f.name != family) continue;
    for (const prometheus::ClientMetric& metric : f.metric) {
      std::map<std::string, std::string> have;
      for (const prometheus::ClientMetric::Label& l : metric.label) have[l.name] = l.value;
      if (have == labels) return metric.gauge.value;
    }
  }
  return NAN;
}

// Series of `family` for any labels.
size_t Count(prometheus::Registry& registry, const std::string& family) {
  for (const prometheus::MetricFamily& f : registry.Collect()) {
    if (f.name == family) return f.metric.size();
  }
  return 0;
}

v1::FeatureDrift Column(const std::string& name, v1::DriftMetric metric, double value,
                        v1::DriftStatus status) {
  v1::FeatureDrift f;
  f.set_name(name);
  f.set_status(status);
  v1::DriftScore* score = f.add_scores();
  score->set_metric(metric);
  score->set_value(value);
  score->set_enough_data(status != v1::DRIFT_STATUS_NOT_ENOUGH_DATA);
  return f;
}

v1::DriftReport Drift(int64_t version) {
  v1::DriftReport r;
  r.mutable_model_version()->set_model("fraud");
  r.mutable_model_version()->set_version(version);
  r.set_prediction_count(1200);
  v1::FeatureDrift amount = Column("amount", v1::DRIFT_METRIC_KS, 0.3, v1::DRIFT_STATUS_DRIFTED);
  amount.mutable_scores(0)->mutable_p_value()->set_value(0.001);
  v1::DriftScore* psi = amount.add_scores();
  psi->set_metric(v1::DRIFT_METRIC_PSI);
  psi->set_value(0.4);
  psi->set_enough_data(true);
  *r.add_features() = amount;
  *r.add_features() = Column("country", v1::DRIFT_METRIC_JS, 0.05, v1::DRIFT_STATUS_NO_DRIFT);
  *r.add_features() =
      Column("age", v1::DRIFT_METRIC_WASSERSTEIN, NAN, v1::DRIFT_STATUS_NOT_ENOUGH_DATA);
  *r.add_predictions() = Column("score", v1::DRIFT_METRIC_PSI, 0.02, v1::DRIFT_STATUS_NO_DRIFT);
  r.mutable_dataset_drift()->set_drifted_share(0.5);
  r.mutable_dataset_drift()->set_drifted(true);
  return r;
}

using Labels = std::map<std::string, std::string>;

TEST_CASE("A drift report sets each column's statistic, p-value and verdict, and the dataset's") {
  prometheus::Registry registry;
  MonitorMetrics metrics(registry);
  metrics.PublishDrift(Drift(3));
  const Labels amount = {
      {"model", "fraud"}, {"version", "3"}, {"feature", "amount"}, {"kind", "input"}};
  Labels ks = amount;
  ks["test"] = "ks";
  Labels psi = amount;
  psi["test"] = "psi";
  CHECK(Value(registry, "fabrique_monitor_drift_statistic", ks) == 0.3);
  CHECK(Value(registry, "fabrique_monitor_drift_statistic", psi) == 0.4);
  CHECK(Value(registry, "fabrique_monitor_drift_p_value", ks) == 0.001);
  CHECK(std::isnan(Value(registry, "fabrique_monitor_drift_p_value", psi)));  // PSI has none
  CHECK(Value(registry, "fabrique_monitor_drift_detected", amount) == 1);
  CHECK(Value(registry, "fabrique_monitor_drift_detected",
              {{"model", "fraud"}, {"version", "3"}, {"feature", "country"}, {"kind", "input"}}) ==
        0);
  // Not enough data: a verdict of 0 and no statistic.
  CHECK(Value(registry, "fabrique_monitor_drift_detected",
              {{"model", "fraud"}, {"version", "3"}, {"feature", "age"}, {"kind", "input"}}) == 0);
  CHECK(std::isnan(Value(registry, "fabrique_monitor_drift_statistic",
                         {{"model", "fraud"},
                          {"version", "3"},
                          {"feature", "age"},
                          {"kind", "input"},
                          {"test", "wasserstein"}})));
  // Outputs are columns of kind output.
  CHECK(Value(registry, "fabrique_monitor_drift_statistic",
              {{"model", "fraud"},
               {"version", "3"},
               {"feature", "score"},
               {"kind", "output"},
               {"test", "psi"}}) == 0.02);
  const Labels version = {{"model", "fraud"}, {"version", "3"}};
  CHECK(Value(registry, "fabrique_monitor_dataset_drift_share", version) == 0.5);
  CHECK(Value(registry, "fabrique_monitor_dataset_drift_detected", version) == 1);
  CHECK(Value(registry, "fabrique_monitor_window_predictions", version) == 1200);

  const std::string exposition = prometheus::TextSerializer().Serialize(registry.Collect());
  absl::StatusOr<std::string> promtool = testing::PromtoolCheckMetrics(exposition);
  INFO(promtool.status().message());
  CHECK(promtool.ok());
}

TEST_CASE("Before any report the exposition has no report series and passes promtool") {
  prometheus::Registry registry;
  MonitorMetrics metrics(registry);
  CHECK(Count(registry, "fabrique_monitor_drift_statistic") == 0);
  const std::string exposition = prometheus::TextSerializer().Serialize(registry.Collect());
  absl::StatusOr<std::string> promtool = testing::PromtoolCheckMetrics(exposition);
  INFO(promtool.status().message());
  CHECK(promtool.ok());
}

TEST_CASE("A newer drift report replaces its version's series; other versions keep theirs") {
  prometheus::Registry registry;
  MonitorMetrics metrics(registry);
  metrics.PublishDrift(Drift(3));
  metrics.PublishDrift(Drift(4));
  const size_t both = Count(registry, "fabrique_monitor_drift_detected");
  CHECK(both == 8);  // four columns of each version
  v1::DriftReport newer = Drift(3);
  newer.mutable_features()->erase(newer.mutable_features()->begin());  // amount no longer
  newer.set_prediction_count(7);
  metrics.PublishDrift(newer);
  CHECK(Count(registry, "fabrique_monitor_drift_detected") == 7);
  CHECK(std::isnan(Value(registry, "fabrique_monitor_drift_statistic",
                         {{"model", "fraud"},
                          {"version", "3"},
                          {"feature", "amount"},
                          {"kind", "input"},
                          {"test", "ks"}})));
  CHECK(Value(registry, "fabrique_monitor_drift_statistic",
              {{"model", "fraud"},
               {"version", "4"},
               {"feature", "amount"},
               {"kind", "input"},
               {"test", "ks"}}) == 0.3);
  CHECK(Value(registry, "fabrique_monitor_window_predictions",
              {{"model", "fraud"}, {"version", "3"}}) == 7);
}

TEST_CASE("Versions no longer active lose their report series; active ones keep them") {
  prometheus::Registry registry;
  MonitorMetrics metrics(registry);
  metrics.PublishDrift(Drift(3));
  metrics.PublishDrift(Drift(4));
  v1::PerformanceReport performance;
  performance.mutable_model_version()->set_model("fraud");
  performance.mutable_model_version()->set_version(3);
  performance.set_label_coverage(0.5);
  metrics.PublishPerformance(performance);
  REQUIRE(Count(registry, "fabrique_monitor_drift_detected") == 8);
  REQUIRE(Count(registry, "fabrique_monitor_label_coverage") == 1);

  // Version 3 has had no prediction in the lookback; version 4 and another model's have.
  metrics.RetainVersions({{"fraud", 4}, {"churn", 1}});
  CHECK(Count(registry, "fabrique_monitor_drift_detected") == 4);
  CHECK(Count(registry, "fabrique_monitor_label_coverage") == 0);
  CHECK(std::isnan(Value(registry, "fabrique_monitor_window_predictions",
                         {{"model", "fraud"}, {"version", "3"}})));
  CHECK(Value(registry, "fabrique_monitor_window_predictions",
              {{"model", "fraud"}, {"version", "4"}}) == 1200);
  // A version reported again after it was dropped exports again.
  metrics.PublishDrift(Drift(3));
  CHECK(Count(registry, "fabrique_monitor_drift_detected") == 8);
  metrics.RetainVersions({});
  CHECK(Count(registry, "fabrique_monitor_drift_detected") == 0);
  const std::string exposition = prometheus::TextSerializer().Serialize(registry.Collect());
  CHECK_FALSE(absl::StrContains(exposition, "version=\"4\""));
}

v1::Metric Live(const std::string& name, double value, bool higher_is_better) {
  v1::Metric m;
  m.set_name(name);
  m.set_value(value);
  m.set_higher_is_better(higher_is_better);
  m.set_split("live");
  return m;
}

TEST_CASE("A performance report sets live and training metrics, coverage and labels") {
  prometheus::Registry registry;
  MonitorMetrics metrics(registry);
  v1::PerformanceReport report;
  report.mutable_model_version()->set_model("fraud");
  report.mutable_model_version()->set_version(3);
  report.set_label_coverage(0.25);
  report.set_labelled_count(300);
  report.set_sufficient_labels(true);
  *report.add_metrics() = Live("auc", 0.81, true);
  v1::Metric log_loss = Live("log_loss", 0.42, false);
  log_loss.mutable_baseline()->set_value(0.35);
  *report.add_metrics() = log_loss;
  v1::Metric trained = Live("auc", 0.86, true);
  trained.set_split("validation");
  *report.add_training_metrics() = trained;
  metrics.PublishPerformance(report);
  const Labels auc = {
      {"model", "fraud"}, {"version", "3"}, {"metric", "auc"}, {"better", "higher"}};
  const Labels loss = {
      {"model", "fraud"}, {"version", "3"}, {"metric", "log_loss"}, {"better", "lower"}};
  CHECK(Value(registry, "fabrique_monitor_performance", auc) == 0.81);
  CHECK(Value(registry, "fabrique_monitor_training_performance", auc) == 0.86);
  CHECK(Value(registry, "fabrique_monitor_performance", loss) == 0.42);
  CHECK(Value(registry, "fabrique_monitor_training_performance", loss) == 0.35);
  const Labels version = {{"model", "fraud"}, {"version", "3"}};
  CHECK(Value(registry, "fabrique_monitor_label_coverage", version) == 0.25);
  CHECK(Value(registry, "fabrique_monitor_labelled_predictions", version) == 300);
  CHECK(Value(registry, "fabrique_monitor_sufficient_labels", version) == 1);

  // The next report has no log_loss: its series go.
  report.mutable_metrics()->RemoveLast();
  report.set_sufficient_labels(false);
  metrics.PublishPerformance(report);
  CHECK(std::isnan(Value(registry, "fabrique_monitor_performance", loss)));
  CHECK(std::isnan(Value(registry, "fabrique_monitor_training_performance", loss)));
  CHECK(Value(registry, "fabrique_monitor_performance", auc) == 0.81);
  CHECK(Value(registry, "fabrique_monitor_sufficient_labels", version) == 0);
}

TEST_CASE("Alerts firing are counted per model and severity, and go back to 0") {
  prometheus::Registry registry;
  MonitorMetrics metrics(registry);
  metrics.SetAlertsFiring("fraud", v1::SEVERITY_CRITICAL, 2);
  metrics.SetAlertsFiring("fraud", v1::SEVERITY_WARNING, 1);
  CHECK(Value(registry, "fabrique_monitor_alerts_firing",
              {{"model", "fraud"}, {"severity", "critical"}}) == 2);
  CHECK(Value(registry, "fabrique_monitor_alerts_firing",
              {{"model", "fraud"}, {"severity", "warning"}}) == 1);
  metrics.SetAlertsFiring("fraud", v1::SEVERITY_CRITICAL, 0);
  CHECK(Value(registry, "fabrique_monitor_alerts_firing",
              {{"model", "fraud"}, {"severity", "critical"}}) == 0);
}

}  // namespace
}  // namespace fabrique::services
