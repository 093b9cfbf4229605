// The report page's model filled from the monitor's API messages: each feature's verdict and
// distributions, performance over time beside training, the alerts firing, and the health with
// its reason and "since", each read from handmade reports.

#include "libs/monitoring/report/report_from_protos.h"

#include <cmath>
#include <string>

#include "catch2/catch.hpp"
#include "libs/monitoring/report/html_report.h"
#include "libs/monitoring/report/profile_distribution.h"
#include "libs/monitoring/sketch/quantile_sketch.h"

namespace fabrique::monitoring::report {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'780'000'000);

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  out->set_seconds(absl::ToUnixSeconds(t));
}

v1::DistributionProfile NumericProfile(std::vector<double> edges, std::vector<double> shares) {
  v1::DistributionProfile p;
  for (double e : edges) p.mutable_numeric()->add_bin_edges(e);
  for (double s : shares) p.mutable_numeric()->add_bin_fractions(s);
  return p;
}

v1::DistributionProfile CategoricalProfile(std::vector<std::pair<std::string, double>> categories,
                                           double other = 0) {
  v1::DistributionProfile p;
  for (const auto& [value, share] : categories) {
    v1::CategoryFrequency* c = p.mutable_categorical()->add_categories();
    c->set_value(value);
    c->set_fraction(share);
  }
  p.mutable_categorical()->set_other_fraction(other);
  return p;
}

v1::FeatureDrift Feature(const std::string& name, v1::DriftMetric metric, double value,
                         double threshold, v1::DriftStatus status) {
  v1::FeatureDrift f;
  f.set_name(name);
  f.set_status(status);
  v1::DriftScore* score = f.add_scores();
  score->set_metric(metric);
  score->set_value(value);
  score->set_threshold(threshold);
  score->set_drift_when(metric == v1::DRIFT_METRIC_KS || metric == v1::DRIFT_METRIC_CHI_SQUARED
                            ? v1::DRIFT_WHEN_P_VALUE_BELOW
                            : v1::DRIFT_WHEN_STATISTIC_AT_LEAST);
  score->set_enough_data(status != v1::DRIFT_STATUS_NOT_ENOUGH_DATA);
  score->set_drifted(status == v1::DRIFT_STATUS_DRIFTED);
  return f;
}

v1::Metric MetricOf(const std::string& name, double value, bool higher_is_better = true) {
  v1::Metric m;
  m.set_name(name);
  m.set_value(value);
  m.set_higher_is_better(higher_is_better);
  m.set_split("live");
  return m;
}

// A report of `model` v3 over one day: amount (KS) drifted, channel (chi-square) not.
v1::DriftReport DriftingReport() {
  v1::DriftReport r;
  r.set_report_id("dr-1");
  r.mutable_model_version()->set_model("credit");
  r.mutable_model_version()->set_version(3);
  SetTime(kT0, r.mutable_window()->mutable_start_time());
  SetTime(kT0 + absl::Hours(24), r.mutable_window()->mutable_end_time());
  r.set_prediction_count(5000);
  v1::FeatureDrift amount =
      Feature("amount", v1::DRIFT_METRIC_KS, 0.21, 0.05, v1::DRIFT_STATUS_DRIFTED);
  amount.mutable_scores(0)->mutable_p_value()->set_value(0.0004);
  amount.set_column_type("numeric");
  amount.set_missing_rate(0.02);
  amount.set_reference_missing_rate(0.01);
  *amount.mutable_reference() = NumericProfile({0, 10, 20, 30}, {0.3, 0.4, 0.3});
  *amount.mutable_live() = NumericProfile({0, 10, 20, 30}, {0.1, 0.3, 0.6});
  *r.add_features() = amount;
  v1::FeatureDrift channel =
      Feature("channel", v1::DRIFT_METRIC_CHI_SQUARED, 1.2, 0.05, v1::DRIFT_STATUS_NO_DRIFT);
  channel.mutable_scores(0)->mutable_p_value()->set_value(0.54);
  channel.set_column_type("categorical");
  *channel.mutable_reference() = CategoricalProfile({{"web", 0.6}, {"branch", 0.4}});
  *channel.mutable_live() = CategoricalProfile({{"web", 0.5}, {"mobile", 0.3}, {"branch", 0.2}});
  *r.add_features() = channel;
  return r;
}

