// Policies that can never behave as written are refused, naming the field; sensible ones (and
// the built-in one) pass.

#include "libs/monitoring/alerts/policy_validation.h"

#include <functional>
#include <string>

#include "catch2/catch.hpp"
#include "libs/monitoring/alerts/proto_time.h"

namespace fabrique::monitoring {
namespace {

v1::MonitoringPolicy Sensible() {
  v1::MonitoringPolicy policy;
  policy.set_model("fraud");
  *policy.mutable_window() = ToProtoDuration(absl::Hours(1));
  *policy.mutable_evaluation_interval() = ToProtoDuration(absl::Hours(2));  // > window: fine.
  policy.set_min_samples(500);
  v1::DriftThreshold* ks = policy.add_drift();
  ks->set_metric(v1::DRIFT_METRIC_KS);
  ks->set_warning_threshold(0.05);
  ks->set_critical_threshold(0.01);
  v1::DriftThreshold* psi = policy.add_drift();
  psi->set_metric(v1::DRIFT_METRIC_PSI);
  psi->set_warning_threshold(0.1);
  psi->set_critical_threshold(0.25);
  psi->add_features("amount");
  v1::MetricThreshold* floor = policy.add_performance();
  floor->set_metric("auc");
  floor->set_op(v1::COMPARISON_OP_GREATER_OR_EQUAL);
  floor->set_value(0.75);
  policy.set_max_missing_rate_increase(0.1);
  policy.set_dataset_drift_share(0.5);
  policy.mutable_retrain()->set_enabled(true);
  policy.mutable_retrain()->set_consecutive_windows(3);
  *policy.mutable_retrain()->mutable_cooldown() = ToProtoDuration(absl::Hours(24));
  return policy;
}

// The status of Sensible() changed by `edit`.
absl::Status Edited(const std::function<void(v1::MonitoringPolicy&)>& edit) {
  v1::MonitoringPolicy policy = Sensible();
  edit(policy);
  return ValidatePolicy(policy);
}

void RequireInvalid(const absl::Status& status, const std::string& field) {
  INFO(status.ToString());
  REQUIRE(absl::IsInvalidArgument(status));
  CHECK(status.message().find("policy." + field) != absl::string_view::npos);
}

TEST_CASE("A sensible policy and the built-in one are valid", "[alerts][policy]") {
  CHECK(ValidatePolicy(Sensible()).ok());
  CHECK(ValidatePolicy(BuiltInPolicy()).ok());
  CHECK(ValidatePolicy(v1::MonitoringPolicy()).ok());
  CHECK(PolicyWindow(v1::MonitoringPolicy()) == absl::Hours(1));
  CHECK(PolicyEvaluationInterval(v1::MonitoringPolicy()) == absl::Minutes(5));
}

TEST_CASE("Negative durations and counts are refused naming the field", "[alerts][policy]") {
  RequireInvalid(Edited([](auto& p) { *p.mutable_window() = ToProtoDuration(-absl::Hours(1)); }),
                 "window");
  RequireInvalid(Edited([](auto& p) {
                   *p.mutable_evaluation_interval() = ToProtoDuration(-absl::Seconds(1));
                 }),
                 "evaluation_interval");
  RequireInvalid(
      Edited([](auto& p) { *p.mutable_no_traffic_after() = ToProtoDuration(-absl::Minutes(1)); }),
      "no_traffic_after");
  RequireInvalid(Edited([](auto& p) { p.set_min_samples(-1); }), "min_samples");
  RequireInvalid(Edited([](auto& p) { p.set_min_labelled(-5); }), "min_labelled");
  RequireInvalid(Edited([](auto& p) {
                   *p.mutable_retrain()->mutable_cooldown() = ToProtoDuration(-absl::Hours(1));
                 }),
                 "retrain.cooldown");
  RequireInvalid(Edited([](auto& p) { p.mutable_retrain()->set_consecutive_windows(-2); }),
                 "retrain.consecutive_windows");
}

TEST_CASE("p-value thresholds must lie in (0, 1) with critical the smaller", "[alerts][policy]") {
  for (v1::DriftMetric metric : {v1::DRIFT_METRIC_KS, v1::DRIFT_METRIC_CHI_SQUARED,
                                 v1::DRIFT_METRIC_Z_TEST, v1::DRIFT_METRIC_AUTO}) {
    INFO(v1::DriftMetric_Name(metric));
    RequireInvalid(Edited([&](auto& p) {
                     p.mutable_drift(0)->set_metric(metric);
                     p.mutable_drift(0)->set_warning_threshold(1.5);
                   }),
                   "drift[0].warning_threshold");
    RequireInvalid(Edited([&](auto& p) {
                     p.mutable_drift(0)->set_metric(metric);
                     p.mutable_drift(0)->set_critical_threshold(-0.01);
                   }),
                   "drift[0].critical_threshold");
    RequireInvalid(Edited([&](auto& p) {
                     p.mutable_drift(0)->set_metric(metric);
                     p.mutable_drift(0)->set_warning_threshold(0.01);
                     p.mutable_drift(0)->set_critical_threshold(0.05);
                   }),
                   "drift[0].critical_threshold");
    RequireInvalid(Edited([&](auto& p) {
                     p.mutable_drift(0)->set_metric(metric);
                     p.mutable_drift(0)->set_warning_threshold(0.05);
                     p.mutable_drift(0)->set_critical_threshold(0.05);
                   }),
                   "drift[0].critical_threshold");
  }
  // A threshold of 0 is off, not impossible.
  CHECK(Edited([](auto& p) { p.mutable_drift(0)->set_critical_threshold(0); }).ok());
}

TEST_CASE("Distance thresholds must be >= 0, in range, with critical the larger",
          "[alerts][policy]") {
  RequireInvalid(Edited([](auto& p) { p.mutable_drift(1)->set_warning_threshold(-0.1); }),
                 "drift[1].warning_threshold");
  RequireInvalid(Edited([](auto& p) { p.mutable_drift(1)->set_critical_threshold(0.05); }),
                 "drift[1].critical_threshold");
  RequireInvalid(Edited([](auto& p) {
                   p.mutable_drift(1)->set_metric(v1::DRIFT_METRIC_JS);
                   p.mutable_drift(1)->set_critical_threshold(0.9);  // > sqrt(ln 2).
                 }),
                 "drift[1].critical_threshold");
  RequireInvalid(Edited([](auto& p) {
                   p.mutable_drift(1)->set_metric(v1::DRIFT_METRIC_OUT_OF_RANGE);
                   p.mutable_drift(1)->set_critical_threshold(1.5);
                 }),
                 "drift[1].critical_threshold");
  CHECK(Edited([](auto& p) {
          p.mutable_drift(1)->set_metric(v1::DRIFT_METRIC_WASSERSTEIN);
          p.mutable_drift(1)->set_critical_threshold(3);
        }).ok());
  RequireInvalid(
      Edited([](auto& p) { p.mutable_drift(1)->set_metric(v1::DRIFT_METRIC_UNSPECIFIED); }),
      "drift[1].metric");
  RequireInvalid(Edited([](auto& p) { p.mutable_drift(1)->add_features(""); }),
                 "drift[1].features[1]");
}

TEST_CASE("Performance floors name known metrics within their range", "[alerts][policy]") {
  RequireInvalid(Edited([](auto& p) { p.mutable_performance(0)->set_metric("aucc"); }),
                 "performance[0].metric");
  RequireInvalid(Edited([](auto& p) { p.mutable_performance(0)->set_value(1.3); }),
                 "performance[0].value");
  RequireInvalid(Edited([](auto& p) {
                   p.mutable_performance(0)->set_metric("accuracy");
                   p.mutable_performance(0)->set_value(-0.1);
                 }),
                 "performance[0].value");
  RequireInvalid(Edited([](auto& p) {
                   p.mutable_performance(0)->set_metric("rmse");
                   p.mutable_performance(0)->set_op(v1::COMPARISON_OP_LESS_OR_EQUAL);
                   p.mutable_performance(0)->set_value(-2);
                 }),
                 "performance[0].value");
  RequireInvalid(
      Edited([](auto& p) { p.mutable_performance(0)->set_op(v1::COMPARISON_OP_UNSPECIFIED); }),
      "performance[0].op");
  CHECK(Edited([](auto& p) {
          p.mutable_performance(0)->set_metric("rmse");
          p.mutable_performance(0)->set_op(v1::COMPARISON_OP_LESS_OR_EQUAL);
          p.mutable_performance(0)->set_value(12.5);
        }).ok());
}

TEST_CASE("Rates and shares must lie in their ranges", "[alerts][policy]") {
  RequireInvalid(Edited([](auto& p) { p.set_max_missing_rate_increase(1.2); }),
                 "max_missing_rate_increase");
  RequireInvalid(Edited([](auto& p) { p.set_max_missing_rate_increase(-0.1); }),
                 "max_missing_rate_increase");
  RequireInvalid(Edited([](auto& p) { p.set_dataset_drift_share(1.01); }), "dataset_drift_share");
  RequireInvalid(Edited([](auto& p) { p.set_dataset_drift_share(-0.5); }), "dataset_drift_share");
  CHECK(Edited([](auto& p) { p.set_dataset_drift_share(1); }).ok());
}

}  // namespace
}  // namespace fabrique::monitoring
