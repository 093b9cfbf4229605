#ifndef FABRIQUE_LIBS_SCHEDULING_WORKLOAD_SETS_H_
#define FABRIQUE_LIBS_SCHEDULING_WORKLOAD_SETS_H_

// The scheduler's bookkeeping of one workload and of one queue's workloads, ordered the way the
// cycle and preemption read them.

#include <cstdint>
#include <string>
#include <tuple>

#include "absl/container/btree_set.h"
#include "libs/scheduling/quota_ledger.h"
#include "libs/scheduling/scheduler.h"

namespace fabrique::scheduling {

struct WorkloadEntry {
  enum class State {
    kPending,    // In its queue's pending set: the cycle may try it.
    kParked,     // Did not fit: waits aside until quota frees in its cohort (BestEffortFIFO).
    kHeld,       // Held back by the admission filter; looked at again every cycle.
    kAdmitted,   // Charged to its queue.
    kPreempted,  // Evicted in the running cycle; pending again when the cycle ends.
  };
  Workload workload;
  Requests requests;
  int queue = -1;
  State state = State::kPending;
  bool borrowing = false;
  int64_t admission = 0;  // Admission order: preemption and OverQuota take the newest first.
  std::string held_reason;
};

// Higher priority first, then arrival order (then id, so that the order is total).
struct PendingOrder {
  bool operator()(const WorkloadEntry* a, const WorkloadEntry* b) const {
    return std::make_tuple(-a->workload.priority, a->workload.sequence, std::cref(a->workload.id)) <
           std::make_tuple(-b->workload.priority, b->workload.sequence, std::cref(b->workload.id));
  }
};

// Most recently admitted first.
struct NewestFirst {
  bool operator()(const WorkloadEntry* a, const WorkloadEntry* b) const {
    return a->admission > b->admission;
  }
};

using PendingSet = absl::btree_set<WorkloadEntry*, PendingOrder>;
using AdmittedSet = absl::btree_set<WorkloadEntry*, NewestFirst>;

// A queue's place in the cycle's order: lowest weighted share first (the share it would have with
// its head admitted, as Kueue's fair sharing compares), then the head's priority and arrival.
struct ReadyKey {
  double share = 0;
  int32_t neg_priority = 0;
  int64_t sequence = 0;
  const std::string* squad = nullptr;  // The queue's own name: queues never move.
  bool operator<(const ReadyKey& o) const {
    return std::make_tuple(share, neg_priority, sequence, std::cref(*squad)) <
           std::make_tuple(o.share, o.neg_priority, o.sequence, std::cref(*o.squad));
  }
};

struct QueueWorkloads {
  QueueConfig config;
  PendingSet pending;
  PendingSet parked;
  PendingSet held;
  AdmittedSet admitted;
  bool ready = false;          // `key` is in the scheduler's ready set.
  bool done_in_cycle = false;  // Its head did not fit in the running cycle.
  ReadyKey key;
};

}  // namespace fabrique::scheduling

#endif  // FABRIQUE_LIBS_SCHEDULING_WORKLOAD_SETS_H_
