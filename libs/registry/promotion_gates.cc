#include "libs/registry/promotion_gates.h"

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace fabrique::registry {
namespace {

v1::GateEvaluation Gate(v1::GateKind kind, std::string description, v1::GateState state,
                        std::string explanation) {
  v1::GateEvaluation gate;
  gate.set_kind(kind);
  gate.set_description(std::move(description));
  gate.set_state(state);
  gate.set_explanation(std::move(explanation));
  return gate;
}

v1::GateState Passes(bool holds) { return holds ? v1::GATE_STATE_PASSED : v1::GATE_STATE_FAILED; }

// The metric `name` of one list: the validation split's when several splits report it.
const v1::Metric* FindIn(const google::protobuf::RepeatedPtrField<v1::Metric>& metrics,
                         const std::string& name) {
  const v1::Metric* found = nullptr;
  for (const v1::Metric& metric : metrics) {
    if (metric.name() != name) continue;
    if (metric.split() == "validation") return &metric;
    if (found == nullptr) found = &metric;
  }
  return found;
}

bool HoldsRole(const v1::Principal& who, const std::string& role) {
  for (const std::string& held : who.roles()) {
    if (held == role) return true;
  }
  return false;
}

void RoleGate(const PromotionCase& p, std::vector<v1::GateEvaluation>* gates) {
  const auto& allowed = p.policy->allowed_roles();
  if (allowed.empty()) return;
  bool holds = false;
  for (const std::string& role : allowed) holds = holds || HoldsRole(*p.requester, role);
  const std::string roles = absl::StrJoin(allowed, ", ");
  gates->push_back(Gate(v1::GATE_KIND_ROLE,
                        absl::StrCat("alias '", p.policy->alias(), "' is moved by ", roles),
                        Passes(holds),
                        holds ? absl::StrCat(p.requester->subject(), " holds one of ", roles)
                              : absl::StrCat(p.requester->subject(), " holds none of ", roles)));
}

void MetricGates(const PromotionCase& p, std::vector<v1::GateEvaluation>* gates) {
  for (const v1::MetricThreshold& threshold : p.policy->metric_gates()) {
    const std::string description = absl::StrCat(
        threshold.metric(), " ", ComparisonText(threshold.op()), " ", threshold.value());
    const v1::Metric* metric = LatestMetric(*p.candidate, threshold.metric());
    if (metric == nullptr) {
      gates->push_back(Gate(
          v1::GATE_KIND_METRIC, description, v1::GATE_STATE_FAILED,
          absl::StrCat("version ", p.candidate->version(), " reports no ", threshold.metric())));
      continue;
    }
    const bool holds = MetricHolds(metric->value(), threshold.op(), threshold.value());
    gates->push_back(
        Gate(v1::GATE_KIND_METRIC, description, Passes(holds),
             absl::StrCat(threshold.metric(), " ", metric->value(), holds ? "" : " not", " ",
                          ComparisonText(threshold.op()), " ", threshold.value())));
  }
}

void NoRegressionGates(const PromotionCase& p, std::vector<v1::GateEvaluation>* gates) {
  for (const v1::NoRegressionGate& gate : p.policy->no_regression_gates()) {
    const std::string description =
        absl::StrCat(gate.metric(), " no worse than the current holder's",
                     gate.tolerance() > 0 ? absl::StrCat(" by more than ", gate.tolerance()) : "");
    if (p.holder == nullptr) {
      gates->push_back(Gate(v1::GATE_KIND_NO_REGRESSION, description, v1::GATE_STATE_PASSED,
                            "the alias holds no version yet"));
      continue;
    }
    const v1::Metric* candidate = LatestMetric(*p.candidate, gate.metric());
    const v1::Metric* holder = LatestMetric(*p.holder, gate.metric());
    if (candidate == nullptr || holder == nullptr) {
      gates->push_back(
          Gate(v1::GATE_KIND_NO_REGRESSION, description, v1::GATE_STATE_FAILED,
               absl::StrCat("version ", (candidate == nullptr ? p.candidate : p.holder)->version(),
                            " reports no ", gate.metric())));
      continue;
    }
    const double change = candidate->value() - holder->value();
    const double loss = gate.higher_is_better() ? -change : change;
    const bool holds = loss <= gate.tolerance();
    gates->push_back(Gate(
        v1::GATE_KIND_NO_REGRESSION, description, Passes(holds),
        absl::StrCat(gate.metric(), " ", candidate->value(), " against ", holder->value(),
                     " for version ", p.holder->version(),
                     holds ? "" : absl::StrCat(": worse by ", loss, " > ", gate.tolerance()))));
  }
}

void SignatureGate(const PromotionCase& p, std::vector<v1::GateEvaluation>* gates) {
  if (!p.policy->require_compatible_signature()) return;
  const std::string description = "signature compatible with the current holder's";
  if (p.holder == nullptr) {
    gates->push_back(Gate(v1::GATE_KIND_SIGNATURE, description, v1::GATE_STATE_PASSED,
                          "the alias holds no version yet"));
    return;
  }
  std::string why;
  const bool holds = SignaturesCompatible(p.holder->signature(), p.candidate->signature(), &why);
  gates->push_back(Gate(
      v1::GATE_KIND_SIGNATURE, description, Passes(holds),
      holds ? absl::StrCat("takes version ", p.holder->version(), "'s inputs and gives its outputs")
            : why));
}

std::string MonitorGateDescription(const v1::MonitorComparisonGate& gate) {
  return absl::StrCat(
      gate.metric().empty() ? "the primary metric" : gate.metric(),
      " on live traffic no worse than the current holder's",
      gate.max_degradation() > 0 ? absl::StrCat(" by more than ", gate.max_degradation()) : "",
      gate.min_labelled() > 0
          ? absl::StrCat(", with ", gate.min_labelled(), " labelled predictions each")
          : "");
}

// The gate's state and why, from the monitor's answer.
v1::GateEvaluation MonitorGate(std::string description,
                               const absl::StatusOr<MonitorComparisonAnswer>& answer) {
  if (!answer.ok()) {
    if (absl::IsUnavailable(answer.status()) || absl::IsDeadlineExceeded(answer.status())) {
      return Gate(v1::GATE_KIND_MONITOR_COMPARISON, std::move(description), v1::GATE_STATE_PENDING,
                  absl::StrCat("the monitor is unreachable (", answer.status().message(),
                               "): evaluated again once it answers"));
    }
    return Gate(v1::GATE_KIND_MONITOR_COMPARISON, std::move(description), v1::GATE_STATE_FAILED,
                absl::StrCat("the monitor refused the comparison: ", answer.status().message()));
  }
  const std::string why = answer->report_id.empty() ? answer->verdict
                                                    : absl::StrCat(answer->verdict, " (comparison ",
                                                                   answer->report_id, ")");
  if (!answer->enough_data) {
    return Gate(v1::GATE_KIND_MONITOR_COMPARISON, std::move(description), v1::GATE_STATE_PENDING,
                absl::StrCat("waiting for labelled predictions: ", why));
  }
  return Gate(v1::GATE_KIND_MONITOR_COMPARISON, std::move(description),
              Passes(answer->candidate_not_worse), why);
}

void MonitorComparisonGates(const PromotionCase& p, std::vector<v1::GateEvaluation>* gates) {
  const auto& policy_gates = p.policy->monitor_comparison_gates();
  for (int i = 0; i < policy_gates.size(); ++i) {
    std::string description = MonitorGateDescription(policy_gates[i]);
    if (p.holder == nullptr) {
      gates->push_back(Gate(v1::GATE_KIND_MONITOR_COMPARISON, std::move(description),
                            v1::GATE_STATE_PASSED,
                            "the alias holds no version yet: there is no primary to compare with"));
    } else if (p.monitor_answers == nullptr) {
      gates->push_back(Gate(v1::GATE_KIND_MONITOR_COMPARISON, std::move(description),
                            v1::GATE_STATE_FAILED,
                            "no monitor to ask: the registry runs without --monitor_target"));
    } else if (i >= static_cast<int>(p.monitor_answers->size())) {
      gates->push_back(Gate(v1::GATE_KIND_MONITOR_COMPARISON, std::move(description),
                            v1::GATE_STATE_PENDING,
                            "not asked of the monitor yet: evaluated again shortly"));
    } else {
      gates->push_back(MonitorGate(std::move(description), (*p.monitor_answers)[i]));
    }
  }
}

void ApprovalGates(const PromotionCase& p, std::vector<v1::GateEvaluation>* gates) {
  for (const v1::ApprovalGate& gate : p.policy->approval_gates()) {
    std::set<std::string> approvers;
    for (const v1::PromotionDecision& decision : p.decisions) {
      const v1::Principal& who = decision.decided_by();
      if (!decision.approved() || !HoldsRole(who, gate.role())) continue;
      if (!gate.allow_self_approval() && who.subject() == p.requester->subject()) continue;
      approvers.insert(who.subject());
    }
    const int have = static_cast<int>(approvers.size());
    const int need = gate.required_approvals();
    gates->push_back(
        Gate(v1::GATE_KIND_APPROVAL, absl::StrCat(need, " approvals from ", gate.role()),
             have >= need ? v1::GATE_STATE_PASSED : v1::GATE_STATE_PENDING,
             absl::StrCat(
                 have, " of ", need, " approvals",
                 approvers.empty() ? "" : absl::StrCat(" (", absl::StrJoin(approvers, ", "), ")"),
                 gate.allow_self_approval() ? "" : "; the requester's own does not count")));
  }
}

bool ShapesCompatible(const v1::TensorSpec& a, const v1::TensorSpec& b) {
  if (a.shape_size() != b.shape_size()) return false;
  for (int i = 0; i < a.shape_size(); ++i) {
    if (a.shape(i) != b.shape(i) && a.shape(i) != -1 && b.shape(i) != -1) return false;
  }
  return true;
}

// Every tensor of `wanted` is in `offered` with its datatype and a compatible shape.
bool Covers(const google::protobuf::RepeatedPtrField<v1::TensorSpec>& offered,
            const google::protobuf::RepeatedPtrField<v1::TensorSpec>& wanted, const char* what,
            std::string* why) {
  for (const v1::TensorSpec& want : wanted) {
    const v1::TensorSpec* match = nullptr;
    for (const v1::TensorSpec& offer : offered) {
      if (offer.name() == want.name()) match = &offer;
    }
    if (match == nullptr) {
      *why = absl::StrCat(what, " '", want.name(), "' has no counterpart");
      return false;
    }
    if (match->datatype() != want.datatype() || !ShapesCompatible(*match, want)) {
      *why = absl::StrCat(what, " '", want.name(), "' is ", want.datatype(), " [",
                          absl::StrJoin(want.shape(), ","), "] on one side and ", match->datatype(),
                          " [", absl::StrJoin(match->shape(), ","), "] on the other");
      return false;
    }
  }
  return true;
}

}  // namespace

const char* ComparisonText(v1::ComparisonOp op) {
  switch (op) {
    case v1::COMPARISON_OP_GREATER:
      return ">";
    case v1::COMPARISON_OP_GREATER_OR_EQUAL:
      return ">=";
    case v1::COMPARISON_OP_LESS:
      return "<";
    case v1::COMPARISON_OP_LESS_OR_EQUAL:
      return "<=";
    case v1::COMPARISON_OP_EQUAL:
      return "==";
    default:
      return "?";
  }
}

const v1::Metric* LatestMetric(const v1::ModelVersion& version, const std::string& name) {
  // Appended evaluations are newer than the version's own metrics, and later ones newer still.
  for (int i = version.evaluations_size() - 1; i >= 0; --i) {
    if (const v1::Metric* found = FindIn(version.evaluations(i).metrics(), name)) return found;
  }
  return FindIn(version.metrics(), name);
}

bool MetricHolds(double value, v1::ComparisonOp op, double threshold) {
  switch (op) {
    case v1::COMPARISON_OP_GREATER:
      return value > threshold;
    case v1::COMPARISON_OP_GREATER_OR_EQUAL:
      return value >= threshold;
    case v1::COMPARISON_OP_LESS:
      return value < threshold;
    case v1::COMPARISON_OP_LESS_OR_EQUAL:
      return value <= threshold;
    case v1::COMPARISON_OP_EQUAL:
      return value == threshold;
    default:
      return false;  // An unspecified comparison never holds.
  }
}

bool SignaturesCompatible(const v1::ModelSignature& holder, const v1::ModelSignature& candidate,
                          std::string* why) {
  return Covers(holder.inputs(), candidate.inputs(), "the candidate's input", why) &&
         Covers(candidate.outputs(), holder.outputs(), "the holder's output", why);
}

std::vector<v1::GateEvaluation> EvaluateGates(const PromotionCase& promotion) {
  std::vector<v1::GateEvaluation> gates;
  RoleGate(promotion, &gates);
  MetricGates(promotion, &gates);
  NoRegressionGates(promotion, &gates);
  SignatureGate(promotion, &gates);
  MonitorComparisonGates(promotion, &gates);
  ApprovalGates(promotion, &gates);
  return gates;
}

v1::PromotionState StateOf(absl::Span<const v1::GateEvaluation> gates,
                           absl::Span<const v1::PromotionDecision> decisions) {
  for (const v1::PromotionDecision& decision : decisions) {
    if (!decision.approved()) return v1::PROMOTION_STATE_REJECTED;
  }
  bool pending = false;
  for (const v1::GateEvaluation& gate : gates) {
    if (gate.state() == v1::GATE_STATE_FAILED) return v1::PROMOTION_STATE_REFUSED;
    pending = pending || gate.state() == v1::GATE_STATE_PENDING;
  }
  return pending ? v1::PROMOTION_STATE_PENDING : v1::PROMOTION_STATE_COMPLETED;
}

absl::Status RefusalError(absl::Span<const v1::GateEvaluation> gates) {
  std::vector<std::string> failed;
  for (const v1::GateEvaluation& gate : gates) {
    if (gate.state() != v1::GATE_STATE_FAILED) continue;
    failed.push_back(absl::StrCat(gate.description(), ": ", gate.explanation()));
  }
  if (failed.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "promotion refused, ", failed.size(), " gate(s) failed: ", absl::StrJoin(failed, "; ")));
}

}  // namespace fabrique::registry
