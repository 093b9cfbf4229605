// The retrain trigger: K consecutive drifted windows (not-enough-data windows neither count nor
// break the run), a performance breach at once, the cooldown, the tower down then up with
// backoff, the run's spec moved to now, and counts and kept requests surviving a restart.

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

void SetRetrainPolicy(AlertsHarness& h, int windows, absl::Duration cooldown) {
  v1::MonitoringPolicy policy;
  policy.set_model("fraud");
  policy.add_drift()->set_metric(v1::DRIFT_METRIC_PSI);
  v1::MetricThreshold* floor = policy.add_performance();
  floor->set_metric("auc");
  floor->set_op(v1::COMPARISON_OP_GREATER_OR_EQUAL);
  floor->set_value(0.7);
  policy.mutable_retrain()->set_enabled(true);
  policy.mutable_retrain()->set_consecutive_windows(windows);
  *policy.mutable_retrain()->mutable_cooldown() = ToProtoDuration(cooldown);
  REQUIRE(h.policies->Set(policy, v1::Principal()).ok());
}

// Runs one round five minutes after the last.
VersionEvaluation Round(AlertsHarness& h) {
  h.clock.Advance(absl::Minutes(5));
  absl::StatusOr<EvaluationRound> round = h.engine->RunRound();
  REQUIRE(round.ok());
  REQUIRE(round->versions.size() == 1);
  return round->versions[0];
}

TEST_CASE("K consecutive drifted windows ask the tower for the version's run, moved to now",
          "[alerts][retrain]") {
  AlertsHarness h;
  SetRetrainPolicy(h, 3, absl::Hours(24));
  h.windows.Set({Active("fraud", 7, kStart)});
  h.reports.SetPerformance(PerformanceWith(0.9, 10, false));
  h.reports.SetDrift(DriftWith({{"amount", v1::SEVERITY_CRITICAL}}));
  CHECK(Round(h).retrain.consecutive_drifted == 1);
  h.reports.SetDrift(DriftWith({{"amount", v1::SEVERITY_CRITICAL}}, /*sufficient=*/false));
  CHECK(Round(h).retrain.consecutive_drifted == 1);  // Says nothing: neither counts nor breaks.
  h.reports.SetDrift(DriftWith({{"amount", v1::SEVERITY_WARNING}}));
  CHECK(Round(h).retrain.consecutive_drifted == 2);
  CHECK(h.tower.requests.empty());
  h.reports.SetDrift(DriftWith({{"amount", v1::SEVERITY_CRITICAL}}));
  const VersionEvaluation third = Round(h);
  REQUIRE(third.retrain.requested);
  REQUIRE(third.retrain.job.has_value());
  REQUIRE(h.tower.requests.size() == 1);
  const v1::SubmitJobRequest& sent = h.tower.requests[0];
  CHECK(sent.squad() == "risk");
  CHECK(sent.use_case_id() == "uc-1");
  CHECK(sent.trigger() == v1::JOB_TRIGGER_MONITOR);
  CHECK(!sent.request_id().empty());
  CHECK(sent.spec().training().model_name() == "fraud");
  CHECK(sent.spec().training().epochs() == 7);
  CHECK(sent.spec().training().parent_version() == 7);
  // The same 29 days of label events, ending now.
  CHECK(FromProtoTime(sent.spec().training().time_range().end_time()) == h.clock.Now());
  CHECK(FromProtoTime(sent.spec().training().time_range().start_time()) ==
        h.clock.Now() - absl::Hours(24 * 29));
  CHECK(sent.reason().find("3 consecutive drifted windows") != std::string::npos);
  // The job is on the alert that caused it.
  REQUIRE(third.raised.size() == 1);
  CHECK(third.raised[0].retrain_job_id() == "job-1");
  CHECK(h.alerts->Get(third.raised[0].id())->retrain_job_id() == "job-1");

  // A clean window resets the run; within the cooldown, no second retrain.
  h.reports.SetDrift(DriftWith({{"amount", v1::SEVERITY_OK}}));
  CHECK(Round(h).retrain.consecutive_drifted == 0);
  h.reports.SetDrift(DriftWith({{"amount", v1::SEVERITY_CRITICAL}}));
  Round(h);
  Round(h);
  const VersionEvaluation cooling = Round(h);
  CHECK_FALSE(cooling.retrain.requested);
  CHECK(cooling.retrain.skipped.find("cooldown") != std::string::npos);
  CHECK(h.tower.requests.size() == 1);
  // After it, the next run of three asks again.
  h.clock.Advance(absl::Hours(24));
  CHECK(Round(h).retrain.requested);
  CHECK(h.tower.requests.size() == 2);
}

