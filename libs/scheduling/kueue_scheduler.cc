#include "libs/scheduling/kueue_scheduler.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/scheduling/amounts.h"

namespace fabrique::scheduling {
namespace {

using State = WorkloadEntry::State;

absl::Status ValidateQueue(const QueueConfig& config) {
  if (config.squad.empty()) return absl::InvalidArgumentError("a queue needs its squad's name");
  if (!(config.weight > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("squad ", config.squad, ": weight ", config.weight, " must be above 0"));
  }
  std::vector<FlavorResource> seen;
  for (const QuotaLimit& limit : config.quotas) {
    const std::string what = DescribeFlavorResource(limit.what);
    const auto amount = [&](int64_t v) { return FormatAmount(limit.what.resource, v); };
    if (limit.what.flavor.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("squad ", config.squad, ": a quota needs a flavour (\"default\")"));
    }
    if (std::find(seen.begin(), seen.end(), limit.what) != seen.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("squad ", config.squad, ": ", what, " is given twice; give it once"));
    }
    seen.push_back(limit.what);
    if (limit.nominal < 0 || limit.borrowing_limit.value_or(0) < 0 ||
        limit.lending_limit.value_or(0) < 0) {
      return absl::InvalidArgumentError(absl::StrCat("squad ", config.squad, ": ", what,
                                                     ": quotas and limits must not be negative"));
    }
    if (limit.lending_limit && *limit.lending_limit > limit.nominal) {
      return absl::InvalidArgumentError(absl::StrCat(
          "squad ", config.squad, ": ", what, ": lending limit ", amount(*limit.lending_limit),
          " is above nominal ", amount(limit.nominal), "; lend at most the nominal quota"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status UnknownSquad(absl::string_view squad) {
  return absl::NotFoundError(absl::StrCat("squad ", squad, " has no queue; set its quotas first"));
}

std::unique_ptr<Scheduler> Scheduler::Create(Options options) {
  return std::make_unique<KueueScheduler>(options);
}

absl::Status KueueScheduler::SetQueue(const QueueConfig& config) {
  if (absl::Status status = ValidateQueue(config); !status.ok()) return status;
  const int existing = ledger_.FindQueue(config.squad);
  std::vector<int> touched;
  if (existing >= 0) touched = ledger_.CohortMembers(existing);
  const int queue = ledger_.SetQueue(config);
  while (queue >= static_cast<int>(queues_.size())) queues_.emplace_back();
  queues_[queue].config = config;
  for (int member : ledger_.CohortMembers(queue)) touched.push_back(member);
  // Quotas and lendable amounts changed: shares and what fits change for the whole cohort.
  for (int member : touched) {
    Unpark(member);
    Refresh(member);
  }
  return absl::OkStatus();
}

absl::Status KueueScheduler::Enqueue(const Workload& workload) {
  WorkloadEntry* entry = nullptr;
  if (absl::Status status = Add(workload, /*check_fits=*/true, &entry); !status.ok()) {
    return status;
  }
  queues_[entry->queue].pending.insert(entry);
  Refresh(entry->queue);
  return absl::OkStatus();
}

absl::Status KueueScheduler::RestoreAdmitted(const Workload& workload, bool borrowing) {
  WorkloadEntry* entry = nullptr;
  if (absl::Status status = Add(workload, /*check_fits=*/false, &entry); !status.ok()) {
    return status;
  }
  Admit(entry);
  entry->borrowing = borrowing;
  return absl::OkStatus();
}

void KueueScheduler::Remove(absl::string_view id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  WorkloadEntry* entry = it->second.get();
  const int queue = entry->queue;
  QueueWorkloads& q = queues_[queue];
  switch (entry->state) {
    case State::kPending:
      q.pending.erase(entry);
      break;
    case State::kParked:
      q.parked.erase(entry);
      break;
    case State::kHeld:
      q.held.erase(entry);
      break;
    case State::kAdmitted:
      q.admitted.erase(entry);
      ledger_.Charge(queue, entry->requests, -1);
      --admitted_;
      break;
    case State::kPreempted:
      preempted_in_cycle_.erase(
          std::find(preempted_in_cycle_.begin(), preempted_in_cycle_.end(), entry));
      break;
  }
  const bool freed_quota = entry->state == State::kAdmitted;
  entries_.erase(it);
  Refresh(queue);
  if (freed_quota) UnparkCohort(queue);
}

absl::Status KueueScheduler::Add(const Workload& workload, bool check_fits, WorkloadEntry** out) {
  if (workload.id.empty()) return absl::InvalidArgumentError("a workload needs an id");
  const int queue = ledger_.FindQueue(workload.squad);
  if (queue < 0) return UnknownSquad(workload.squad);
  if (entries_.contains(workload.id)) {
    return absl::AlreadyExistsError(absl::StrCat("workload ", workload.id, " is already known"));
  }
  if (check_fits) {
    if (absl::Status status = CheckFits(workload); !status.ok()) return status;
  }
  auto entry = std::make_unique<WorkloadEntry>();
  if (absl::Status status = ledger_.ToRequests(workload.requests, &entry->requests); !status.ok()) {
    return status;
  }
  entry->workload = workload;
  entry->queue = queue;
  *out = entry.get();
  entries_.emplace(workload.id, std::move(entry));
  return absl::OkStatus();
}

void KueueScheduler::Admit(WorkloadEntry* entry) {
  entry->borrowing = ledger_.BorrowsWith(entry->queue, entry->requests);
  ledger_.Charge(entry->queue, entry->requests, +1);
  entry->state = State::kAdmitted;
  entry->admission = ++admissions_;
  entry->held_reason.clear();
  queues_[entry->queue].admitted.insert(entry);
  ++admitted_;
}

void KueueScheduler::Refresh(int queue) {
  QueueWorkloads& q = queues_[queue];
  if (q.ready) {
    ready_.erase(q.key);
    q.ready = false;
  }
  if (q.pending.empty() || q.done_in_cycle) return;
  const WorkloadEntry* head = *q.pending.begin();
  q.key.squad = &q.config.squad;
  if (options_.fair_sharing) {
    q.key.share = ledger_.Share(queue, &head->requests);
    q.key.neg_priority = -head->workload.priority;
    q.key.sequence = head->workload.sequence;
  }
  ready_.insert(q.key);
  q.ready = true;
}

void KueueScheduler::Unpark(int queue) {
  QueueWorkloads& q = queues_[queue];
  if (q.parked.empty()) return;
  for (WorkloadEntry* entry : q.parked) {
    entry->state = State::kPending;
    q.pending.insert(entry);
  }
  q.parked.clear();
  Refresh(queue);
}

void KueueScheduler::UnparkCohort(int queue) {
  for (int member : ledger_.CohortMembers(queue)) Unpark(member);
}

CycleResult KueueScheduler::RunCycle() {
  CycleResult result;
  admitted_before_cycle_ = admissions_;
  // The filter's answers (budgets) change outside the scheduler: held workloads get a new look.
  for (int queue = 0; queue < static_cast<int>(queues_.size()); ++queue) {
    QueueWorkloads& q = queues_[queue];
    if (q.held.empty()) continue;
    for (WorkloadEntry* entry : q.held) {
      entry->state = State::kPending;
      q.pending.insert(entry);
    }
    q.held.clear();
    Refresh(queue);
  }
  const size_t most = options_.max_admissions_per_cycle > 0
                          ? static_cast<size_t>(options_.max_admissions_per_cycle)
                          : SIZE_MAX;
  while (!ready_.empty() && result.admitted.size() < most) TryHead(result);

  for (int queue : done_in_cycle_) {
    queues_[queue].done_in_cycle = false;
    Refresh(queue);
  }
  done_in_cycle_.clear();
  // Evicted workloads wait for the next cycle, so that none is admitted again in the cycle that
  // evicted it.
  for (WorkloadEntry* entry : preempted_in_cycle_) {
    entry->state = State::kPending;
    queues_[entry->queue].pending.insert(entry);
    Refresh(entry->queue);
  }
  preempted_in_cycle_.clear();
  return result;
}

bool KueueScheduler::TryHead(CycleResult& result) {
  auto first = ready_.begin();
  const int queue = ledger_.FindQueue(*first->squad);
  QueueWorkloads& q = queues_[queue];
  ready_.erase(first);
  q.ready = false;
  // Out of the pending set while it is tried: evictions below may unpark workloads into it.
  WorkloadEntry* head = *q.pending.begin();
  q.pending.erase(q.pending.begin());

  if (filter_) {
    std::string reason = filter_(head->workload);
    if (!reason.empty()) {
      head->state = State::kHeld;
      head->held_reason = std::move(reason);
      q.held.insert(head);
      Refresh(queue);
      return false;
    }
  }
  // A queue over its (lowered) quota admits nothing, even what it has room for in another
  // resource, until its running workloads bring it back under; and it preempts nothing.
  const bool over_quota = ledger_.OverQuota(queue);
  bool fits = !over_quota && ledger_.Fits(queue, head->requests);
  if (!fits && !over_quota) {
    std::vector<Victim> victims = ChooseVictims(ledger_, queues_, *head, admitted_before_cycle_);
    for (const Victim& victim : victims) Evict(victim, *head, result);
    fits = !victims.empty();
  }
  if (!fits) {
    head->state = State::kParked;
    q.parked.insert(head);
    q.done_in_cycle = true;
    done_in_cycle_.push_back(queue);
    return false;
  }
  Admit(head);
  result.admitted.push_back({head->workload.id, head->borrowing});
  Refresh(queue);
  return true;
}

void KueueScheduler::Evict(const Victim& victim, const WorkloadEntry& preemptor,
                           CycleResult& result) {
  WorkloadEntry* entry = victim.entry;
  // ChooseVictims already uncharged it.
  queues_[entry->queue].admitted.erase(entry);
  --admitted_;
  entry->state = State::kPreempted;
  preempted_in_cycle_.push_back(entry);
  const std::string& squad = queues_[preemptor.queue].config.squad;
  std::string reason =
      victim.kind == Preemption::Kind::kReclaimWithinCohort
          ? absl::StrCat("preempted by job ", preemptor.workload.id, ": squad ", squad,
                         " reclaims its nominal ",
                         DescribeFlavorResource(ledger_.flavor_resource(victim.flavor_resource)))
          : absl::StrCat("preempted by job ", preemptor.workload.id, " of squad ", squad,
                         ", priority ", preemptor.workload.priority, " above ",
                         entry->workload.priority);
  result.preempted.push_back({entry->workload.id, preemptor.workload.id, victim.kind, reason});
  Refresh(entry->queue);
  UnparkCohort(entry->queue);
}

}  // namespace fabrique::scheduling
