#ifndef FABRIQUE_LIBS_TOWER_KUBERNETES_JOB_STATUS_H_
#define FABRIQUE_LIBS_TOWER_KUBERNETES_JOB_STATUS_H_

// Reads a batch/v1 Job's status as the tower's execution states:
//   condition Failed=True            FAILED, reason "<Reason>: <message>" (DeadlineExceeded,
//                                    BackoffLimitExceeded, PodFailurePolicy, ...);
//   condition Complete=True, or      SUCCEEDED;
//   status.succeeded > 0
//   status.active > 0 and not        RUNNING;
//   suspended
//   otherwise (pending, or           UNSPECIFIED: nothing to report (the tower keeps the job
//   suspended waiting for Kueue)     ADMITTED).
// Usage is the Job's wall time (status.startTime to completionTime, the Failed condition's time,
// or now while it runs) times what its container requested; Kueue resets startTime when it
// unsuspends a Job, so time spent waiting for Kueue is not billed.

#include <nlohmann/json.hpp>

#include "absl/time/time.h"
#include "libs/tower/ports.h"

namespace fabrique::tower {

// Fills state, reason and usage of an update for `job` from the Job object `k8s_job`.
ExecutionUpdate ReadJobStatus(const v1::Job& job, const nlohmann::json& k8s_job, absl::Time now);

// The trainer's termination message {"model","version","checkpoint_epoch"} into `update`;
// ignores what does not parse (an older trainer writes nothing).
void ReadTerminationMessage(absl::string_view message, ExecutionUpdate* update);

// What a job used over `wall`: its requests (CPU cores, GPUs, memory GiB) times seconds.
v1::ResourceUsage JobUsage(const v1::Job& job, absl::Duration wall);

// An RFC 3339 time as the API writes it; InfinitePast when absent or malformed.
absl::Time ParseApiTime(const nlohmann::json& value);

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_KUBERNETES_JOB_STATUS_H_
