#ifndef FABRIQUE_TOOLS_BENCH_SCHEDULE_BENCH_NAIVE_H_
#define FABRIQUE_TOOLS_BENCH_SCHEDULE_BENCH_NAIVE_H_

// The baseline of schedule_bench: an admission scheduler that keeps its pending workloads in one
// unordered list and, every cycle, computes every queue's share and sorts all of them by (fair
// share, priority, arrival) before admitting in that order whatever fits. Same quota arithmetic
// as the real scheduler (QuotaLedger); no preemption, no filter.

#include <string>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "libs/scheduling/quota_ledger.h"
#include "libs/scheduling/scheduler.h"

namespace fabrique::bench {

class NaiveScheduler {
 public:
  absl::Status SetQueue(const scheduling::QueueConfig& config);
  absl::Status Enqueue(const scheduling::Workload& workload);
  void Remove(const std::string& id);
  // Ids admitted by one cycle.
  std::vector<std::string> RunCycle();
  size_t pending() const { return pending_.size(); }
  size_t admitted() const { return jobs_.size() - pending_.size(); }
  const scheduling::QuotaLedger& ledger() const { return ledger_; }

 private:
  struct Job {
    scheduling::Workload workload;
    scheduling::Requests requests;
    int queue = -1;
    bool admitted = false;
    size_t slot = 0;  // Index in pending_ while pending.
  };
  scheduling::QuotaLedger ledger_;
  absl::node_hash_map<std::string, Job> jobs_;  // Stable addresses: pending_ points in.
  std::vector<Job*> pending_;
};

}  // namespace fabrique::bench

#endif  // FABRIQUE_TOOLS_BENCH_SCHEDULE_BENCH_NAIVE_H_
