#ifndef FABRIQUE_SERVICES_TOWER_TOWER_JOBS_METRICS_H_
#define FABRIQUE_SERVICES_TOWER_TOWER_JOBS_METRICS_H_

// The job queue's Prometheus metrics (deploy/prometheus rules and dashboards use these names):
//   fabrique_tower_jobs{squad,state}                          jobs by state
//   fabrique_tower_admission_latency_seconds                  histogram, submit -> admitted
//   fabrique_tower_job_cycle_seconds                          histogram, submit -> finished
//   fabrique_tower_scheduling_cycle_seconds                   histogram, one admission cycle
//   fabrique_tower_quota_nominal|_used|_borrowed|_lent{squad,flavor,resource}
//   fabrique_tower_preemptions_total{squad,kind}              kind = reclaim | priority
//   fabrique_tower_executor_errors_total{executor}
// state is the job state in lower case ("queued", "running", ...); resource is "cpu" (millicores),
// "memory" (bytes) or "gpu" (devices).

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "libs/tower/jobs/job_queue_observer.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace fabrique::services {

class TowerJobsMetrics : public tower::JobQueueObserver {
 public:
  // Registers the metrics in `registry`, which must outlive this.
  explicit TowerJobsMetrics(prometheus::Registry& registry);

  void JobCounts(const std::map<std::pair<std::string, v1::JobState>, int>& counts) override;
  void Admitted(absl::Duration latency) override;
  void Finished(absl::Duration cycle) override;
  void SchedulingCycle(absl::Duration duration) override;
  void Preempted(absl::string_view squad, absl::string_view kind) override;
  void ExecutorError(absl::string_view executor) override;
  void Quotas(const std::vector<v1::Quota>& quotas) override;

 private:
  prometheus::Family<prometheus::Gauge>& jobs_;
  prometheus::Histogram& admission_latency_;
  prometheus::Histogram& job_cycle_;
  prometheus::Histogram& scheduling_cycle_;
  prometheus::Family<prometheus::Gauge>& nominal_;
  prometheus::Family<prometheus::Gauge>& used_;
  prometheus::Family<prometheus::Gauge>& borrowed_;
  prometheus::Family<prometheus::Gauge>& lent_;
  prometheus::Family<prometheus::Counter>& preemptions_;
  prometheus::Family<prometheus::Counter>& executor_errors_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_TOWER_TOWER_JOBS_METRICS_H_