TEST_CASE("A breached performance floor asks at once; the policy's template wins",
          "[alerts][retrain]") {
  AlertsHarness h;
  SetRetrainPolicy(h, 5, absl::ZeroDuration());
  v1::MonitoringPolicy policy = *h.policies->GetOwn("fraud");
  policy.mutable_retrain()->mutable_spec_template()->set_model_name("fraud");
  policy.mutable_retrain()->mutable_spec_template()->set_epochs(99);
  REQUIRE(h.policies->Set(policy, v1::Principal()).ok());
  h.windows.Set({Active("fraud", 2, kStart)});
  h.reports.SetDrift(DriftWith({{"amount", v1::SEVERITY_OK}}));
  h.reports.SetPerformance(PerformanceWith(0.55, 1000, true));
  const VersionEvaluation breached = Round(h);
  REQUIRE(breached.retrain.job.has_value());
  REQUIRE(h.tower.requests.size() == 1);
  CHECK(h.tower.requests[0].spec().training().epochs() == 99);
  CHECK(h.tower.requests[0].squad() == "risk");
  CHECK(h.tower.requests[0].reason().find("performance floor breached") != std::string::npos);
}

TEST_CASE("The tower down: kept, retried with backoff, accepted once, across a restart",
          "[alerts][retrain]") {
  AlertsHarness h;
  SetRetrainPolicy(h, 1, absl::ZeroDuration());
  h.windows.Set({Active("fraud", 7, kStart)});
  h.reports.SetPerformance(PerformanceWith(0.9, 10, false));
  h.reports.SetDrift(DriftWith({{"amount", v1::SEVERITY_CRITICAL}}));
  h.tower.down = true;
  const VersionEvaluation first = Round(h);
  CHECK(first.retrain.requested);
  CHECK_FALSE(first.retrain.job.has_value());
  REQUIRE(h.tower.requests.size() == 1);
  const std::string request_id = h.tower.requests[0].request_id();
  REQUIRE(h.retrain->Pending("fraud")->has_value());
  // Still drifted, but one request is waiting: no second one.
  const VersionEvaluation second = Round(h);  // +5 min: past the 5 s backoff, tried again.
  CHECK(second.retrain.skipped.find("already waiting") != std::string::npos);
  CHECK(h.tower.requests.size() == 2);
  // Backoff grows: 5 s, 10 s, 20 s ... so a try every round here; check the spacing directly.
  h.clock.Advance(absl::Seconds(1));
  CHECK(h.retrain->RetryPending()->empty());
  CHECK(h.tower.requests.size() == 2);  // Not due yet: 10 s after the second failure.
  h.clock.Advance(absl::Seconds(9));
  CHECK(h.retrain->RetryPending()->empty());
  CHECK(h.tower.requests.size() == 3);

  // A restart keeps the request and the count.
  h.Reopen();
  REQUIRE(h.retrain->Pending("fraud")->has_value());
  CHECK(*h.retrain->ConsecutiveDrifted("fraud", 7) == 1);  // The second round, after the request.

  h.tower.down = false;
  h.clock.Advance(absl::Seconds(20));
  std::vector<v1::Job> accepted = *h.retrain->RetryPending();
  REQUIRE(accepted.size() == 1);
  REQUIRE(h.tower.requests.size() == 4);
  // Every try carried the same idempotency key.
  for (const v1::SubmitJobRequest& sent : h.tower.requests) CHECK(sent.request_id() == request_id);
  CHECK_FALSE(h.retrain->Pending("fraud")->has_value());
  CHECK(h.alerts->Get(first.raised[0].id())->retrain_job_id() == accepted[0].id());
}

TEST_CASE("Drifted-window counts survive a restart", "[alerts][retrain]") {
  AlertsHarness h;
  SetRetrainPolicy(h, 3, absl::ZeroDuration());
  h.windows.Set({Active("fraud", 7, kStart)});
  h.reports.SetPerformance(PerformanceWith(0.9, 10, false));
  h.reports.SetDrift(DriftWith({{"amount", v1::SEVERITY_CRITICAL}}));
  Round(h);
  Round(h);
  h.Reopen();
  h.windows.Set({Active("fraud", 7, kStart)});
  h.reports.SetDrift(DriftWith({{"amount", v1::SEVERITY_CRITICAL}}));
  CHECK(Round(h).retrain.requested);
}

TEST_CASE("The registry away keeps the request until it answers", "[alerts][retrain]") {
  AlertsHarness h;
  SetRetrainPolicy(h, 1, absl::ZeroDuration());
  h.windows.Set({Active("fraud", 7, kStart)});
  h.reports.SetPerformance(PerformanceWith(0.9, 10, false));
  h.reports.SetDrift(DriftWith({{"amount", v1::SEVERITY_CRITICAL}}));
  h.origins.down = true;
  CHECK(Round(h).retrain.requested);
  CHECK(h.tower.requests.empty());
  REQUIRE(h.retrain->Pending("fraud")->has_value());
  h.origins.down = false;
  h.clock.Advance(absl::Seconds(5));
  CHECK(h.retrain->RetryPending()->size() == 1);
}

}  // namespace
}  // namespace fabrique::monitoring
