#include "services/tower/tower_jobs_metrics.h"

#include "absl/strings/ascii.h"
#include "libs/tower/jobs/job_requests.h"
#include "prometheus/histogram.h"

namespace fabrique::services {
namespace {

// Seconds from 10 ms to about 3 hours: admissions wait from moments to hours, jobs run for
// minutes to hours.
prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  return {0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 10800};
}

// Seconds from 10 us to 1 s: one admission cycle aims under 10 ms.
prometheus::Histogram::BucketBoundaries CycleBuckets() {
  return {0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1};
}

prometheus::Family<prometheus::Gauge>& QuotaGauge(prometheus::Registry& registry,
                                                  const std::string& name,
                                                  const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
}

std::string StateLabel(v1::JobState state) {
  return absl::AsciiStrToLower(v1::JobState_Name(state).substr(10));  // After "JOB_STATE_".
}

}  // namespace

TowerJobsMetrics::TowerJobsMetrics(prometheus::Registry& registry)
    : jobs_(prometheus::BuildGauge()
                .Name("fabrique_tower_jobs")
                .Help("Jobs by squad and state")
                .Register(registry)),
      admission_latency_(prometheus::BuildHistogram()
                             .Name("fabrique_tower_admission_latency_seconds")
                             .Help("Time from a job's submission to its admission")
                             .Register(registry)
                             .Add({}, LatencyBuckets())),
      job_cycle_(prometheus::BuildHistogram()
                     .Name("fabrique_tower_job_cycle_seconds")
                     .Help("Time from a job's submission to its end")
                     .Register(registry)
                     .Add({}, LatencyBuckets())),
      scheduling_cycle_(prometheus::BuildHistogram()
                            .Name("fabrique_tower_scheduling_cycle_seconds")
                            .Help("Duration of one admission cycle")
                            .Register(registry)
                            .Add({}, CycleBuckets())),
      nominal_(QuotaGauge(registry, "fabrique_tower_quota_nominal",
                          "Nominal quota by squad, flavour and resource")),
      used_(QuotaGauge(registry, "fabrique_tower_quota_used",
                       "Quota used by admitted and running jobs")),
      borrowed_(QuotaGauge(registry, "fabrique_tower_quota_borrowed",
                           "Quota used beyond nominal, borrowed from the cohort")),
      lent_(QuotaGauge(registry, "fabrique_tower_quota_lent",
                       "Nominal quota used by others in the cohort")),
      preemptions_(prometheus::BuildCounter()
                       .Name("fabrique_tower_preemptions_total")
                       .Help("Jobs preempted, by squad and kind (reclaim, priority)")
                       .Register(registry)),
      executor_errors_(prometheus::BuildCounter()
                           .Name("fabrique_tower_executor_errors_total")
                           .Help("Executor calls that failed, by executor")
                           .Register(registry)) {}

void TowerJobsMetrics::JobCounts(
    const std::map<std::pair<std::string, v1::JobState>, int>& counts) {
  for (const auto& [key, count] : counts) {
    jobs_.Add({{"squad", key.first}, {"state", StateLabel(key.second)}})
        .Set(static_cast<double>(count));
  }
}

void TowerJobsMetrics::Admitted(absl::Duration latency) {
  admission_latency_.Observe(absl::ToDoubleSeconds(latency));
}

void TowerJobsMetrics::Finished(absl::Duration cycle) {
  job_cycle_.Observe(absl::ToDoubleSeconds(cycle));
}

void TowerJobsMetrics::SchedulingCycle(absl::Duration duration) {
  scheduling_cycle_.Observe(absl::ToDoubleSeconds(duration));
}

void TowerJobsMetrics::Preempted(absl::string_view squad, absl::string_view kind) {
  preemptions_.Add({{"squad", std::string(squad)}, {"kind", std::string(kind)}}).Increment();
}

void TowerJobsMetrics::ExecutorError(absl::string_view executor) {
  executor_errors_.Add({{"executor", std::string(executor)}}).Increment();
}

void TowerJobsMetrics::Quotas(const std::vector<v1::Quota>& quotas) {
  for (const v1::Quota& quota : quotas) {
    for (const v1::ResourceQuota& resource : quota.resources()) {
      const prometheus::Labels labels = {{"squad", quota.squad()},
                                         {"flavor", tower::FlavorOrDefault(resource.flavor())},
                                         {"resource", tower::ResourceName(resource.resource())}};
      nominal_.Add(labels).Set(static_cast<double>(resource.nominal()));
      used_.Add(labels).Set(static_cast<double>(resource.used()));
      borrowed_.Add(labels).Set(static_cast<double>(resource.borrowed()));
      lent_.Add(labels).Set(static_cast<double>(resource.lent()));
    }
  }
}

}  // namespace fabrique::services
