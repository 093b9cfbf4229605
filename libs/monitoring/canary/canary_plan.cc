#include "libs/monitoring/canary/canary_plan.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"

namespace fabrique::monitoring {
namespace {

absl::Time TimeOf(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
}

absl::Status CheckRequest(const v1::CompareCanaryRequest& request) {
  if (!std::isfinite(request.max_degradation()) || request.max_degradation() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_degradation must be a finite number >= 0, not ", request.max_degradation()));
  }
  if (request.min_labelled() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("min_labelled must be >= 0 (0 = the default), not ", request.min_labelled()));
  }
  if (request.candidate_version() < 0 || request.primary_version() < 0) {
    return absl::InvalidArgumentError("versions are numbered from 1 (0 = the alias's version)");
  }
  return absl::OkStatus();
}

// The version asked for, or the one `alias` points at when `asked` is 0.
absl::StatusOr<int64_t> VersionOf(const v1::Model& model, int64_t asked, const char* alias,
                                  const char* side) {
  if (asked > 0) {
    if (asked > model.latest_version()) {
      return absl::NotFoundError(absl::StrCat("model '", model.name(), "' has no version ", asked,
                                              " (latest ", model.latest_version(), ")"));
    }
    return asked;
  }
  const auto it = model.aliases().find(alias);
  if (it == model.aliases().end() || it->second <= 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("model '", model.name(), "' has no '", alias, "' alias: point it at the ",
                     side, " version, or name the version in the request"));
  }
  return it->second;
}

}  // namespace

absl::StatusOr<CanaryPlan> PlanCanary(const v1::CompareCanaryRequest& request,
                                      const v1::Model& model, absl::Time now,
                                      const CanaryDefaults& defaults) {
  RETURN_IF_ERROR(CheckRequest(request));
  CanaryPlan plan;
  plan.model = model.name();
  plan.task = model.task();
  plan.metric = request.metric();
  plan.max_degradation = request.max_degradation();
  plan.min_labelled = request.min_labelled() > 0 ? request.min_labelled() : defaults.min_labelled;
  ASSIGN_OR_RETURN(plan.candidate_version,
                   VersionOf(model, request.candidate_version(), kCandidateAlias, "candidate"));
  ASSIGN_OR_RETURN(plan.primary_version,
                   VersionOf(model, request.primary_version(), kPrimaryAlias, "primary"));
  if (plan.candidate_version == plan.primary_version) {
    return absl::InvalidArgumentError(
        absl::StrCat("the candidate and the primary are both version ", plan.candidate_version,
                     " of model '", model.name(), "': there is nothing to compare"));
  }
  if (plan.task == v1::TASK_UNSPECIFIED) {
    return absl::FailedPreconditionError(
        absl::StrCat("model '", model.name(), "' has no task: its metrics are unknown"));
  }
  const bool has_start = request.window().has_start_time();
  const bool has_end = request.window().has_end_time();
  plan.to = has_end ? TimeOf(request.window().end_time()) : now;
  plan.from = has_start ? TimeOf(request.window().start_time()) : plan.to - defaults.window;
  if (plan.from >= plan.to) {
    return absl::InvalidArgumentError("the window is empty: start_time must be before end_time");
  }
  return plan;
}

}  // namespace fabrique::monitoring
