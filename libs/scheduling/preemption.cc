#include "libs/scheduling/preemption.h"

#include <algorithm>

namespace fabrique::scheduling {
namespace {

// The first flavour-resource of `missing` that `entry` uses, or -1.
int UsesMissing(const WorkloadEntry& entry, const std::vector<int>& missing) {
  for (const auto& [fr, amount] : entry.requests) {
    if (std::find(missing.begin(), missing.end(), fr) != missing.end()) return fr;
  }
  return -1;
}

// True while the victim's queue still borrows some missing flavour-resource the victim uses.
bool StillBorrows(const QuotaLedger& ledger, const WorkloadEntry& entry,
                  const std::vector<int>& missing) {
  for (const auto& [fr, amount] : entry.requests) {
    if (std::find(missing.begin(), missing.end(), fr) != missing.end() &&
        ledger.Borrowing(entry.queue, fr)) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::vector<Victim> ChooseVictims(QuotaLedger& ledger, const std::deque<QueueWorkloads>& queues,
                                  const WorkloadEntry& head, int64_t admitted_before) {
  const int queue = head.queue;
  std::vector<int> missing;
  bool within_nominal = true;
  for (const auto& [fr, amount] : head.requests) {
    if (ledger.Available(queue, fr) >= amount) continue;
    missing.push_back(fr);
    if (ledger.Used(queue, fr) + amount > ledger.Nominal(queue, fr)) within_nominal = false;
  }
  if (missing.empty()) return {};

  std::vector<Victim> candidates;
  if (within_nominal && ledger.cohort(queue) != QuotaLedger::kNoCohort) {
    for (int member : ledger.CohortMembers(queue)) {
      if (member == queue) continue;
      for (WorkloadEntry* entry : queues[member].admitted) {
        if (entry->admission > admitted_before) continue;
        const int fr = UsesMissing(*entry, missing);
        if (fr >= 0 && StillBorrows(ledger, *entry, missing)) {
          candidates.push_back({entry, Preemption::Kind::kReclaimWithinCohort, fr});
        }
      }
    }
  }
  if (queues[queue].config.preempt_within_queue) {
    for (WorkloadEntry* entry : queues[queue].admitted) {
      if (entry->admission > admitted_before) continue;
      const int fr = UsesMissing(*entry, missing);
      if (fr >= 0 && entry->workload.priority < head.workload.priority) {
        candidates.push_back({entry, Preemption::Kind::kLowerPriorityInQueue, fr});
      }
    }
  }
  if (candidates.empty()) return {};
  std::stable_sort(candidates.begin(), candidates.end(), [queue](const Victim& a, const Victim& b) {
    const bool a_other = a.entry->queue != queue;
    const bool b_other = b.entry->queue != queue;
    if (a_other != b_other) return a_other;
    if (a.entry->workload.priority != b.entry->workload.priority) {
      return a.entry->workload.priority < b.entry->workload.priority;
    }
    return a.entry->admission > b.entry->admission;
  });

  std::vector<Victim> removed;
  bool fits = false;
  for (const Victim& candidate : candidates) {
    if (candidate.entry->queue != queue && !StillBorrows(ledger, *candidate.entry, missing)) {
      continue;
    }
    ledger.Charge(candidate.entry->queue, candidate.entry->requests, -1);
    removed.push_back(candidate);
    if (ledger.Fits(queue, head.requests)) {
      fits = true;
      break;
    }
  }
  if (!fits) {
    for (const Victim& victim : removed)
      ledger.Charge(victim.entry->queue, victim.entry->requests, +1);
    return {};
  }
  // Put back what turned out not to be needed, oldest choice last.
  std::vector<Victim> victims{removed.back()};
  for (int i = static_cast<int>(removed.size()) - 2; i >= 0; --i) {
    const WorkloadEntry& entry = *removed[i].entry;
    ledger.Charge(entry.queue, entry.requests, +1);
    if (ledger.Fits(queue, head.requests)) continue;
    ledger.Charge(entry.queue, entry.requests, -1);
    victims.push_back(removed[i]);
  }
  return victims;
}

}  // namespace fabrique::scheduling
