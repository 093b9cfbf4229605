#include "libs/registry/standards.h"

#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/core/status_macros.h"
#include "libs/registry/promotion_gates.h"
#include "libs/registry/registry_records.h"

namespace fabrique::registry {
namespace {

constexpr char kDefaultAlias[] = "production";

// "standard 'min-auc' (entity 'customer', set by user:dana)": who to ask about a refusal.
std::string Named(const v1::Standard& standard) {
  return absl::StrCat(
      "standard '", standard.name(), "' (", ScopeText(standard), ", set by ",
      standard.updated_by().subject().empty() ? "unknown" : standard.updated_by().subject(), ")");
}

v1::GateEvaluation Gate(const v1::Standard& standard, const std::string& rule, bool holds,
                        std::string explanation) {
  v1::GateEvaluation gate;
  gate.set_kind(v1::GATE_KIND_STANDARD);
  gate.set_description(absl::StrCat(Named(standard), ": ", rule));
  gate.set_state(holds ? v1::GATE_STATE_PASSED : v1::GATE_STATE_FAILED);
  gate.set_explanation(std::move(explanation));
  return gate;
}

void MetricRules(const v1::Standard& standard, const v1::ModelVersion& candidate,
                 std::vector<v1::GateEvaluation>* gates) {
  for (const v1::MetricThreshold& threshold : standard.metric_gates()) {
    const std::string rule = absl::StrCat(threshold.metric(), " ", ComparisonText(threshold.op()),
                                          " ", threshold.value());
    const v1::Metric* metric = LatestMetric(candidate, threshold.metric());
    if (metric == nullptr) {
      gates->push_back(
          Gate(standard, rule, false,
               absl::StrCat("version ", candidate.version(), " reports no ", threshold.metric())));
      continue;
    }
    const bool holds = MetricHolds(metric->value(), threshold.op(), threshold.value());
    gates->push_back(
        Gate(standard, rule, holds,
             absl::StrCat(threshold.metric(), " ", metric->value(), holds ? "" : " not", " ",
                          ComparisonText(threshold.op()), " ", threshold.value())));
  }
}

void BaselineRules(const v1::Standard& standard, const v1::ModelVersion& candidate,
                   std::vector<v1::GateEvaluation>* gates) {
  for (const v1::BaselineThreshold& threshold : standard.baseline_gates()) {
    const std::string rule =
        absl::StrCat(threshold.metric(), " ", ComparisonText(threshold.op()), " baseline ",
                     threshold.margin() < 0 ? "- " : "+ ", std::abs(threshold.margin()));
    const v1::Metric* metric = LatestMetric(candidate, threshold.metric());
    if (metric == nullptr || !metric->has_baseline()) {
      gates->push_back(
          Gate(standard, rule, false,
               absl::StrCat("version ", candidate.version(), " reports no ", threshold.metric(),
                            metric == nullptr ? "" : " baseline")));
      continue;
    }
    const double bound = metric->baseline().value() + threshold.margin();
    const bool holds = MetricHolds(metric->value(), threshold.op(), bound);
    gates->push_back(
        Gate(standard, rule, holds,
             absl::StrCat(threshold.metric(), " ", metric->value(), holds ? "" : " not", " ",
                          ComparisonText(threshold.op()), " ", bound, " (baseline ",
                          metric->baseline().value(), ")")));
  }
}

void ArtifactRules(const v1::Standard& standard, const v1::ModelVersion& candidate,
                   std::vector<v1::GateEvaluation>* gates) {
  for (int kind : standard.required_artifacts()) {
    const std::string name = v1::ArtifactKind_Name(static_cast<v1::ArtifactKind>(kind));
    bool held = false;
    for (const v1::VersionArtifact& artifact : candidate.artifacts()) {
      held = held || artifact.kind() == kind;
    }
    gates->push_back(Gate(standard, absl::StrCat("an artifact of kind ", name), held,
                          absl::StrCat("version ", candidate.version(), held ? " has" : " has no",
                                       " artifact of kind ", name)));
  }
}

void EvaluationRules(const v1::Standard& standard, const v1::ModelVersion& candidate,
                     std::vector<v1::GateEvaluation>* gates) {
  for (const std::string& kind : standard.required_evaluations()) {
    int count = 0;
    for (const v1::VersionEvaluation& evaluation : candidate.evaluations()) {
      count += evaluation.kind() == kind ? 1 : 0;
    }
    gates->push_back(
        Gate(standard, absl::StrCat("a '", kind, "' evaluation"), count > 0,
             count > 0 ? absl::StrCat("version ", candidate.version(), " has ", count, " '", kind,
                                      "' evaluation(s)")
                       : absl::StrCat("version ", candidate.version(), " has no '", kind,
                                      "' evaluation: append one (fabrique models evaluate)")));
  }
}

bool IsFloor(v1::ComparisonOp op) {
  return op == v1::COMPARISON_OP_GREATER || op == v1::COMPARISON_OP_GREATER_OR_EQUAL;
}
bool IsCeiling(v1::ComparisonOp op) {
  return op == v1::COMPARISON_OP_LESS || op == v1::COMPARISON_OP_LESS_OR_EQUAL;
}
bool IsStrict(v1::ComparisonOp op) {
  return op == v1::COMPARISON_OP_GREATER || op == v1::COMPARISON_OP_LESS;
}

absl::Status CheckThreshold(absl::string_view metric, v1::ComparisonOp op, absl::string_view what) {
  if (metric.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("standard.", what, ".metric is required"));
  }
  if (op == v1::COMPARISON_OP_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        absl::StrCat("standard.", what, " on '", metric, "' needs a comparison (op)"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string GovernedAlias(const v1::Standard& standard) {
  return standard.alias().empty() ? kDefaultAlias : standard.alias();
}

std::string ScopeText(const v1::Standard& standard) {
  return standard.entity().empty() ? std::string("factory-wide")
                                   : absl::StrCat("entity '", standard.entity(), "'");
}

bool StandardApplies(const v1::Standard& standard, const v1::Model& model,
                     const std::string& alias) {
  return GovernedAlias(standard) == alias &&
         (standard.entity().empty() || standard.entity() == model.entity());
}

absl::Status CheckStandard(const v1::Standard& standard) {
  RETURN_IF_ERROR(records::CheckName(standard.name(), "standard"));
  if (!standard.alias().empty()) RETURN_IF_ERROR(records::CheckName(standard.alias(), "alias"));
  if (!standard.entity().empty()) RETURN_IF_ERROR(records::CheckName(standard.entity(), "entity"));
  if (standard.metric_gates().empty() && standard.baseline_gates().empty() &&
      standard.required_artifacts().empty() && standard.required_evaluations().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("standard '", standard.name(),
                     "' has no rule: give metric_gates, baseline_gates, required_artifacts or "
                     "required_evaluations"));
  }
  for (const v1::MetricThreshold& gate : standard.metric_gates()) {
    RETURN_IF_ERROR(CheckThreshold(gate.metric(), gate.op(), "metric_gates"));
  }
  for (const v1::BaselineThreshold& gate : standard.baseline_gates()) {
    RETURN_IF_ERROR(CheckThreshold(gate.metric(), gate.op(), "baseline_gates"));
  }
  for (int kind : standard.required_artifacts()) {
    if (kind == v1::ARTIFACT_KIND_UNSPECIFIED || !v1::ArtifactKind_IsValid(kind)) {
      return absl::InvalidArgumentError(
          "standard.required_artifacts names an unspecified or unknown artifact kind");
    }
  }
  for (const std::string& kind : standard.required_evaluations()) {
    if (kind.empty()) {
      return absl::InvalidArgumentError("standard.required_evaluations has an empty kind");
    }
  }
  return absl::OkStatus();
}

std::vector<v1::GateEvaluation> EvaluateStandard(const v1::Standard& standard,
                                                 const v1::ModelVersion& candidate) {
  std::vector<v1::GateEvaluation> gates;
  MetricRules(standard, candidate, &gates);
  BaselineRules(standard, candidate, &gates);
  ArtifactRules(standard, candidate, &gates);
  EvaluationRules(standard, candidate, &gates);
  return gates;
}

Strictness CompareThresholds(const v1::MetricThreshold& a, const v1::MetricThreshold& b) {
  const bool floors = IsFloor(a.op()) && IsFloor(b.op());
  const bool ceilings = IsCeiling(a.op()) && IsCeiling(b.op());
  if (a.metric() != b.metric() || !(floors || ceilings)) return Strictness::kDifferent;
  if (a.value() == b.value()) {
    if (IsStrict(a.op()) == IsStrict(b.op())) return Strictness::kSame;
    return IsStrict(a.op()) ? Strictness::kStricter : Strictness::kWeaker;
  }
  const bool higher = a.value() > b.value();
  return higher == floors ? Strictness::kStricter : Strictness::kWeaker;
}

std::vector<std::string> CombinationNotes(const v1::PromotionPolicy& policy,
                                          absl::Span<const v1::Standard> standards) {
  std::vector<std::string> notes;
  for (const v1::MetricThreshold& own : policy.metric_gates()) {
    const std::string own_text =
        absl::StrCat(own.metric(), " ", ComparisonText(own.op()), " ", own.value());
    for (const v1::Standard& standard : standards) {
      for (const v1::MetricThreshold& rule : standard.metric_gates()) {
        const Strictness strictness = CompareThresholds(own, rule);
        if (strictness != Strictness::kWeaker && strictness != Strictness::kStricter) continue;
        const std::string rule_text =
            absl::StrCat(rule.metric(), " ", ComparisonText(rule.op()), " ", rule.value());
        notes.push_back(strictness == Strictness::kWeaker
                            ? absl::StrCat("gate '", own_text, "' is weaker than ", Named(standard),
                                           "'s '", rule_text,
                                           "' and has no effect: the standard decides")
                            : absl::StrCat("gate '", own_text, "' tightens ", Named(standard),
                                           "'s '", rule_text, "': this policy's gate decides"));
      }
    }
  }
  return notes;
}

}  // namespace fabrique::registry
