#ifndef FABRIQUE_LIBS_REGISTRY_PROMOTION_GATES_H_
#define FABRIQUE_LIBS_REGISTRY_PROMOTION_GATES_H_

// The design authority's rules for moving an alias, evaluated: given an alias's PromotionPolicy,
// the candidate version, the version the alias holds now and the decisions recorded so far,
// EvaluateGates returns every gate with its state and a sentence saying why, in a fixed order:
//
//   ROLE           protected alias: the requester holds one of the allowed roles
//   METRIC         each metric gate on the candidate, e.g. "auc >= 0.8"
//   NO_REGRESSION  the candidate is not worse than the holder beyond a tolerance
//   SIGNATURE      the candidate takes the holder's inputs and gives its outputs
//   MONITOR_COMPARISON  the monitor found the candidate not worse than the holder on live
//                  traffic (answers asked beforehand through the MonitorPort, monitor_port.h)
//   APPROVAL       N distinct approvers holding a role (the requester only if allowed)
//
// Automatic gates pass or fail at once; approval gates are PENDING until enough approvals
// arrive, and monitor comparison gates while either version has too few labelled predictions
// or the monitor cannot be reached (never passed for want of an answer). StateOf turns the
// evaluation into the request's state, and RefusalError into the FAILED_PRECONDITION a refused move
// answers. Pure functions: the registry stores requests and moves aliases; this file only decides.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "fabrique/v1/registry.pb.h"
#include "libs/registry/monitor_port.h"

namespace fabrique::registry {

struct PromotionCase {
  // The alias's policy (an empty policy has no gates). Required.
  const v1::PromotionPolicy* policy = nullptr;
  // The version asked for. Required.
  const v1::ModelVersion* candidate = nullptr;
  // The version the alias holds now; null when it holds none (relative gates then pass).
  const v1::ModelVersion* holder = nullptr;
  // Who asked. Required.
  const v1::Principal* requester = nullptr;
  // Approvals and rejections recorded so far, in order.
  absl::Span<const v1::PromotionDecision> decisions;
  // The monitor's answers to the policy's monitor comparison gates, in their order, for this
  // candidate against this holder; a gate past the end was not asked (PENDING). Null when the
  // registry has no monitor to ask: those gates fail.
  const std::vector<absl::StatusOr<MonitorComparisonAnswer>>* monitor_answers = nullptr;
};

// Every gate of the policy, evaluated, in the order above.
std::vector<v1::GateEvaluation> EvaluateGates(const PromotionCase& promotion);

// REJECTED if any decision rejects; else REFUSED if an automatic gate failed; else PENDING while
// an approval gate waits; else COMPLETED (the alias may move).
v1::PromotionState StateOf(absl::Span<const v1::GateEvaluation> gates,
                           absl::Span<const v1::PromotionDecision> decisions);

// FAILED_PRECONDITION listing each failed gate with its explanation; OK when none failed.
absl::Status RefusalError(absl::Span<const v1::GateEvaluation> gates);

// The version's metric `name` as gates read it: the latest appended evaluation reporting it wins,
// else the version's own metrics; within one list the validation split's when several splits
// report it. Null when none does.
const v1::Metric* LatestMetric(const v1::ModelVersion& version, const std::string& name);

// The comparison as people write it: ">=", "<", ...; "?" when unspecified.
const char* ComparisonText(v1::ComparisonOp op);

// Whether `value op threshold` holds (e.g. 0.83 >= 0.8); an unspecified op never holds.
bool MetricHolds(double value, v1::ComparisonOp op, double threshold);

// Whether `candidate` can replace `holder` for their callers: each of the candidate's inputs is
// one of the holder's (same name and datatype, compatible shape: same rank, each dimension equal
// or variable on either side), and each of the holder's outputs is one of the candidate's.
// Sets `*why` to the first incompatibility.
bool SignaturesCompatible(const v1::ModelSignature& holder, const v1::ModelSignature& candidate,
                          std::string* why);

}  // namespace fabrique::registry

#endif  // FABRIQUE_LIBS_REGISTRY_PROMOTION_GATES_H_
