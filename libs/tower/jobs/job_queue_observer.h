#ifndef FABRIQUE_LIBS_TOWER_JOBS_JOB_QUEUE_OBSERVER_H_
#define FABRIQUE_LIBS_TOWER_JOBS_JOB_QUEUE_OBSERVER_H_

// What the job queue reports as it works, for its metrics (services/tower/tower_jobs_metrics.h
// turns these into Prometheus series) without the core depending on Prometheus. Called from the
// dispatcher thread and the calls' threads, never under a lock another call could wait on.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "fabrique/v1/tower.pb.h"

namespace fabrique::tower {

class JobQueueObserver {
 public:
  virtual ~JobQueueObserver() = default;
  // Jobs by (squad, state), every state of every squad seen so far (0 when none are left).
  virtual void JobCounts(const std::map<std::pair<std::string, v1::JobState>, int>& counts) = 0;
  // A job was admitted `latency` after it was submitted.
  virtual void Admitted(absl::Duration latency) = 0;
  // A job finished `cycle` after it was submitted.
  virtual void Finished(absl::Duration cycle) = 0;
  // One admission cycle took `duration`.
  virtual void SchedulingCycle(absl::Duration duration) = 0;
  // A job of `squad` was preempted; `kind` is "reclaim" or "priority".
  virtual void Preempted(absl::string_view squad, absl::string_view kind) = 0;
  // An executor refused a call ("local", "kubernetes", "none").
  virtual void ExecutorError(absl::string_view executor) = 0;
  // Every squad's quotas with their usage (the quota's output fields set).
  virtual void Quotas(const std::vector<v1::Quota>& quotas) = 0;
};

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_JOBS_JOB_QUEUE_OBSERVER_H_
