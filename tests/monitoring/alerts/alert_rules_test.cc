// The rules that turn one evaluation's reports into alerts: which inputs and outputs a policy
// watches, the summaries, p-value tests, and what has no verdict.

#include "libs/monitoring/alerts/alert_rules.h"

#include "alerts_test_util.h"
#include "catch2/catch.hpp"

namespace fabrique::monitoring {
namespace {

using alerts_test::DriftWith;
using alerts_test::kStart;

EvaluationInput Input(const v1::MonitoringPolicy& policy, const v1::DriftReport* drift) {
  EvaluationInput input;
  input.model = "fraud";
  input.version = 2;
  input.policy = policy;
  input.drift = drift;
  input.now = kStart;
  return input;
}

TEST_CASE("A threshold naming features watches only those; outputs only when included",
          "[alerts][rules]") {
  v1::MonitoringPolicy policy;
  v1::DriftThreshold* psi = policy.add_drift();
  psi->set_metric(v1::DRIFT_METRIC_PSI);
  psi->add_features("amount");
  v1::DriftReport report =
      DriftWith({{"amount", v1::SEVERITY_WARNING}, {"age", v1::SEVERITY_CRITICAL}});
  v1::FeatureDrift* output = report.add_predictions();
  *output = report.features(1);
  output->set_name("score");
  Evaluation evaluation = EvaluatePolicy(Input(policy, &report));
  REQUIRE(evaluation.raised.size() == 1);
  CHECK(evaluation.raised[0].condition.subject == "amount");
  CHECK(evaluation.drifted);

  psi->set_include_predictions(true);
  evaluation = EvaluatePolicy(Input(policy, &report));
  REQUIRE(evaluation.raised.size() == 2);
  CHECK(evaluation.raised[1].condition.kind == v1::ALERT_KIND_PREDICTION_DRIFT);
  CHECK(evaluation.raised[1].summary == "PSI 0.4 on score (critical >= 0.25)");
}

TEST_CASE("p-value tests read 'p below'; columns without a verdict decide nothing",
          "[alerts][rules]") {
  v1::MonitoringPolicy policy;
  policy.add_drift()->set_metric(v1::DRIFT_METRIC_KS);
  v1::DriftReport report = DriftWith({{"amount", v1::SEVERITY_CRITICAL}, {"age", v1::SEVERITY_OK}});
  v1::DriftScore* ks = report.mutable_features(0)->mutable_scores(0);
  ks->set_metric(v1::DRIFT_METRIC_KS);
  ks->set_value(0.21);
  ks->mutable_p_value()->set_value(0.0012);
  ks->set_warning_threshold(0.05);
  ks->set_critical_threshold(0.01);
  ks->set_drift_when(v1::DRIFT_WHEN_P_VALUE_BELOW);
  report.mutable_features(1)->set_status(v1::DRIFT_STATUS_NOT_ENOUGH_DATA);
  const Evaluation evaluation = EvaluatePolicy(Input(policy, &report));
  REQUIRE(evaluation.raised.size() == 1);
  CHECK(evaluation.raised[0].summary == "KS p=0.0012 on amount (critical < 0.01)");
  REQUIRE(evaluation.unknown.size() == 1);
  CHECK(evaluation.unknown[0].subject == "age");
  CHECK(evaluation.drift_judged);
}

TEST_CASE("Too few predictions, or no reference, judges no drift at all", "[alerts][rules]") {
  v1::MonitoringPolicy policy;
  policy.add_drift()->set_metric(v1::DRIFT_METRIC_PSI);
  v1::DriftReport few = DriftWith({{"amount", v1::SEVERITY_CRITICAL}}, /*sufficient=*/false);
  Evaluation evaluation = EvaluatePolicy(Input(policy, &few));
  CHECK(evaluation.raised.empty());
  CHECK(evaluation.judged.empty());
  CHECK_FALSE(evaluation.drift_judged);
  v1::DriftReport unreferenced = DriftWith({{"amount", v1::SEVERITY_CRITICAL}});
  unreferenced.set_no_reference(true);
  evaluation = EvaluatePolicy(Input(policy, &unreferenced));
  CHECK(evaluation.raised.empty());
  CHECK_FALSE(evaluation.drift_judged);
}

TEST_CASE("A retrain counts drift at its own minimum severity", "[alerts][rules]") {
  v1::MonitoringPolicy policy;
  policy.add_drift()->set_metric(v1::DRIFT_METRIC_PSI);
  policy.mutable_retrain()->set_min_severity(v1::SEVERITY_CRITICAL);
  v1::DriftReport warning = DriftWith({{"amount", v1::SEVERITY_WARNING}});
  Evaluation evaluation = EvaluatePolicy(Input(policy, &warning));
  CHECK(evaluation.raised.size() == 1);  // Alerted...
  CHECK_FALSE(evaluation.drifted);       // ...but not severe enough to count for a retrain.
}

}  // namespace
}  // namespace fabrique::monitoring
