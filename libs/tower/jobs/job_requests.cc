#include "libs/tower/jobs/job_requests.h"

#include <cmath>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"

namespace fabrique::tower {
namespace {

constexpr int64_t kGiB = int64_t{1} << 30;

}  // namespace

google::protobuf::Timestamp ToProtoTime(absl::Time time) {
  return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(time));
}

absl::Time FromProtoTime(const google::protobuf::Timestamp& time) {
  return absl::FromUnixMicros(google::protobuf::util::TimeUtil::TimestampToMicroseconds(time));
}

std::string FlavorOrDefault(const std::string& flavor) {
  return flavor.empty() ? kDefaultFlavor : flavor;
}

scheduling::Resource ToSchedulingResource(v1::Resource resource) {
  switch (resource) {
    case v1::RESOURCE_MEMORY:
      return scheduling::Resource::kMemory;
    case v1::RESOURCE_GPU:
      return scheduling::Resource::kGpu;
    default:
      return scheduling::Resource::kCpu;
  }
}

v1::Resource ToApiResource(scheduling::Resource resource) {
  switch (resource) {
    case scheduling::Resource::kMemory:
      return v1::RESOURCE_MEMORY;
    case scheduling::Resource::kGpu:
      return v1::RESOURCE_GPU;
    case scheduling::Resource::kCpu:
      break;
  }
  return v1::RESOURCE_CPU;
}

const char* ResourceName(v1::Resource resource) {
  switch (resource) {
    case v1::RESOURCE_MEMORY:
      return "memory";
    case v1::RESOURCE_GPU:
      return "gpu";
    default:
      return "cpu";
  }
}

absl::Status ValidateSubmission(const v1::SubmitJobRequest& request) {
  if (request.squad().empty()) {
    return absl::InvalidArgumentError("squad is required: the squad whose quota the job uses");
  }
  if (!request.spec().has_training()) {
    return absl::InvalidArgumentError(
        "spec.training is required: the run spec the trainer runs for the job");
  }
  const v1::ResourceRequest& resources = request.spec().resources();
  if (resources.cpu_cores() < 0 || !std::isfinite(resources.cpu_cores())) {
    return absl::InvalidArgumentError(
        absl::StrCat("spec.resources.cpu_cores must be >= 0, not ", resources.cpu_cores()));
  }
  if (resources.memory_bytes() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("spec.resources.memory_bytes must be >= 0, not ", resources.memory_bytes()));
  }
  if (resources.gpus() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("spec.resources.gpus must be >= 0, not ", resources.gpus()));
  }
  if (request.spec().has_max_runtime() &&
      google::protobuf::util::TimeUtil::DurationToSeconds(request.spec().max_runtime()) < 0) {
    return absl::InvalidArgumentError("spec.max_runtime must not be negative");
  }
  const std::string& use_case = request.spec().training().use_case_id();
  if (!use_case.empty() && !request.use_case_id().empty() && use_case != request.use_case_id()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "use_case_id '", request.use_case_id(), "' differs from spec.training.use_case_id '",
        use_case, "'; send one of them, or the same in both"));
  }
  return absl::OkStatus();
}

v1::JobKind KindOf(const v1::SubmitJobRequest& request) {
  if (request.spec().kind() != v1::JOB_KIND_UNSPECIFIED) return request.spec().kind();
  if (request.trigger() == v1::JOB_TRIGGER_MONITOR) return v1::JOB_KIND_RETRAINING;
  if (request.spec().training().has_search()) return v1::JOB_KIND_SEARCH;
  return v1::JOB_KIND_TRAINING;
}

scheduling::Workload WorkloadOf(const v1::Job& job) {
  const v1::ResourceRequest& resources = job.spec().resources();
  const std::string flavor = FlavorOrDefault(resources.flavor());
  scheduling::Workload workload;
  workload.id = job.id();
  workload.squad = job.squad();
  workload.priority = job.priority();
  workload.sequence = job.create_time().seconds() * 1'000'000 + job.create_time().nanos() / 1000;
  const double cores = resources.cpu_cores() > 0 ? resources.cpu_cores() : 1.0;
  workload.requests.push_back(
      {{flavor, scheduling::Resource::kCpu}, static_cast<int64_t>(std::llround(cores * 1000))});
  workload.requests.push_back({{flavor, scheduling::Resource::kMemory},
                               resources.memory_bytes() > 0 ? resources.memory_bytes() : kGiB});
  if (resources.gpus() > 0) {
    workload.requests.push_back({{flavor, scheduling::Resource::kGpu}, resources.gpus()});
  }
  return workload;
}

absl::Status NormaliseQuota(v1::Quota& quota) {
  if (quota.squad().empty()) return absl::InvalidArgumentError("quota.squad is required");
  std::set<std::pair<std::string, int>> seen;
  for (v1::ResourceQuota& resource : *quota.mutable_resources()) {
    resource.set_flavor(FlavorOrDefault(resource.flavor()));
    const std::string what =
        absl::StrCat(ResourceName(resource.resource()), " (", resource.flavor(), ")");
    if (resource.resource() == v1::RESOURCE_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat("quota of squad ", quota.squad(), ": a resource is unspecified in flavour ",
                       resource.flavor(), "; say cpu, memory or gpu"));
    }
    if (resource.nominal() < 0 ||
        (resource.has_borrowing_limit() && resource.borrowing_limit().value() < 0) ||
        (resource.has_lending_limit() && resource.lending_limit().value() < 0)) {
      return absl::InvalidArgumentError(absl::StrCat("quota of squad ", quota.squad(), ": ", what,
                                                     " has a negative nominal or limit"));
    }
    if (!seen.insert({resource.flavor(), resource.resource()}).second) {
      return absl::InvalidArgumentError(absl::StrCat("quota of squad ", quota.squad(), ": ", what,
                                                     " is given twice; give each once"));
    }
    resource.clear_used();
    resource.clear_borrowed();
    resource.clear_lent();
  }
  quota.clear_running_jobs();
  quota.clear_jobs_over_quota();
  return absl::OkStatus();
}

scheduling::QueueConfig QueueConfigOf(const v1::Quota& quota, double weight) {
  scheduling::QueueConfig config;
  config.squad = quota.squad();
  config.cohort = quota.cohort();
  config.weight = weight > 0 ? weight : 1.0;
  config.preempt_within_queue = quota.preempt_within_squad();
  for (const v1::ResourceQuota& resource : quota.resources()) {
    scheduling::QuotaLimit limit;
    limit.what = {FlavorOrDefault(resource.flavor()), ToSchedulingResource(resource.resource())};
    limit.nominal = resource.nominal();
    if (resource.has_borrowing_limit()) limit.borrowing_limit = resource.borrowing_limit().value();
    if (resource.has_lending_limit()) limit.lending_limit = resource.lending_limit().value();
    config.quotas.push_back(std::move(limit));
  }
  return config;
}

}  // namespace fabrique::tower
