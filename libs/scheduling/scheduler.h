#ifndef FABRIQUE_LIBS_SCHEDULING_SCHEDULER_H_
#define FABRIQUE_LIBS_SCHEDULING_SCHEDULER_H_

// The admission scheduler of the tower's job queue, with Kueue's semantics, in memory and
// without storage or protobuf:
// - each squad has a queue (Kueue's ClusterQueue) with a nominal quota per resource and flavour;
// - queues in a cohort lend each other unused quota, down to each lender's lending limit, and
//   borrow up to each borrower's borrowing limit;
// - a workload is admitted when its queue's quota, or what the cohort can lend, covers all its
//   requests; within a queue, higher priority first, then arrival order;
// - among queues, the one with the lowest weighted dominant-resource share of what it uses beyond
//   its nominal quota goes first (fair sharing);
// - preemption: a queue under its nominal quota reclaims it from workloads that borrowed it, and
//   (when its queue allows) a higher-priority workload preempts lower ones of its own queue.
//
//   auto scheduler = Scheduler::Create({});
//   RETURN_IF_ERROR(scheduler->SetQueue(config));
//   RETURN_IF_ERROR(scheduler->Enqueue(workload));
//   CycleResult cycle = scheduler->RunCycle();  // admit, preempt; the caller starts and stops
//
// Not thread-safe: the job queue calls it from its one dispatcher thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace fabrique::scheduling {

enum class Resource { kCpu, kMemory, kGpu };  // Millicores, bytes, devices.

// One resource in one flavour, e.g. {"a100", kGpu}.
struct FlavorResource {
  std::string flavor;  // "" is not used: callers say "default".
  Resource resource = Resource::kCpu;
  bool operator==(const FlavorResource& other) const {
    return flavor == other.flavor && resource == other.resource;
  }
  template <typename H>
  friend H AbslHashValue(H h, const FlavorResource& r) {
    return H::combine(std::move(h), r.flavor, static_cast<int>(r.resource));
  }
};

struct QuotaLimit {
  FlavorResource what;
  int64_t nominal = 0;
  // How far past nominal the queue may borrow; nullopt = no limit.
  std::optional<int64_t> borrowing_limit;
  // How much of its nominal quota the queue lends to the cohort; nullopt = all of it.
  std::optional<int64_t> lending_limit;
};

// One squad's queue.
struct QueueConfig {
  std::string squad;
  std::string cohort;   // "" = alone: borrows and lends nothing.
  double weight = 1.0;  // Fair-sharing weight; > 0.
  // Higher-priority workloads of this queue may preempt its lower-priority ones.
  bool preempt_within_queue = false;
  std::vector<QuotaLimit> quotas;
};

struct Workload {
  std::string id;
  std::string squad;
  int32_t priority = 0;  // Higher first.
  int64_t sequence = 0;  // Arrival order: lower first among equal priorities.
  std::vector<std::pair<FlavorResource, int64_t>> requests;
};

struct Preemption {
  std::string workload_id;  // Evicted; back in its queue as pending.
  std::string preemptor_id;
  enum class Kind { kReclaimWithinCohort, kLowerPriorityInQueue } kind;
  std::string reason;  // e.g. "preempted by job j-12: squad risk reclaims its nominal cpu".
};

struct Admission {
  std::string workload_id;
  bool borrowing = false;  // Uses quota lent by the cohort.
};

struct CycleResult {
  std::vector<Admission> admitted;
  std::vector<Preemption> preempted;
};

// Usage of one queue in one resource.
struct QueueUsage {
  FlavorResource what;
  int64_t nominal = 0;
  int64_t used = 0;
  int64_t borrowed = 0;  // used - nominal, when positive.
  int64_t lent = 0;      // Of this queue's nominal, used by others in the cohort.
};

class Scheduler {
 public:
  struct Options {
    // Most admissions per RunCycle; 0 = as many as fit.
    int max_admissions_per_cycle = 0;
    // Queues order by weighted dominant share; false = by queue name (for comparison).
    bool fair_sharing = true;
  };

  static std::unique_ptr<Scheduler> Create(Options options);
  virtual ~Scheduler() = default;

  // Adds or replaces a squad's queue. A quota lowered below usage is kept: running workloads stay
  // admitted, and nothing new is admitted in it until usage is back under.
  virtual absl::Status SetQueue(const QueueConfig& config) = 0;

  // FAILED_PRECONDITION when no state of the queue and its cohort could ever admit `workload`,
  // naming the resource and by how much: "cpu (default): 8000m requested, at most 4000m ever
  // available to squad risk (nominal 2000m + borrowing limit 2000m)". NOT_FOUND for an
  // unknown squad.
  virtual absl::Status CheckFits(const Workload& workload) const = 0;
  // Queues a pending workload (CheckFits first). ALREADY_EXISTS for a known id.
  virtual absl::Status Enqueue(const Workload& workload) = 0;
  // Marks a workload admitted without a cycle, for a tower restarting with running jobs.
  virtual absl::Status RestoreAdmitted(const Workload& workload, bool borrowing) = 0;
  // Removes a pending or admitted workload (finished, cancelled), freeing its quota.
  virtual void Remove(absl::string_view id) = 0;

  // Holds back a squad's or use case's workloads from admission while `blocked` says so (a hard
  // budget threshold); they stay pending with the reason it returns. Empty = admissible.
  using AdmissionFilter = std::function<std::string(const Workload&)>;
  virtual void SetAdmissionFilter(AdmissionFilter filter) = 0;

  // One admission cycle: admits pending workloads in order while they fit, preempting where
  // policy allows. Preempted workloads are pending again; their quota is free at once.
  virtual CycleResult RunCycle() = 0;

  // Why a pending workload waits, e.g. "waiting for cpu (default): 2000m requested, 500m free
  // to squad risk"; empty when not pending.
  virtual std::string PendingReason(absl::string_view id) const = 0;
  // Its position in its queue, 1 = next; 0 when not pending.
  virtual int PositionInQueue(absl::string_view id) const = 0;
  virtual std::vector<QueueUsage> Usage(absl::string_view squad) const = 0;
  // Admitted workloads of a squad over its (lowered) quota, newest first.
  virtual std::vector<std::string> OverQuota(absl::string_view squad) const = 0;
  virtual size_t pending() const = 0;
  virtual size_t admitted() const = 0;
};

}  // namespace fabrique::scheduling

#endif  // FABRIQUE_LIBS_SCHEDULING_SCHEDULER_H_
