#ifndef FABRIQUE_LIBS_REGISTRY_STANDARDS_H_
#define FABRIQUE_LIBS_REGISTRY_STANDARDS_H_

// The design authority's standards, evaluated: which apply to a promotion, each of their rules
// as a STANDARD gate on the candidate, and how a model's own policy combines with them. Pure
// functions: the registry stores standards and adds their gates to every promotion it evaluates.
//
// A model's policy may tighten a standard, never loosen it. Both are checked on every promotion,
// so the stricter rule decides; "stricter" per rule kind:
//   metric threshold   same metric, same direction: the higher floor (>, >=) or the lower ceiling
//                      (<, <=); at an equal value the strict comparison (>, <). Opposite
//                      directions and == are different rules: both hold.
//   baseline-relative  only standards have them: the larger margin among standards decides.
//   artifacts, evaluation kinds
//                      required by either: the union.
// A policy gate weaker than a standard's has no effect; CombinationNotes says which.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "fabrique/v1/registry.pb.h"

namespace fabrique::registry {

// The alias a standard governs: its own, or "production" when it names none.
std::string GovernedAlias(const v1::Standard& standard);

// "factory-wide" or "entity 'customer'": where a standard applies, for messages.
std::string ScopeText(const v1::Standard& standard);

// Whether `standard` governs promoting `model` to `alias`: same alias, and factory-wide or
// scoped to the model's entity.
bool StandardApplies(const v1::Standard& standard, const v1::Model& model,
                     const std::string& alias);

// INVALID_ARGUMENT naming the field when `standard` is malformed: a bad name, alias or entity, no
// rule at all, a threshold without metric or comparison, an unspecified artifact kind or an
// empty evaluation kind.
absl::Status CheckStandard(const v1::Standard& standard);

// Every rule of `standard` on `candidate`, as STANDARD gates whose description names the
// standard, its scope and who set it (so a refusal says whom to ask).
std::vector<v1::GateEvaluation> EvaluateStandard(const v1::Standard& standard,
                                                 const v1::ModelVersion& candidate);

// How `a` compares with `b` as a rule on the same metric.
enum class Strictness { kDifferent, kStricter, kSame, kWeaker };
Strictness CompareThresholds(const v1::MetricThreshold& a, const v1::MetricThreshold& b);

// One sentence per metric gate of `policy` that a standard of `standards` overrides (weaker: no
// effect) or tightens (stricter: it decides), naming both.
std::vector<std::string> CombinationNotes(const v1::PromotionPolicy& policy,
                                          absl::Span<const v1::Standard> standards);

}  // namespace fabrique::registry

#endif  // FABRIQUE_LIBS_REGISTRY_STANDARDS_H_
