#include "libs/monitoring/reports/drift_report.h"

#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "tests/monitoring/reports/reports_test_util.h"

namespace fabrique::monitoring {
namespace {

using testing::Categories;
using testing::Cycle;
using testing::Live;
using testing::Numbers;
using testing::Profile;
using testing::Spread;

const absl::Time kFrom = absl::FromUnixSeconds(1'700'000'000);

DriftQuery Query() {
  DriftQuery query;
  query.model = "fraud";
  query.version = 3;
  query.from = kFrom;
  query.to = kFrom + absl::Hours(1);
  return query;
}

v1::ReferenceProfile FraudProfile() {
  return Profile(
      "fraud", 3,
      {{"amount", Numbers(Spread(0, 100, 200))}, {"country", Categories(Cycle({"fr", "de"}, 100))}},
      {{"probability", Numbers(Spread(0, 1, 200))}});
}

v1::DriftReport Build(const LiveSummaries& live, const v1::ReferenceProfile* profile,
                      const v1::MonitoringPolicy& policy = {}, DriftQuery query = Query()) {
  DriftSides sides;
  sides.current = &live;
  sides.profile = profile;
  absl::StatusOr<v1::DriftReport> report = BuildDriftReport(query, sides, policy);
  INFO(report.status().ToString());
  REQUIRE(report.ok());
  return *report;
}

TEST_CASE("A numeric input that moved drifts by AUTO's KS, with every score field filled") {
  const v1::ReferenceProfile profile = FraudProfile();
  const v1::DriftReport report = Build(
      Live(200, {Numbers(Spread(50, 100, 200)), Categories(Cycle({"fr", "de"}, 100))}), &profile);
  REQUIRE(report.features_size() == 2);
  const v1::FeatureDrift& amount = report.features(0);
  CHECK(amount.name() == "amount");
  CHECK(amount.status() == v1::DRIFT_STATUS_DRIFTED);
  CHECK(amount.column_type() == "numeric");
  CHECK(amount.severity() == v1::SEVERITY_WARNING);
  CHECK(amount.count() == 200);
  CHECK(amount.out_of_range_count() == 100);  // 100..149.5 lie above the reference's 99.5.
  REQUIRE(amount.scores_size() == 1);
  const v1::DriftScore& score = amount.scores(0);
  CHECK(score.metric() == v1::DRIFT_METRIC_KS);
  CHECK(score.auto_selected());
  CHECK(score.has_p_value());
  CHECK(score.p_value().value() < 0.05);
  CHECK(score.value() == Approx(0.5).margin(0.01));
  CHECK(score.threshold() == Approx(0.05));
  CHECK(score.drift_when() == v1::DRIFT_WHEN_P_VALUE_BELOW);
  CHECK(score.reference_count() == 200);
  CHECK(score.current_count() == 200);
  CHECK(score.enough_data());
  CHECK(score.drifted());
  CHECK(score.error_bound() >= 0);

  const v1::FeatureDrift& country = report.features(1);
  CHECK(country.status() == v1::DRIFT_STATUS_NO_DRIFT);
  CHECK(country.severity() == v1::SEVERITY_OK);
  CHECK(country.column_type() == "binary");
  CHECK(country.out_of_range_count() == 0);

  CHECK(report.dataset_drift().columns() == 2);
  CHECK(report.dataset_drift().evaluated_columns() == 2);
  CHECK(report.dataset_drift().drifted_columns() == 1);
  CHECK(report.dataset_drift().drifted_share() == Approx(0.5));
  CHECK(report.dataset_drift().share_threshold() == Approx(0.5));
  CHECK(report.dataset_drift().drifted());
  CHECK(report.severity() == v1::SEVERITY_WARNING);
  CHECK_FALSE(report.no_reference());
  CHECK(report.prediction_count() == 200);
}

TEST_CASE("Categories the reference never listed are counted out of range, exactly") {
  const v1::ReferenceProfile profile = FraudProfile();
  const v1::DriftReport report = Build(
      Live(90, {Numbers(Spread(0, 100, 90)), Categories(Cycle({"fr", "de", "it"}, 90))}), &profile);
  const v1::FeatureDrift& country = report.features(1);
  CHECK(country.out_of_range_count() == 30);
  CHECK(country.column_type() == "categorical");
  CHECK(country.scores(0).metric() == v1::DRIFT_METRIC_CHI_SQUARED);
  CHECK(country.status() == v1::DRIFT_STATUS_DRIFTED);
}

TEST_CASE("Without a profile every column says NO_REFERENCE") {
  const v1::DriftReport report = Build(
      Live(50, {Numbers(Spread(0, 1, 50))}, {{"probability", Numbers(Spread(0, 1, 50))}}), nullptr);
  CHECK(report.no_reference());
  REQUIRE(report.features_size() == 1);
  CHECK(report.features(0).name() == "input_0");
  CHECK(report.features(0).status() == v1::DRIFT_STATUS_NO_REFERENCE);
  CHECK(report.features(0).scores_size() == 0);
  REQUIRE(report.predictions_size() == 1);
  CHECK(report.predictions(0).status() == v1::DRIFT_STATUS_NO_REFERENCE);
  CHECK(report.dataset_drift().evaluated_columns() == 0);
  CHECK_FALSE(report.dataset_drift().drifted());
}

TEST_CASE("Columns the profile lacks are NO_REFERENCE; outputs are matched by name") {
  const v1::ReferenceProfile profile = FraudProfile();
  const v1::DriftReport report =
      Build(Live(200,
                 {Numbers(Spread(0, 100, 200)), Categories(Cycle({"fr", "de"}, 200)),
                  Numbers(Spread(0, 1, 200))},
                 {{"predicted_label", Categories(Cycle({"0", "1"}, 200))},
                  {"probability", Numbers(Spread(0, 1, 200))}}),
            &profile);
  REQUIRE(report.features_size() == 3);
  CHECK(report.features(2).name() == "input_2");
  CHECK(report.features(2).status() == v1::DRIFT_STATUS_NO_REFERENCE);
  REQUIRE(report.predictions_size() == 2);
  CHECK(report.predictions(0).name() == "probability");
  CHECK(report.predictions(0).status() == v1::DRIFT_STATUS_NO_DRIFT);
  CHECK(report.predictions(1).name() == "predicted_label");
  CHECK(report.predictions(1).status() == v1::DRIFT_STATUS_NO_REFERENCE);
  CHECK(report.predictions(1).column_type() == "categorical");
}

TEST_CASE("Too few live values give NOT_ENOUGH_DATA, and min_samples sets how few") {
  const v1::ReferenceProfile profile = FraudProfile();
  const LiveSummaries live =
      Live(10, {Numbers(Spread(50, 100, 10)), Categories(Cycle({"fr", "de"}, 10))});
  const v1::DriftReport report = Build(live, &profile);
  CHECK(report.features(0).status() == v1::DRIFT_STATUS_NOT_ENOUGH_DATA);
  CHECK(report.features(0).severity() == v1::SEVERITY_INFO);
  CHECK_FALSE(report.features(0).scores(0).enough_data());
  CHECK(report.dataset_drift().evaluated_columns() == 0);
  // A window without any traffic: still one column per reference column.
  const v1::DriftReport empty = Build(Live(0, {}), &profile);
  REQUIRE(empty.features_size() == 2);
  CHECK(empty.features(0).status() == v1::DRIFT_STATUS_NOT_ENOUGH_DATA);
  CHECK(empty.predictions(0).status() == v1::DRIFT_STATUS_NOT_ENOUGH_DATA);

  v1::MonitoringPolicy policy;
  policy.set_min_samples(5);
  const v1::DriftReport enough = Build(live, &profile, policy);
  CHECK(enough.features(0).status() == v1::DRIFT_STATUS_DRIFTED);
  CHECK(enough.sufficient_data());
  policy.set_min_samples(20);
  CHECK_FALSE(Build(live, &profile, policy).sufficient_data());
}

TEST_CASE("The policy's tests and thresholds decide the scores and their severity") {
  const v1::ReferenceProfile profile = FraudProfile();
  const LiveSummaries live =
      Live(200, {Numbers(Spread(50, 100, 200)), Categories(Cycle({"fr", "de"}, 200))});
  v1::MonitoringPolicy policy;
  v1::DriftThreshold* ks = policy.add_drift();
  ks->set_metric(v1::DRIFT_METRIC_KS);
  ks->set_warning_threshold(0.05);
  ks->set_critical_threshold(0.001);
  v1::DriftThreshold* psi = policy.add_drift();
  psi->set_metric(v1::DRIFT_METRIC_PSI);
  psi->set_warning_threshold(50);  // Far above what this shift gives.
  psi->add_features("amount");

  const v1::DriftReport report = Build(live, &profile, policy);
  const v1::FeatureDrift& amount = report.features(0);
  REQUIRE(amount.scores_size() == 2);
  CHECK(amount.scores(0).metric() == v1::DRIFT_METRIC_KS);
  CHECK_FALSE(amount.scores(0).auto_selected());
  CHECK(amount.scores(0).severity() == v1::SEVERITY_CRITICAL);
  CHECK(amount.scores(0).critical_threshold() == Approx(0.001));
  CHECK(amount.scores(1).metric() == v1::DRIFT_METRIC_PSI);
  CHECK(amount.scores(1).drift_when() == v1::DRIFT_WHEN_STATISTIC_AT_LEAST);
  CHECK(amount.scores(1).threshold() == Approx(50));
  CHECK_FALSE(amount.scores(1).drifted());
  CHECK(amount.severity() == v1::SEVERITY_CRITICAL);
  CHECK(amount.status() == v1::DRIFT_STATUS_DRIFTED);  // The first score's verdict.

  // KS does not fit a categorical column: it gets AUTO's test instead of failing the report.
  const v1::FeatureDrift& country = report.features(1);
  REQUIRE(country.scores_size() == 1);
  CHECK(country.scores(0).auto_selected());
  CHECK(country.scores(0).metric() == v1::DRIFT_METRIC_Z_TEST);
  CHECK(report.severity() == v1::SEVERITY_CRITICAL);
}

TEST_CASE("Asked metrics replace the policy's; outputs follow include_predictions") {
  const v1::ReferenceProfile profile = FraudProfile();
  const LiveSummaries live =
      Live(200, {Numbers(Spread(0, 100, 200))}, {{"probability", Numbers(Spread(0, 1, 200))}});
  v1::MonitoringPolicy policy;
  v1::DriftThreshold* wasserstein = policy.add_drift();
  wasserstein->set_metric(v1::DRIFT_METRIC_WASSERSTEIN);
  wasserstein->set_include_predictions(true);
  const v1::DriftReport by_policy = Build(live, &profile, policy);
  CHECK(by_policy.predictions(0).scores(0).metric() == v1::DRIFT_METRIC_WASSERSTEIN);

  DriftQuery query = Query();
  query.metrics = {v1::DRIFT_METRIC_JS, v1::DRIFT_METRIC_OUT_OF_RANGE};
  const v1::DriftReport asked = Build(live, &profile, policy, query);
  REQUIRE(asked.features(0).scores_size() == 2);
  CHECK(asked.features(0).scores(0).metric() == v1::DRIFT_METRIC_JS);
  CHECK(asked.features(0).scores(1).metric() == v1::DRIFT_METRIC_OUT_OF_RANGE);
  CHECK(asked.features(0).scores(1).value() == Approx(0));

  query.metrics = {v1::DRIFT_METRIC_UNSPECIFIED};
  DriftSides sides;
  sides.current = &live;
  sides.profile = &profile;
  CHECK(absl::IsInvalidArgument(BuildDriftReport(query, sides, policy).status()));
}

TEST_CASE("A baseline range is compared instead of the profile, with live profiles on ask") {
  const LiveSummaries baseline = Live(200, {Numbers(Spread(0, 100, 200))});
  const LiveSummaries current = Live(200, {Numbers(Spread(60, 100, 200))});
  DriftQuery query = Query();
  query.has_baseline = true;
  query.baseline_from = kFrom - absl::Hours(24);
  query.baseline_to = kFrom - absl::Hours(23);
  query.include_live_profiles = true;
  DriftSides sides;
  sides.current = &current;
  sides.baseline = &baseline;
  absl::StatusOr<v1::DriftReport> report = BuildDriftReport(query, sides, {});
  REQUIRE(report.ok());
  CHECK_FALSE(report->no_reference());
  CHECK(report->has_baseline_window());
  CHECK(report->features(0).status() == v1::DRIFT_STATUS_DRIFTED);
  CHECK(report->features(0).out_of_range_count() == 120);
  CHECK(report->features(0).live().numeric().count() == 200);
  CHECK(report->features(0).reference().numeric().count() == 200);
}

}  // namespace
}  // namespace fabrique::monitoring

namespace fabrique::monitoring {
namespace {

TEST_CASE("Live values of another type than the reference's are flagged, not a failed report") {
  const v1::ReferenceProfile profile = FraudProfile();
  ColumnSummary missing_only = testing::Numbers({});
  missing_only.AddMissing(40);
  const v1::DriftReport report =
      Build(Live(40, {Categories(Cycle({"a", "b"}, 40)), std::move(missing_only)}), &profile);
  const v1::FeatureDrift& amount = report.features(0);
  CHECK(amount.status() == v1::DRIFT_STATUS_NO_REFERENCE);
  CHECK(amount.severity() == v1::SEVERITY_WARNING);
  CHECK(amount.column_type() == "categorical");
  CHECK(amount.out_of_range_count() == 40);
  // A column with only missing values is read as the reference's type.
  const v1::FeatureDrift& country = report.features(1);
  CHECK(country.status() == v1::DRIFT_STATUS_NOT_ENOUGH_DATA);
  CHECK(country.missing_rate() == Approx(1.0));
}

}  // namespace
}  // namespace fabrique::monitoring
