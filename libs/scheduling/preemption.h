#ifndef FABRIQUE_LIBS_SCHEDULING_PREEMPTION_H_
#define FABRIQUE_LIBS_SCHEDULING_PREEMPTION_H_

// Which admitted workloads to evict so that a pending one fits, as Kueue's classical preemption
// chooses them:
// - reclaim within the cohort: when the preemptor's queue stays within its nominal quota in every
//   flavour-resource it lacks, workloads of other queues of the cohort that borrow that
//   flavour-resource are candidates (any priority: their queue took what it was lent);
// - lower priority in the queue: when the queue allows it, its own workloads of lower priority.
// Candidates go other queues first, then lowest priority, then the most recently admitted; they
// are removed one by one (skipping another queue's workload once its queue no longer borrows what
// is missing) until the preemptor fits; then, newest removal excepted, each is put back if the
// preemptor still fits without it, so no more is evicted than needed. If the preemptor does not
// fit with every candidate gone, nothing is evicted. Workloads admitted in the running cycle are
// never candidates: starting a job only to stop it at once helps nobody.

#include <cstdint>
#include <deque>
#include <vector>

#include "libs/scheduling/quota_ledger.h"
#include "libs/scheduling/scheduler.h"
#include "libs/scheduling/workload_sets.h"

namespace fabrique::scheduling {

struct Victim {
  WorkloadEntry* entry = nullptr;
  Preemption::Kind kind = Preemption::Kind::kReclaimWithinCohort;
  int flavor_resource = -1;  // What the preemptor lacked that the victim used.
};

// Returns the victims, already uncharged from `ledger`; returns none, with `ledger` as it was,
// when no eviction lets `head` fit. Only workloads with `admission` <= `admitted_before` are
// candidates.
std::vector<Victim> ChooseVictims(QuotaLedger& ledger, const std::deque<QueueWorkloads>& queues,
                                  const WorkloadEntry& head, int64_t admitted_before);

}  // namespace fabrique::scheduling

#endif  // FABRIQUE_LIBS_SCHEDULING_PREEMPTION_H_
