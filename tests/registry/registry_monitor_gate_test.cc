// The monitor comparison gate: a promotion asks the monitor whether the candidate does as well as
// the alias's holder on live traffic. It passes, fails with the monitor's verdict, waits while
// labelled predictions are too few or the monitor cannot be reached (and is evaluated again), and
// never passes for want of an answer.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "catch2/catch.hpp"
#include "libs/registry/monitor_port.h"
#include "libs/registry/registry_store.h"
#include "tests/registry/registry_fixture.h"

namespace fabrique::registry {
namespace {

using namespace registry_test;  // NOLINT: the fixture's vocabulary.

// The monitor as the registry sees it: one answer for every question, and the questions asked.
class FakeMonitor final : public MonitorPort {
 public:
  absl::StatusOr<MonitorComparisonAnswer> Compare(
      const MonitorComparisonQuery& query) const override {
    absl::MutexLock lock(&mu_);
    queries_.push_back(query);
    return answer_;
  }
  void Answer(absl::StatusOr<MonitorComparisonAnswer> answer) {
    absl::MutexLock lock(&mu_);
    answer_ = std::move(answer);
  }
  std::vector<MonitorComparisonQuery> queries() const {
    absl::MutexLock lock(&mu_);
    return queries_;
  }

 private:
  mutable absl::Mutex mu_;
  absl::StatusOr<MonitorComparisonAnswer> answer_ ABSL_GUARDED_BY(mu_) =
      absl::UnavailableError("no answer set");
  mutable std::vector<MonitorComparisonQuery> queries_ ABSL_GUARDED_BY(mu_);
};

MonitorComparisonAnswer NotWorse() {
  return {true, true, "NOT_WORSE: candidate auc 0.86 vs primary auc 0.85: better by 0.01", "c1"};
}
MonitorComparisonAnswer Worse() {
  return {true, false, "WORSE: candidate auc 0.81 vs primary auc 0.84: worse by 0.03 > 0.01", "c2"};
}
MonitorComparisonAnswer TooFew() {
  return {false, false, "NOT_ENOUGH_DATA: not enough data: 12 candidate and 400 primary", "c3"};
}

v1::Principal Loop() {
  v1::Principal who;
  who.set_subject("service:registry");
  return who;
}

// "fraud" with versions 1 and 2, production on 1, and a policy on production asking the monitor
// (auc, 0.01 allowed, 100 labelled each, over 2 hours); `approvals` adds an approval gate.
struct Gated {
  FakeMonitor monitor;
  Registry r;

  explicit Gated(bool approvals = false, bool with_monitor = true) {
    if (with_monitor) r.monitor = &monitor;
    r.Reopen();
    REQUIRE(r.store->CreateModel(Fraud(), Dana()).ok());
    RegisterWithAuc(r, 0.85);
    RegisterWithAuc(r, 0.86);
    REQUIRE(r.store->SetAlias("fraud", "production", 1, Dana()).ok());
    v1::PromotionPolicy policy;
    policy.set_model("fraud");
    policy.set_alias("production");
    v1::MonitorComparisonGate* gate = policy.add_monitor_comparison_gates();
    gate->set_metric("auc");
    gate->set_max_degradation(0.01);
    gate->set_min_labelled(100);
    gate->mutable_window()->set_seconds(7200);
    if (approvals) {
      v1::ApprovalGate* approval = policy.add_approval_gates();
      approval->set_role("design-authority");
      approval->set_required_approvals(1);
    }
    REQUIRE(r.store->SetPromotionPolicy(policy, Dana()).ok());
  }

