#ifndef FABRIQUE_TESTS_SCHEDULING_SCHEDULER_FIXTURES_H_
#define FABRIQUE_TESTS_SCHEDULING_SCHEDULER_FIXTURES_H_

// Short ways to write queues and workloads in the scheduler's tests.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "libs/scheduling/scheduler.h"

namespace fabrique::scheduling::testing {

inline FlavorResource Cpu(std::string flavor = "default") {
  return {std::move(flavor), Resource::kCpu};
}
inline FlavorResource Gpu(std::string flavor = "a100") {
  return {std::move(flavor), Resource::kGpu};
}

inline QuotaLimit CpuQuota(int64_t nominal, std::optional<int64_t> borrowing_limit = std::nullopt,
                           std::optional<int64_t> lending_limit = std::nullopt) {
  return {Cpu(), nominal, borrowing_limit, lending_limit};
}

inline QueueConfig Queue(std::string squad, std::string cohort, std::vector<QuotaLimit> quotas,
                         double weight = 1.0, bool preempt_within_queue = false) {
  QueueConfig config;
  config.squad = std::move(squad);
  config.cohort = std::move(cohort);
  config.quotas = std::move(quotas);
  config.weight = weight;
  config.preempt_within_queue = preempt_within_queue;
  return config;
}

// A workload asking for `millicores` of cpu (default); arrival order follows creation.
inline Workload Job(std::string id, std::string squad, int64_t millicores, int32_t priority = 0) {
  static int64_t sequence = 0;
  Workload workload;
  workload.id = std::move(id);
  workload.squad = std::move(squad);
  workload.priority = priority;
  workload.sequence = ++sequence;
  workload.requests = {{Cpu(), millicores}};
  return workload;
}

inline std::vector<std::string> AdmittedIds(const CycleResult& cycle) {
  std::vector<std::string> ids;
  for (const Admission& admission : cycle.admitted) ids.push_back(admission.workload_id);
  return ids;
}

inline std::vector<std::string> PreemptedIds(const CycleResult& cycle) {
  std::vector<std::string> ids;
  for (const Preemption& preemption : cycle.preempted) ids.push_back(preemption.workload_id);
  return ids;
}

inline std::vector<std::string> Sorted(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

// The queue's usage of cpu (default); all zero when it has none.
inline QueueUsage CpuUsage(const Scheduler& scheduler, const std::string& squad) {
  for (const QueueUsage& usage : scheduler.Usage(squad)) {
    if (usage.what == Cpu()) return usage;
  }
  return QueueUsage{Cpu()};
}

}  // namespace fabrique::scheduling::testing

#endif  // FABRIQUE_TESTS_SCHEDULING_SCHEDULER_FIXTURES_H_
