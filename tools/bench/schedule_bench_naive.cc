#include "tools/bench/schedule_bench_naive.h"

#include <algorithm>
#include <tuple>

namespace fabrique::bench {

absl::Status NaiveScheduler::SetQueue(const scheduling::QueueConfig& config) {
  ledger_.SetQueue(config);
  return absl::OkStatus();
}

absl::Status NaiveScheduler::Enqueue(const scheduling::Workload& workload) {
  const int queue = ledger_.FindQueue(workload.squad);
  if (queue < 0) return absl::NotFoundError(workload.squad);
  auto [it, inserted] = jobs_.try_emplace(workload.id);
  if (!inserted) return absl::AlreadyExistsError(workload.id);
  Job& job = it->second;
  job.workload = workload;
  job.queue = queue;
  if (absl::Status status = ledger_.ToRequests(workload.requests, &job.requests); !status.ok()) {
    jobs_.erase(it);
    return status;
  }
  job.slot = pending_.size();
  pending_.push_back(&job);
  return absl::OkStatus();
}

void NaiveScheduler::Remove(const std::string& id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  Job& job = it->second;
  if (job.admitted) {
    ledger_.Charge(job.queue, job.requests, -1);
  } else {
    pending_[job.slot] = pending_.back();
    pending_[job.slot]->slot = job.slot;
    pending_.pop_back();
  }
  jobs_.erase(it);
}

std::vector<std::string> NaiveScheduler::RunCycle() {
  std::vector<double> shares(ledger_.queues());
  for (int q = 0; q < ledger_.queues(); ++q) shares[q] = ledger_.Share(q, nullptr);
  std::sort(pending_.begin(), pending_.end(), [&shares](const Job* a, const Job* b) {
    return std::make_tuple(shares[a->queue], -a->workload.priority, a->workload.sequence) <
           std::make_tuple(shares[b->queue], -b->workload.priority, b->workload.sequence);
  });
  std::vector<std::string> admitted;
  std::vector<Job*> still_pending;
  still_pending.reserve(pending_.size());
  for (Job* job : pending_) {
    if (ledger_.Fits(job->queue, job->requests)) {
      ledger_.Charge(job->queue, job->requests, +1);
      job->admitted = true;
      admitted.push_back(job->workload.id);
    } else {
      job->slot = still_pending.size();
      still_pending.push_back(job);
    }
  }
  pending_.swap(still_pending);
  return admitted;
}

}  // namespace fabrique::bench
