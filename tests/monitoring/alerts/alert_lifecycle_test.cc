// Alerts through evaluation rounds: raised FIRING with their report, updated while the
// condition holds, resolved when a round finds it clear, left alone without enough data;
// acknowledged and silenced; listed newest first with filters and pages.

#include <algorithm>
#include <string>

#include "alerts_test_util.h"
#include "catch2/catch.hpp"

namespace fabrique::monitoring {
namespace {

using alerts_test::Active;
using alerts_test::AlertsHarness;
using alerts_test::DriftWith;
using alerts_test::kStart;
using alerts_test::PerformanceWith;

constexpr v1::Severity kOk = v1::SEVERITY_OK;
constexpr v1::Severity kWarning = v1::SEVERITY_WARNING;
constexpr v1::Severity kCritical = v1::SEVERITY_CRITICAL;

std::vector<v1::Alert> AlertsOf(AlertsHarness& h, v1::AlertState state) {
  AlertFilter filter;
  filter.state = state;
  return h.alerts->List(filter, 100, "")->alerts;
}

TEST_CASE("A drifted feature fires, updates, then resolves when clear", "[alerts][lifecycle]") {
  AlertsHarness h;
  h.windows.Set({Active("fraud", 3, kStart)});
  h.reports.SetDrift(DriftWith({{"amount", kCritical}, {"age", kOk}}));
  absl::StatusOr<EvaluationRound> round = h.engine->RunRound(true);
  REQUIRE(round.ok());
  REQUIRE(round->versions.size() == 1);
  REQUIRE(round->versions[0].raised.size() == 1);
  const v1::Alert fired = round->versions[0].raised[0];
  CHECK(fired.kind() == v1::ALERT_KIND_FEATURE_DRIFT);
  CHECK(fired.state() == v1::ALERT_STATE_FIRING);
  CHECK(fired.severity() == kCritical);
  CHECK(fired.summary() == "PSI 0.4 on amount (critical >= 0.25)");
  CHECK(fired.report_id() == "d1");
  CHECK(fired.model_version().version() == 3);

  // Still drifted, less: the same alert, updated.
  h.clock.Advance(absl::Minutes(5));
  h.reports.SetDrift(DriftWith({{"amount", kWarning}}));
  round = h.engine->RunRound();
  REQUIRE(round->versions.size() == 1);
  REQUIRE(round->versions[0].raised.size() == 1);
  CHECK(round->versions[0].raised[0].id() == fired.id());
  CHECK(round->versions[0].raised[0].severity() == kWarning);
  CHECK(round->versions[0].raised[0].report_id() == "d3");

  // Not enough data: nothing decided.
  h.clock.Advance(absl::Minutes(5));
  h.reports.SetDrift(DriftWith({{"amount", kOk}}, /*sufficient=*/false));
  round = h.engine->RunRound();
  CHECK(round->versions[0].resolved.empty());
  CHECK(AlertsOf(h, v1::ALERT_STATE_FIRING).size() == 1);

  // Before the interval: not evaluated.
  h.clock.Advance(absl::Minutes(1));
  CHECK(h.engine->RunRound()->versions.empty());

  h.clock.Advance(absl::Minutes(4));
  h.reports.SetDrift(DriftWith({{"amount", kOk}}));
  round = h.engine->RunRound();
  REQUIRE(round->versions[0].resolved.size() == 1);
  CHECK(round->versions[0].resolved[0].id() == fired.id());
  const v1::Alert resolved = *h.alerts->Get(fired.id());
  CHECK(resolved.state() == v1::ALERT_STATE_RESOLVED);
  CHECK(FromProtoTime(resolved.resolve_time()) == kStart + absl::Minutes(15));

  // It drifts again: a new alert.
  h.clock.Advance(absl::Minutes(5));
  h.reports.SetDrift(DriftWith({{"amount", kWarning}}));
  round = h.engine->RunRound();
  REQUIRE(round->versions[0].raised.size() == 1);
  CHECK(round->versions[0].raised[0].id() != fired.id());
}

TEST_CASE("Performance floors, missing rates and silence raise their kinds",
          "[alerts][lifecycle]") {
  AlertsHarness h;
  v1::MonitoringPolicy policy;
  policy.set_model("fraud");
  v1::MetricThreshold* floor = policy.add_performance();
  floor->set_metric("auc");
  floor->set_op(v1::COMPARISON_OP_GREATER_OR_EQUAL);
  floor->set_value(0.75);
  policy.set_min_labelled(100);
  policy.set_max_missing_rate_increase(0.1);
  *policy.mutable_no_traffic_after() = ToProtoDuration(absl::Hours(2));
  REQUIRE(h.policies->Set(policy, v1::Principal()).ok());
  h.windows.Set({Active("fraud", 1, kStart - absl::Hours(3))});
  v1::DriftReport drift = DriftWith({{"amount", kOk}});
  drift.mutable_features(0)->set_missing_rate(0.3);
  drift.mutable_features(0)->set_reference_missing_rate(0.05);
  h.reports.SetDrift(drift);
  // Too few labels: no performance verdict.
  h.reports.SetPerformance(PerformanceWith(0.6, 50, false));
  EvaluationRound round = *h.engine->RunRound(true);
  std::vector<v1::AlertKind> kinds;
  for (const v1::Alert& alert : round.versions[0].raised) kinds.push_back(alert.kind());
  CHECK(kinds ==
        std::vector<v1::AlertKind>{v1::ALERT_KIND_DATA_QUALITY, v1::ALERT_KIND_NO_TRAFFIC});

  h.reports.SetPerformance(PerformanceWith(0.6, 500, true));
  round = *h.engine->RunRound(true);
  REQUIRE(round.versions[0].raised.size() == 3);
  v1::Alert performance;
  for (const v1::Alert& alert : round.versions[0].raised) {
    if (alert.kind() == v1::ALERT_KIND_PERFORMANCE) performance = alert;
  }
  CHECK(performance.kind() == v1::ALERT_KIND_PERFORMANCE);
  CHECK(performance.severity() == kCritical);
  CHECK(performance.summary() == "auc 0.6 on 500 labelled predictions (floor auc >= 0.75)");

  h.reports.SetPerformance(PerformanceWith(0.8, 500, true));
  h.windows.Set({Active("fraud", 1, h.clock.Now())});
  round = *h.engine->RunRound(true);
  CHECK(round.versions[0].resolved.size() == 2);  // Performance and traffic.
  CHECK(AlertsOf(h, v1::ALERT_STATE_FIRING).size() == 1);
}

TEST_CASE("Acknowledging mutes an alert; a resolved or unknown one cannot be",
          "[alerts][lifecycle]") {
  AlertsHarness h;
  h.windows.Set({Active("fraud", 3, kStart)});
  h.reports.SetDrift(DriftWith({{"amount", kWarning}}));
  const v1::Alert fired = h.engine->RunRound(true)->versions[0].raised[0];
  v1::Principal dana;
  dana.set_subject("dana");
  absl::StatusOr<v1::Alert> acked =
      h.alerts->Acknowledge(fired.id(), dana, "looking", absl::Hours(2));
  REQUIRE(acked.ok());
  CHECK(acked->state() == v1::ALERT_STATE_ACKNOWLEDGED);
  CHECK(acked->acknowledged_by().subject() == "dana");
  CHECK(acked->acknowledge_comment() == "looking");
  CHECK(FromProtoTime(acked->silenced_until()) == kStart + absl::Hours(2));
  CHECK((*h.alerts->FiringBySeverity("fraud", h.clock.Now()))[kWarning] == 0);

  // Worse than when acknowledged: it fires again.
  h.reports.SetDrift(DriftWith({{"amount", kCritical}}));
  CHECK(h.engine->RunRound(true)->versions[0].raised[0].state() == v1::ALERT_STATE_FIRING);

  CHECK(absl::IsNotFound(h.alerts->Acknowledge("nope", dana, "", absl::ZeroDuration()).status()));
  CHECK(absl::IsInvalidArgument(
      h.alerts->Acknowledge(fired.id(), dana, "", -absl::Hours(1)).status()));
  h.reports.SetDrift(DriftWith({{"amount", kOk}}));
  REQUIRE(h.engine->RunRound(true)->versions[0].resolved.size() == 1);
  CHECK(absl::IsFailedPrecondition(
      h.alerts->Acknowledge(fired.id(), dana, "", absl::ZeroDuration()).status()));
}

TEST_CASE("Alerts list newest first, filtered and paged", "[alerts][lifecycle]") {
  AlertsHarness h;
  for (int i = 0; i < 5; ++i) {
    AlertFinding finding;
    finding.condition = {i % 2 == 0 ? "fraud" : "churn", 1, v1::ALERT_KIND_FEATURE_DRIFT,
                         absl::StrCat("f", i)};
    finding.severity = i == 4 ? kCritical : kWarning;
    REQUIRE(h.alerts->Raise(finding).ok());
    h.clock.Advance(absl::Seconds(1));
  }
  std::vector<std::string> subjects;
  std::string token;
  do {
    AlertPage page = *h.alerts->List(AlertFilter(), 2, token);
    for (const v1::Alert& alert : page.alerts) subjects.push_back(alert.id());
    token = page.next_page_token;
  } while (!token.empty());
  REQUIRE(subjects.size() == 5);
  CHECK(std::is_sorted(subjects.rbegin(), subjects.rend()));
  AlertFilter fraud;
  fraud.model = "fraud";
  CHECK(h.alerts->List(fraud, 10, "")->alerts.size() == 3);
  AlertFilter critical;
  critical.min_severity = kCritical;
  CHECK(h.alerts->List(critical, 10, "")->alerts.size() == 1);
  AlertFilter recent;
  recent.fired_from = kStart + absl::Seconds(3);
  CHECK(h.alerts->List(recent, 10, "")->alerts.size() == 2);
  AlertFilter hidden;
  hidden.visible = [](const v1::Alert& alert) { return alert.model_version().model() == "churn"; };
  CHECK(h.alerts->List(hidden, 10, "")->alerts.size() == 2);
  // Newest first.
  const std::vector<v1::Alert> all = h.alerts->List(AlertFilter(), 10, "")->alerts;
  CHECK(all.front().severity() == kCritical);
}

TEST_CASE("A round names every active version; one gone quiet is evaluated at once on return",
          "[alerts][lifecycle]") {
  AlertsHarness h;
  h.reports.SetDrift(DriftWith({{"amount", kOk}}));
  using Versions = std::vector<std::pair<std::string, int64_t>>;
  h.windows.Set({Active("fraud", 3, kStart), Active("fraud", 4, kStart)});
  absl::StatusOr<EvaluationRound> round = h.engine->RunRound(true);
  REQUIRE(round.ok());
  CHECK(round->versions.size() == 2);
  CHECK(round->active == Versions{{"fraud", 3}, {"fraud", 4}});

  // Within the interval: nothing evaluated, both still active.
  h.clock.Advance(absl::Minutes(1));
  round = h.engine->RunRound();
  CHECK(round->versions.empty());
  CHECK(round->active == Versions{{"fraud", 3}, {"fraud", 4}});

  // Version 3 goes quiet, then comes back before the interval: it is evaluated at once.
  h.windows.Set({Active("fraud", 4, kStart)});
  round = h.engine->RunRound();
  CHECK(round->active == Versions{{"fraud", 4}});
  h.windows.Set({Active("fraud", 3, kStart), Active("fraud", 4, kStart)});
  round = h.engine->RunRound();
  REQUIRE(round->versions.size() == 1);
  CHECK(round->versions[0].version == 3);
}

}  // namespace
}  // namespace fabrique::monitoring