  absl::StatusOr<v1::PromotionRequest> Promote(bool dry_run = false) {
    return r.store->RequestPromotion("fraud", "production", 2, "", Dana(), dry_run);
  }
  int64_t Production() { return r.store->GetAlias("fraud", "production")->version(); }
};

const v1::GateEvaluation& MonitorGateOf(const v1::PromotionRequest& request) {
  for (const v1::GateEvaluation& gate : request.gates()) {
    if (gate.kind() == v1::GATE_KIND_MONITOR_COMPARISON) return gate;
  }
  FAIL("no monitor comparison gate");
  return request.gates(0);
}

TEST_CASE("A candidate the monitor finds not worse is promoted at once", "[registry][monitor]") {
  Gated g;
  g.monitor.Answer(NotWorse());
  absl::StatusOr<v1::PromotionRequest> request = g.Promote();
  REQUIRE(request.ok());
  CHECK(request->state() == v1::PROMOTION_STATE_COMPLETED);
  const v1::GateEvaluation& gate = MonitorGateOf(*request);
  CHECK(gate.state() == v1::GATE_STATE_PASSED);
  CHECK(gate.description() ==
        "auc on live traffic no worse than the current holder's by more than 0.01, with 100 "
        "labelled predictions each");
  CHECK(absl::StartsWith(gate.explanation(), "NOT_WORSE: "));
  CHECK(absl::StrContains(gate.explanation(), "(comparison c1)"));
  CHECK(g.Production() == 2);
  // The monitor was asked about the candidate against the holder, as the gate says.
  const std::vector<MonitorComparisonQuery> queries = g.monitor.queries();
  REQUIRE(queries.size() == 1);
  CHECK(queries[0].model == "fraud");
  CHECK(queries[0].candidate_version == 2);
  CHECK(queries[0].primary_version == 1);
  CHECK(queries[0].gate.metric() == "auc");
  CHECK(queries[0].gate.min_labelled() == 100);
  CHECK(queries[0].gate.window().seconds() == 7200);
}

TEST_CASE("A candidate the monitor finds worse is refused with its verdict",
          "[registry][monitor]") {
  Gated g;
  g.monitor.Answer(Worse());
  const absl::Status dry = g.Promote(/*dry_run=*/true).status();
  CHECK(absl::IsFailedPrecondition(dry));
  const absl::Status refused = g.Promote().status();
  CHECK(absl::IsFailedPrecondition(refused));
  CHECK(absl::StrContains(refused.message(), "WORSE: candidate auc 0.81 vs primary auc 0.84"));
  CHECK(g.Production() == 1);
}

TEST_CASE("Too few labelled predictions: the request waits and completes once they arrive",
          "[registry][monitor]") {
  Gated g;
  g.monitor.Answer(TooFew());
  absl::StatusOr<v1::PromotionRequest> request = g.Promote();
  REQUIRE(request.ok());
  CHECK(request->state() == v1::PROMOTION_STATE_PENDING);
  CHECK(MonitorGateOf(*request).state() == v1::GATE_STATE_PENDING);
  CHECK(absl::StartsWith(MonitorGateOf(*request).explanation(),
                         "waiting for labelled predictions: NOT_ENOUGH_DATA"));
  // Still too few: nothing changes, nothing is written.
  const int64_t revision = g.r.log->revision();
  CHECK(*g.r.store->ReevaluateMonitorGates(Loop()) == 0);
  CHECK(g.r.log->revision() == revision);
  CHECK(g.r.store->GetPromotionRequest(request->id())->state() == v1::PROMOTION_STATE_PENDING);
  // Enough now, and not worse: the request completes and the alias moves.
  g.monitor.Answer(NotWorse());
  CHECK(*g.r.store->ReevaluateMonitorGates(Loop()) == 1);
  const v1::PromotionRequest completed = *g.r.store->GetPromotionRequest(request->id());
  CHECK(completed.state() == v1::PROMOTION_STATE_COMPLETED);
  CHECK(MonitorGateOf(completed).state() == v1::GATE_STATE_PASSED);
  CHECK(g.Production() == 2);
  CHECK(g.r.store->GetAlias("fraud", "production")->promotion_request_id() == request->id());
}

TEST_CASE("A waiting request whose candidate turns out worse is refused", "[registry][monitor]") {
  Gated g;
  g.monitor.Answer(TooFew());
  const v1::PromotionRequest request = *g.Promote();
  g.monitor.Answer(Worse());
  CHECK(*g.r.store->ReevaluateMonitorGates(Loop()) == 1);
  const v1::PromotionRequest refused = *g.r.store->GetPromotionRequest(request.id());
  CHECK(refused.state() == v1::PROMOTION_STATE_REFUSED);
  CHECK(MonitorGateOf(refused).state() == v1::GATE_STATE_FAILED);
  CHECK(g.Production() == 1);
  // A decided request is not asked about again.
  const size_t asked = g.monitor.queries().size();
  CHECK(*g.r.store->ReevaluateMonitorGates(Loop()) == 0);
  CHECK(g.monitor.queries().size() == asked);
}

TEST_CASE("An unreachable monitor never lets the gate pass", "[registry][monitor]") {
  Gated g;
  g.monitor.Answer(absl::UnavailableError("connection refused"));
  absl::StatusOr<v1::PromotionRequest> request = g.Promote();
  REQUIRE(request.ok());
  CHECK(request->state() == v1::PROMOTION_STATE_PENDING);
  const v1::GateEvaluation& gate = MonitorGateOf(*request);
  CHECK(gate.state() == v1::GATE_STATE_PENDING);
  CHECK(absl::StrContains(gate.explanation(), "the monitor is unreachable (connection refused)"));
  CHECK(g.Production() == 1);
  g.monitor.Answer(absl::DeadlineExceededError("deadline"));
  CHECK(*g.r.store->ReevaluateMonitorGates(Loop()) == 0);
  CHECK(g.Production() == 1);
  // Back, and the candidate holds: completed by the re-evaluation.
  g.monitor.Answer(NotWorse());
  CHECK(*g.r.store->ReevaluateMonitorGates(Loop()) == 1);
  CHECK(g.Production() == 2);
}

TEST_CASE("A question the monitor refuses fails the gate", "[registry][monitor]") {
  Gated g;
  g.monitor.Answer(absl::InvalidArgumentError("a regression model does not report auc"));
  const absl::Status refused = g.Promote().status();
  CHECK(absl::IsFailedPrecondition(refused));
  CHECK(absl::StrContains(refused.message(),
                          "the monitor refused the comparison: a regression model does not report "
                          "auc"));
}

TEST_CASE("Without a monitor to ask the gate fails; without a holder it passes unasked",
          "[registry][monitor]") {
  Gated without(/*approvals=*/false, /*with_monitor=*/false);
  const absl::Status refused = without.Promote().status();
  CHECK(absl::IsFailedPrecondition(refused));
  CHECK(absl::StrContains(refused.message(), "no monitor to ask"));

  Gated g;
  g.monitor.Answer(Worse());
  v1::PromotionPolicy policy = *g.r.store->GetPromotionPolicy("fraud", "production");
  policy.set_alias("champion");  // An alias that holds no version yet.
  REQUIRE(g.r.store->SetPromotionPolicy(policy, Dana()).ok());
  absl::StatusOr<v1::PromotionRequest> first =
      g.r.store->RequestPromotion("fraud", "champion", 2, "", Dana());
  REQUIRE(first.ok());
  CHECK(first->state() == v1::PROMOTION_STATE_COMPLETED);
  CHECK(MonitorGateOf(*first).state() == v1::GATE_STATE_PASSED);
  CHECK(absl::StrContains(MonitorGateOf(*first).explanation(), "holds no version yet"));
  CHECK(g.monitor.queries().empty());
}

TEST_CASE("Approvals and the monitor both hold before the alias moves", "[registry][monitor]") {
  Gated g(/*approvals=*/true);
  g.monitor.Answer(TooFew());
  const v1::PromotionRequest request = *g.Promote();
  REQUIRE(request.state() == v1::PROMOTION_STATE_PENDING);
  // Approved while outcomes are still too few: still waiting.
  absl::StatusOr<v1::PromotionRequest> approved =
      g.r.store->DecidePromotion(request.id(), true, "ok", Reviewer("alice"));
  REQUIRE(approved.ok());
  CHECK(approved->state() == v1::PROMOTION_STATE_PENDING);
  CHECK(g.Production() == 1);
  g.monitor.Answer(NotWorse());
  CHECK(*g.r.store->ReevaluateMonitorGates(Loop()) == 1);
  CHECK(g.Production() == 2);
  CHECK(g.r.store->GetPromotionRequest(request.id())->state() == v1::PROMOTION_STATE_COMPLETED);
}

TEST_CASE("A gated alias is moved by promotion only; malformed monitor gates are refused",
          "[registry][monitor]") {
  Gated g;
  CHECK(absl::IsFailedPrecondition(g.r.store->SetAlias("fraud", "production", 2, Dana()).status()));
  v1::PromotionPolicy policy = *g.r.store->GetPromotionPolicy("fraud", "production");
  policy.mutable_monitor_comparison_gates(0)->set_max_degradation(-0.1);
  CHECK(absl::IsInvalidArgument(g.r.store->SetPromotionPolicy(policy, Dana()).status()));
  policy.mutable_monitor_comparison_gates(0)->set_max_degradation(0);
  policy.mutable_monitor_comparison_gates(0)->set_min_labelled(-1);
  CHECK(absl::IsInvalidArgument(g.r.store->SetPromotionPolicy(policy, Dana()).status()));
  policy.mutable_monitor_comparison_gates(0)->set_min_labelled(0);
  policy.mutable_monitor_comparison_gates(0)->mutable_window()->set_seconds(-60);
  CHECK(absl::IsInvalidArgument(g.r.store->SetPromotionPolicy(policy, Dana()).status()));
}

}  // namespace
}  // namespace fabrique::registry