TEST_CASE("A drift report's features keep their test, statistic, threshold and verdict") {
  ReportProtos protos;
  protos.model = "credit";
  protos.drift = DriftingReport();
  const ReportModel model = ReportFromProtos(protos);
  REQUIRE(model.features.size() == 2);
  const FeatureReport& amount = model.features[0];
  CHECK(amount.name == "amount");
  CHECK(amount.kind == FeatureKind::kNumeric);
  CHECK(amount.test == "ks");
  CHECK(amount.statistic == 0.21);
  REQUIRE(amount.p_value.has_value());
  CHECK(*amount.p_value == 0.0004);
  CHECK(amount.threshold == 0.05);
  CHECK(amount.drift_when == DriftWhen::kPValueBelow);
  CHECK(amount.drifted);
  CHECK(amount.enough_data);
  CHECK(amount.current_missing_rate == 0.02);
  CHECK(amount.reference_missing_rate == 0.01);
  CHECK(amount.distribution.bin_edges == std::vector<double>{0, 10, 20, 30});
  CHECK(amount.distribution.reference_shares == std::vector<double>{0.3, 0.4, 0.3});
  CHECK(amount.distribution.current_shares == std::vector<double>{0.1, 0.3, 0.6});
  const FeatureReport& channel = model.features[1];
  CHECK(channel.kind == FeatureKind::kCategorical);
  CHECK(channel.test == "chisquare");
  CHECK_FALSE(channel.drifted);
  // The reference's categories first, then the live window's new one.
  CHECK(channel.distribution.categories == std::vector<std::string>{"web", "branch", "mobile"});
  CHECK(channel.distribution.reference_shares == std::vector<double>{0.6, 0.4, 0});
  CHECK(channel.distribution.current_shares == std::vector<double>{0.5, 0.2, 0.3});
  // The period is the report's window; the version is named.
  CHECK(model.period_from == kT0);
  CHECK(model.period_to == kT0 + absl::Hours(24));
  CHECK(model.versions == std::vector<std::string>{"3"});
}

TEST_CASE("Columns without a verdict say so: not enough data, no reference, no score") {
  v1::FeatureDrift few =
      Feature("age", v1::DRIFT_METRIC_WASSERSTEIN, NAN, 0.1, v1::DRIFT_STATUS_NOT_ENOUGH_DATA);
  CHECK_FALSE(FeatureFromDrift(few).enough_data);
  CHECK(FeatureFromDrift(few).test == "wasserstein");
  CHECK(FeatureFromDrift(few).drift_when == DriftWhen::kStatisticAtLeast);
  v1::FeatureDrift none =
      Feature("age", v1::DRIFT_METRIC_PSI, 0.3, 0.1, v1::DRIFT_STATUS_NO_REFERENCE);
  CHECK_FALSE(FeatureFromDrift(none).enough_data);
  CHECK_FALSE(FeatureFromDrift(none).drifted);
  v1::FeatureDrift bare;
  bare.set_name("bare");
  CHECK_FALSE(FeatureFromDrift(bare).enough_data);
  CHECK(std::isnan(FeatureFromDrift(bare).statistic));
}

TEST_CASE("A live side known only by its sketch is read at the reference's bin edges") {
  QuantileSketch sketch;
  for (int i = 0; i < 100; ++i) sketch.Update(i < 50 ? 5 : 25);  // half in [0,10), half in [20,30]
  v1::DistributionProfile live;
  live.mutable_numeric()->set_quantile_sketch(sketch.Serialize());
  const Distribution d =
      DistributionFromProfiles(NumericProfile({0, 10, 20, 30}, {0.3, 0.4, 0.3}), live);
  REQUIRE(d.current_shares.size() == 3);
  CHECK(d.current_shares[0] == Approx(0.5));
  CHECK(d.current_shares[1] == Approx(0));
  CHECK(d.current_shares[2] == Approx(0.5));

  // A reference with a sketch and no bins gets bins at its deciles.
  QuantileSketch reference;
  for (int i = 0; i < 1000; ++i) reference.Update(i);
  v1::DistributionProfile ref;
  ref.mutable_numeric()->set_quantile_sketch(reference.Serialize());
  const Distribution deciles = DistributionFromProfiles(ref, live);
  CHECK(deciles.bin_edges.size() == 11);
  CHECK(deciles.reference_shares.size() == 10);
  CHECK(deciles.reference_shares[3] == Approx(0.1).margin(0.01));
  // Neither bins nor a sketch: the distribution is not known.
  CHECK(DistributionFromProfiles(v1::DistributionProfile(), live).bin_edges.empty());
}

