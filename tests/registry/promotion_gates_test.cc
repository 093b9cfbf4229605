// Promotion gates, one by one and together: protected aliases, metric thresholds, no regression
// against the holder, signature compatibility, approvals (distinct, by role, self-approval), the
// request state they lead to, and the FAILED_PRECONDITION that explains a refusal.

#include "libs/registry/promotion_gates.h"

#include "absl/strings/match.h"
#include "catch2/catch.hpp"

namespace fabrique::registry {
namespace {

v1::ModelVersion Version(int64_t number, double auc, double log_loss = 0.3) {
  v1::ModelVersion version;
  version.set_model("fraud");
  version.set_version(number);
  v1::Metric* metric = version.add_metrics();
  metric->set_name("auc");
  metric->set_value(auc);
  metric->set_higher_is_better(true);
  metric->set_split("validation");
  metric = version.add_metrics();
  metric->set_name("log_loss");
  metric->set_value(log_loss);
  v1::TensorSpec* input = version.mutable_signature()->add_inputs();
  input->set_name("amount");
  input->set_datatype("FP32");
  input->add_shape(-1);
  input->add_shape(1);
  v1::TensorSpec* output = version.mutable_signature()->add_outputs();
  output->set_name("probability");
  output->set_datatype("FP32");
  output->add_shape(-1);
  return version;
}

v1::Principal Who(const std::string& subject, std::vector<std::string> roles = {}) {
  v1::Principal principal;
  principal.set_subject(subject);
  for (const std::string& role : roles) principal.add_roles(role);
  return principal;
}

v1::PromotionDecision Decision(const v1::Principal& who, bool approved) {
  v1::PromotionDecision decision;
  *decision.mutable_decided_by() = who;
  decision.set_approved(approved);
  return decision;
}

struct Fixture {
  v1::PromotionPolicy policy;
  v1::ModelVersion candidate = Version(2, 0.85);
  v1::ModelVersion holder = Version(1, 0.84);
  v1::Principal requester = Who("sam", {"data-scientist"});
  std::vector<v1::PromotionDecision> decisions;
  bool has_holder = true;

