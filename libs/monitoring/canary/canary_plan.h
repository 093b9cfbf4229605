#ifndef FABRIQUE_LIBS_MONITORING_CANARY_CANARY_PLAN_H_
#define FABRIQUE_LIBS_MONITORING_CANARY_CANARY_PLAN_H_

// What a CompareCanaryRequest asks for, made explicit against the registry's view of the model:
// which two versions (0 = the version behind the candidate / production alias), over which
// period (unset = the default window ending now), on which metric, with which allowance and
// sample size. Pure: the comparer reads the data, this only decides what to read.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "fabrique/v1/monitor.pb.h"
#include "fabrique/v1/registry.pb.h"

namespace fabrique::monitoring {

// The aliases a canary is read through when the request names no version: the traffic policy's
// defaults.
inline constexpr char kCandidateAlias[] = "candidate";
inline constexpr char kPrimaryAlias[] = "production";

struct CanaryDefaults {
  // The period compared when the request gives none, ending now. Default 1 h, the monitoring
  // policy's default window.
  absl::Duration window = absl::Hours(1);
  // Labelled predictions each side needs when the request says 0. Default 30, as back-testing.
  int64_t min_labelled = 30;
};

struct CanaryPlan {
  std::string model;
  v1::Task task = v1::TASK_UNSPECIFIED;
  int64_t candidate_version = 0;
  int64_t primary_version = 0;
  absl::Time from;
  absl::Time to;
  std::string metric;  // As asked; "" = the task's primary metric.
  double max_degradation = 0;
  int64_t min_labelled = 30;
};

// The plan for `request` on `model` (as the registry returned it, aliases included), at `now`.
// INVALID_ARGUMENT for a negative or non-finite max_degradation, a negative min_labelled or
// version, an empty window, or the same version on both sides; NOT_FOUND for a version above the
// model's latest; FAILED_PRECONDITION when a version is left to an alias the model does not set
// (no candidate: nothing to compare), or the model has no task.
absl::StatusOr<CanaryPlan> PlanCanary(const v1::CompareCanaryRequest& request,
                                      const v1::Model& model, absl::Time now,
                                      const CanaryDefaults& defaults = {});

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_CANARY_CANARY_PLAN_H_