TEST_CASE("Categories past the cap fold into (other) on both sides") {
  const Distribution d =
      DistributionFromProfiles(CategoricalProfile({{"a", 0.4}, {"b", 0.3}, {"c", 0.2}}, 0.1),
                               CategoricalProfile({{"a", 0.5}, {"d", 0.5}}), 3);
  CHECK(d.categories == std::vector<std::string>{"a", "b", kOtherCategory});
  CHECK(d.reference_shares[2] == Approx(0.3));  // c and the reference's own other
  CHECK(d.current_shares[2] == Approx(0.5));    // d, new in the live window
}

v1::PerformanceReport Performance(double live_auc, bool sufficient) {
  v1::PerformanceReport p;
  p.mutable_model_version()->set_model("credit");
  p.mutable_model_version()->set_version(3);
  SetTime(kT0, p.mutable_window()->mutable_start_time());
  SetTime(kT0 + absl::Hours(3), p.mutable_window()->mutable_end_time());
  p.set_labelled_count(900);
  p.set_sufficient_labels(sufficient);
  *p.add_metrics() = MetricOf("auc", live_auc);
  *p.add_metrics() = MetricOf("rmse", 0.2, /*higher_is_better=*/false);
  v1::Metric trained = MetricOf("auc", 0.86);
  trained.set_split("validation");
  *p.add_training_metrics() = trained;
  p.mutable_metrics(1)->mutable_baseline()->set_value(0.25);
  const double per_hour[] = {0.85, 0.70, live_auc};
  for (int h = 0; h < 3; ++h) {
    v1::PerformanceBucket* b = p.add_buckets();
    SetTime(kT0 + absl::Hours(h), b->mutable_window()->mutable_start_time());
    SetTime(kT0 + absl::Hours(h + 1), b->mutable_window()->mutable_end_time());
    b->set_labelled_count(300);
    *b->add_metrics() = MetricOf("auc", per_hour[h]);
    *b->add_metrics() = MetricOf("rmse", 0.2, false);
  }
  return p;
}

TEST_CASE("Performance buckets become a series beside the training figure") {
  ReportProtos protos;
  protos.model = "credit";
  protos.performance = Performance(0.84, true);
  const ReportModel model = ReportFromProtos(protos);
  REQUIRE(model.performance.size() == 2);
  const MetricSeries& auc = model.performance[0];
  CHECK(auc.metric == "auc");
  CHECK(auc.higher_is_better);
  REQUIRE(auc.training_value.has_value());
  CHECK(*auc.training_value == 0.86);
  REQUIRE(auc.points.size() == 3);
  CHECK(auc.points[1].window_start == kT0 + absl::Hours(1));
  CHECK(auc.points[1].value == 0.70);
  CHECK(auc.points[1].labelled_count == 300);
  // No training metric of that name: the metric's baseline stands for it.
  const MetricSeries& rmse = model.performance[1];
  CHECK_FALSE(rmse.higher_is_better);
  CHECK(*rmse.training_value == 0.25);
  // Within 5% of training: healthy.
  CHECK(model.health == Health::kHealthy);
  CHECK(model.period_from == kT0);
}

TEST_CASE("A metric below training on enough labels makes the model degraded, since the run") {
  ReportProtos protos;
  protos.model = "credit";
  protos.drift = DriftingReport();
  protos.performance = Performance(0.72, true);
  ReportModel model = ReportFromProtos(protos);
  CHECK(model.health == Health::kDegraded);
  CHECK(model.health_reason == "Below the training figure on 900 labelled predictions: auc.");
  REQUIRE(model.health_since.has_value());
  CHECK(*model.health_since == kT0 + absl::Hours(1));  // 0.70 then 0.72: the run began at 1h
  // The same figures on too few labels say nothing of performance: drifting.
  protos.performance = Performance(0.72, false);
  model = ReportFromProtos(protos);
  CHECK(model.health == Health::kDrifting);
}

