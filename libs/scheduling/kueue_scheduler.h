#ifndef FABRIQUE_LIBS_SCHEDULING_KUEUE_SCHEDULER_H_
#define FABRIQUE_LIBS_SCHEDULING_KUEUE_SCHEDULER_H_

// The scheduler behind Scheduler::Create, with Kueue's semantics (see scheduler.h).
//
// Costs: every pending workload sits in its queue's ordered set (priority desc, arrival asc), and
// every queue with pending work in one ordered "ready" set keyed by its weighted share. A share is
// recomputed only for a queue whose usage or head changed, and cohort aggregates are updated on
// each admission and removal (QuotaLedger), so one admission costs O(log n + R) for n pending
// workloads and R requested flavour-resources, whatever the number of queues.
//
// Queueing strategy: Kueue's BestEffortFIFO. A head that does not fit, even by preemption, blocks
// its own queue for the rest of the cycle and is set aside ("parked") so that the next workload of
// that queue gets the next cycle; parked workloads return to their queues, in their order, when
// quota frees in their cohort (a removal, a preemption, a quota change). StrictFIFO would keep the
// whole queue behind its head instead.

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "libs/scheduling/preemption.h"
#include "libs/scheduling/quota_ledger.h"
#include "libs/scheduling/scheduler.h"
#include "libs/scheduling/workload_sets.h"

namespace fabrique::scheduling {

class KueueScheduler final : public Scheduler {
 public:
  explicit KueueScheduler(Options options) : options_(options) {}

  absl::Status SetQueue(const QueueConfig& config) override;
  absl::Status CheckFits(const Workload& workload) const override;
  absl::Status Enqueue(const Workload& workload) override;
  absl::Status RestoreAdmitted(const Workload& workload, bool borrowing) override;
  void Remove(absl::string_view id) override;
  void SetAdmissionFilter(AdmissionFilter filter) override { filter_ = std::move(filter); }
  CycleResult RunCycle() override;

  std::string PendingReason(absl::string_view id) const override;
  int PositionInQueue(absl::string_view id) const override;
  std::vector<QueueUsage> Usage(absl::string_view squad) const override;
  std::vector<std::string> OverQuota(absl::string_view squad) const override;
  size_t pending() const override { return entries_.size() - admitted_; }
  size_t admitted() const override { return admitted_; }

 private:
  // Registers a new workload (not yet in any set); with `check_fits`, refuses one that no state
  // could ever admit.
  absl::Status Add(const Workload& workload, bool check_fits, WorkloadEntry** out);
  void Admit(WorkloadEntry* entry);
  // Puts the queue in the ready set under its current key, or takes it out when it has nothing
  // to try (or is done for the running cycle).
  void Refresh(int queue);
  // Gives the queue's parked workloads another try.
  void Unpark(int queue);
  void UnparkCohort(int queue);
  // Tries the head of the queue first in the ready set; true when it was admitted.
  bool TryHead(CycleResult& result);
  void Evict(const Victim& victim, const WorkloadEntry& preemptor, CycleResult& result);

  Options options_;
  QuotaLedger ledger_;
  // By the ledger's queue index. A deque, so that a queue never moves: ready keys point at its
  // squad name.
  std::deque<QueueWorkloads> queues_;
  absl::flat_hash_map<std::string, std::unique_ptr<WorkloadEntry>> entries_;
  absl::btree_set<ReadyKey> ready_;
  std::vector<WorkloadEntry*> preempted_in_cycle_;
  std::vector<int> done_in_cycle_;
  AdmissionFilter filter_;
  int64_t admissions_ = 0;
  int64_t admitted_before_cycle_ = 0;  // `admissions_` when the running cycle began.
  size_t admitted_ = 0;
};

// "squad X has no queue; set its quotas first" (NOT_FOUND).
absl::Status UnknownSquad(absl::string_view squad);

}  // namespace fabrique::scheduling

#endif  // FABRIQUE_LIBS_SCHEDULING_KUEUE_SCHEDULER_H_
