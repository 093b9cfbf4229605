#ifndef FABRIQUE_LIBS_TOWER_JOBS_JOB_REQUESTS_H_
#define FABRIQUE_LIBS_TOWER_JOBS_JOB_REQUESTS_H_

// How jobs and quotas of the public API become the scheduler's terms: a job's resource requests
// in millicores, bytes and devices per flavour, a quota's limits, and the checks on what callers
// send before anything is stored.

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "fabrique/v1/tower.pb.h"
#include "libs/scheduling/scheduler.h"

namespace fabrique::tower {

inline constexpr char kDefaultFlavor[] = "default";

google::protobuf::Timestamp ToProtoTime(absl::Time time);
absl::Time FromProtoTime(const google::protobuf::Timestamp& time);

// "" -> "default".
std::string FlavorOrDefault(const std::string& flavor);
scheduling::Resource ToSchedulingResource(v1::Resource resource);
v1::Resource ToApiResource(scheduling::Resource resource);
// "cpu", "memory", "gpu".
const char* ResourceName(v1::Resource resource);

// INVALID_ARGUMENT naming the field when a submission cannot be queued as sent.
absl::Status ValidateSubmission(const v1::SubmitJobRequest& request);
// The job's kind: the spec's, else RETRAINING for the monitor, SEARCH for a spec with a search,
// else TRAINING.
v1::JobKind KindOf(const v1::SubmitJobRequest& request);
// The scheduler's workload of a job (requests with their defaults: 1 core, 1 GiB, no GPU).
scheduling::Workload WorkloadOf(const v1::Job& job);

// INVALID_ARGUMENT when a quota is malformed (no squad, an unspecified resource, a negative
// value, a flavour and resource given twice). Fills in "default" flavours.
absl::Status NormaliseQuota(v1::Quota& quota);
// The scheduler's queue for a quota, with the squad's fair-sharing weight.
scheduling::QueueConfig QueueConfigOf(const v1::Quota& quota, double weight);

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_JOBS_JOB_REQUESTS_H_