TEST_CASE("Drifting since the oldest drift alert firing; other alerts are listed, not dated") {
  ReportProtos protos;
  protos.model = "credit";
  protos.drift = DriftingReport();
  v1::Alert drift;
  drift.set_id("a-2");
  drift.set_kind(v1::ALERT_KIND_FEATURE_DRIFT);
  drift.set_severity(v1::SEVERITY_CRITICAL);
  drift.set_state(v1::ALERT_STATE_FIRING);
  drift.set_summary("KS p 0.0004 on amount (drift < 0.05)");
  SetTime(kT0 + absl::Hours(14), drift.mutable_fire_time());
  v1::Alert traffic = drift;
  traffic.set_id("a-1");
  traffic.set_kind(v1::ALERT_KIND_NO_TRAFFIC);
  traffic.set_severity(v1::SEVERITY_WARNING);
  SetTime(kT0 + absl::Hours(2), traffic.mutable_fire_time());
  v1::Alert resolved = drift;
  resolved.set_id("a-0");
  resolved.set_state(v1::ALERT_STATE_RESOLVED);
  SetTime(kT0, resolved.mutable_fire_time());
  protos.alerts = {drift, traffic, resolved};
  const ReportModel model = ReportFromProtos(protos);
  CHECK(model.health == Health::kDrifting);
  CHECK(model.health_reason == "Drifted from training: amount.");
  REQUIRE(model.health_since.has_value());
  CHECK(*model.health_since == kT0 + absl::Hours(14));
  REQUIRE(model.alerts.size() == 2);
  CHECK(model.alerts[0].id == "a-2");
  CHECK(model.alerts[0].severity == "critical");
  CHECK(model.alerts[1].severity == "warning");
}

TEST_CASE("No column with a verdict and no labels: not enough data, saying why") {
  ReportProtos protos;
  protos.model = "credit";
  v1::DriftReport r;
  r.set_prediction_count(12);
  *r.add_features() =
      Feature("age", v1::DRIFT_METRIC_KS, NAN, 0.05, v1::DRIFT_STATUS_NOT_ENOUGH_DATA);
  protos.drift = r;
  ReportModel model = ReportFromProtos(protos);
  CHECK(model.health == Health::kNotEnoughData);
  CHECK(model.health_reason == "12 predictions in the period: too few for a verdict.");
  r.set_no_reference(true);
  r.mutable_features(0)->set_status(v1::DRIFT_STATUS_NO_REFERENCE);
  protos.drift = r;
  model = ReportFromProtos(protos);
  CHECK(model.health_reason == "This version has no reference profile to compare with.");
}

TEST_CASE("Outputs are reported beside the features, named as predictions") {
  ReportProtos protos;
  protos.model = "credit";
  protos.drift = DriftingReport();
  *protos.drift->add_predictions() =
      Feature("score", v1::DRIFT_METRIC_PSI, 0.3, 0.2, v1::DRIFT_STATUS_DRIFTED);
  const ReportModel model = ReportFromProtos(protos);
  REQUIRE(model.features.size() == 3);
  CHECK(model.features[2].name == "prediction: score");
  CHECK(model.features[2].test == "psi");
}

TEST_CASE("The converted report renders with every feature, test and threshold") {
  ReportProtos protos;
  protos.model = "credit";
  protos.generated_at = kT0 + absl::Hours(24);
  protos.drift = DriftingReport();
  protos.performance = Performance(0.84, true);
  const std::string html = RenderHtmlReport(ReportFromProtos(protos));
  CHECK(html.find("credit") != std::string::npos);
  CHECK(html.find("amount") != std::string::npos);
  CHECK(html.find("channel") != std::string::npos);
  CHECK(html.find("<svg") != std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
}

TEST_CASE("Performance buckets split a period into at most 60") {
  CHECK(PerformanceBucketFor(kT0, kT0 + absl::Hours(1)) == absl::Minutes(5));
  CHECK(PerformanceBucketFor(kT0, kT0 + absl::Hours(24)) == absl::Hours(1));
  CHECK(PerformanceBucketFor(kT0, kT0 + absl::Hours(24 * 7)) == absl::Hours(6));
  CHECK(PerformanceBucketFor(kT0, kT0 + absl::Hours(24 * 30)) == absl::Hours(24));
  CHECK(PerformanceBucketFor(kT0, kT0 + absl::Hours(24 * 365)) == absl::Hours(24 * 7));
}

TEST_CASE("Tests and severities are named as Evidently and the alerts name them") {
  CHECK(DriftMetricName(v1::DRIFT_METRIC_JS) == "jensenshannon");
  CHECK(DriftMetricName(v1::DRIFT_METRIC_Z_TEST) == "z");
  CHECK(DriftMetricName(v1::DRIFT_METRIC_OUT_OF_RANGE) == "out_of_range");
  CHECK(SeverityName(v1::SEVERITY_CRITICAL) == "critical");
  CHECK(SeverityName(v1::SEVERITY_UNSPECIFIED) == "unknown");
}

}  // namespace
}  // namespace fabrique::monitoring::report