  Fixture() {
    policy.set_model("fraud");
    policy.set_alias("production");
  }
  std::vector<v1::GateEvaluation> Evaluate() const {
    return EvaluateGates(
        {&policy, &candidate, has_holder ? &holder : nullptr, &requester, decisions});
  }
  v1::PromotionState State() const { return StateOf(Evaluate(), decisions); }
};

TEST_CASE("An empty policy has no gates: the move completes", "[gates]") {
  Fixture f;
  CHECK(f.Evaluate().empty());
  CHECK(f.State() == v1::PROMOTION_STATE_COMPLETED);
  CHECK(RefusalError(f.Evaluate()).ok());
}

TEST_CASE("Metric gates compare the candidate's metric, validation split first", "[gates]") {
  Fixture f;
  v1::MetricThreshold* gate = f.policy.add_metric_gates();
  gate->set_metric("auc");
  gate->set_op(v1::COMPARISON_OP_GREATER_OR_EQUAL);
  gate->set_value(0.8);
  v1::Metric* train = f.candidate.add_metrics();  // A better train-split auc must not count.
  train->set_name("auc");
  train->set_value(0.99);
  train->set_split("train");
  REQUIRE(f.Evaluate().size() == 1);
  CHECK(f.Evaluate()[0].kind() == v1::GATE_KIND_METRIC);
  CHECK(f.Evaluate()[0].state() == v1::GATE_STATE_PASSED);
  CHECK(f.Evaluate()[0].description() == "auc >= 0.8");

  f.candidate = Version(2, 0.78);
  const std::vector<v1::GateEvaluation> gates = f.Evaluate();
  CHECK(gates[0].state() == v1::GATE_STATE_FAILED);
  CHECK(gates[0].explanation() == "auc 0.78 not >= 0.8");
  CHECK(f.State() == v1::PROMOTION_STATE_REFUSED);
  const absl::Status refusal = RefusalError(gates);
  CHECK(refusal.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(refusal.message(), "auc >= 0.8: auc 0.78 not >= 0.8"));

  gate->set_metric("recall");  // Not reported at all: fails, naming it.
  CHECK(absl::StrContains(f.Evaluate()[0].explanation(), "reports no recall"));
}

TEST_CASE("No regression against the holder, within the tolerance, either direction", "[gates]") {
  Fixture f;
  v1::NoRegressionGate* gate = f.policy.add_no_regression_gates();
  gate->set_metric("auc");
  gate->set_higher_is_better(true);
  gate->set_tolerance(0.005);
  f.candidate = Version(2, 0.837);  // 0.003 worse: within the tolerance.
  CHECK(f.Evaluate()[0].state() == v1::GATE_STATE_PASSED);
  f.candidate = Version(2, 0.83);  // 0.01 worse.
  CHECK(f.Evaluate()[0].state() == v1::GATE_STATE_FAILED);
  CHECK(absl::StrContains(f.Evaluate()[0].explanation(), "worse by"));

  gate->set_metric("log_loss");  // Lower is better: a higher loss is the regression.
  gate->set_higher_is_better(false);
  gate->set_tolerance(0);
  f.candidate = Version(2, 0.9, 0.31);
  CHECK(f.Evaluate()[0].state() == v1::GATE_STATE_FAILED);
  f.candidate = Version(2, 0.9, 0.29);
  CHECK(f.Evaluate()[0].state() == v1::GATE_STATE_PASSED);

  f.has_holder = false;  // First promotion: nothing to regress against.
  f.candidate = Version(2, 0.1, 9);
  CHECK(f.Evaluate()[0].state() == v1::GATE_STATE_PASSED);
}

TEST_CASE("The signature must take the holder's inputs and give its outputs", "[gates]") {
  Fixture f;
  f.policy.set_require_compatible_signature(true);
  CHECK(f.Evaluate()[0].state() == v1::GATE_STATE_PASSED);

  SECTION("a new input the holder's callers do not send") {
    v1::TensorSpec* extra = f.candidate.mutable_signature()->add_inputs();
    extra->set_name("country");
    extra->set_datatype("BYTES");
    CHECK(f.Evaluate()[0].state() == v1::GATE_STATE_FAILED);
    CHECK(absl::StrContains(f.Evaluate()[0].explanation(), "input 'country'"));
  }
  SECTION("a changed datatype") {
    f.candidate.mutable_signature()->mutable_inputs(0)->set_datatype("FP64");
    CHECK(absl::StrContains(f.Evaluate()[0].explanation(), "FP32"));
  }
  SECTION("a fixed dimension against a variable one is fine, a different rank is not") {
    f.candidate.mutable_signature()->mutable_inputs(0)->set_shape(0, 8);
    CHECK(f.Evaluate()[0].state() == v1::GATE_STATE_PASSED);
    f.candidate.mutable_signature()->mutable_inputs(0)->add_shape(3);
    CHECK(f.Evaluate()[0].state() == v1::GATE_STATE_FAILED);
  }
  SECTION("a dropped output") {
    f.candidate.mutable_signature()->mutable_outputs(0)->set_name("score");
    CHECK(absl::StrContains(f.Evaluate()[0].explanation(), "output 'probability'"));
  }
}

TEST_CASE("Approvals: distinct approvers holding the role, self-approval by choice", "[gates]") {
  Fixture f;
  v1::ApprovalGate* gate = f.policy.add_approval_gates();
  gate->set_role("design-authority");
  gate->set_required_approvals(2);
  const v1::Principal ada = Who("ada", {"design-authority"});
  const v1::Principal bob = Who("bob", {"design-authority"});
  CHECK(f.Evaluate()[0].state() == v1::GATE_STATE_PENDING);
  CHECK(f.State() == v1::PROMOTION_STATE_PENDING);

  f.decisions = {Decision(ada, true), Decision(ada, true)};  // Twice the same person.
  CHECK(f.Evaluate()[0].explanation().rfind("1 of 2 approvals (ada)", 0) == 0);
  f.decisions.push_back(Decision(Who("eve", {"sre"}), true));  // Not the role.
  CHECK(f.State() == v1::PROMOTION_STATE_PENDING);
  f.decisions.push_back(Decision(bob, true));
  CHECK(f.Evaluate()[0].state() == v1::GATE_STATE_PASSED);
  CHECK(f.State() == v1::PROMOTION_STATE_COMPLETED);

  // The requester's own approval counts only where the gate allows it.
  f.requester = ada;
  CHECK(f.State() == v1::PROMOTION_STATE_PENDING);
  gate->set_allow_self_approval(true);
  CHECK(f.State() == v1::PROMOTION_STATE_COMPLETED);

  // One rejection rejects the request.
  f.decisions.push_back(Decision(Who("cyd", {"design-authority"}), false));
  CHECK(f.State() == v1::PROMOTION_STATE_REJECTED);
}

TEST_CASE("A protected alias is moved only by its roles; gates come in a fixed order", "[gates]") {
  Fixture f;
  f.policy.add_allowed_roles("release-manager");
  f.policy.add_allowed_roles("design-authority");
  f.policy.set_require_compatible_signature(true);
  v1::MetricThreshold* metric = f.policy.add_metric_gates();
  metric->set_metric("auc");
  metric->set_op(v1::COMPARISON_OP_GREATER);
  metric->set_value(0.9);
  f.policy.add_approval_gates()->set_role("design-authority");
  std::vector<v1::GateEvaluation> gates = f.Evaluate();
  REQUIRE(gates.size() == 4);
  CHECK(gates[0].kind() == v1::GATE_KIND_ROLE);
  CHECK(gates[1].kind() == v1::GATE_KIND_METRIC);
  CHECK(gates[2].kind() == v1::GATE_KIND_SIGNATURE);
  CHECK(gates[3].kind() == v1::GATE_KIND_APPROVAL);
  CHECK(gates[0].state() == v1::GATE_STATE_FAILED);
  CHECK(gates[0].explanation() == "sam holds none of release-manager, design-authority");
  // Every failure is explained, not only the first.
  const absl::Status refusal = RefusalError(gates);
  CHECK(absl::StrContains(refusal.message(), "2 gate(s) failed"));
  CHECK(absl::StrContains(refusal.message(), "holds none of"));
  CHECK(absl::StrContains(refusal.message(), "auc 0.85 not > 0.9"));

  f.requester = Who("rita", {"release-manager"});
  CHECK(f.Evaluate()[0].state() == v1::GATE_STATE_PASSED);
}

}  // namespace
}  // namespace fabrique::registry
