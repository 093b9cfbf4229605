// Scheduler::Create: the admission scheduler with Kueue's semantics (see scheduler.h).
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

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/scheduling/amounts.h"
#include "libs/scheduling/preemption.h"
#include "libs/scheduling/quota_ledger.h"
#include "libs/scheduling/scheduler.h"
#include "libs/scheduling/workload_sets.h"

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

class KueueScheduler final : public Scheduler {
 public:
  explicit KueueScheduler(Options options) : options_(options) {}

  absl::Status SetQueue(const QueueConfig& config) override {
    if (absl::Status status = ValidateQueue(config); !status.ok()) return status;
    const int existing = ledger_.FindQueue(config.squad);
    std::vector<int> touched;
    if (existing >= 0) touched = ledger_.CohortMembers(existing);
    const int queue = ledger_.SetQueue(config);
    if (queue >= static_cast<int>(queues_.size())) {
      // Growing the vector moves every queue, and ready keys point at their queue's squad name:
      // rebuild them rather than compare through stale pointers.
      ready_.clear();
      queues_.resize(queue + 1);
      for (int i = 0; i < static_cast<int>(queues_.size()); ++i) {
        if (!queues_[i].ready) continue;
        queues_[i].ready = false;
        Refresh(i);
      }
    }
    queues_[queue].config = config;
    for (int member : ledger_.CohortMembers(queue)) touched.push_back(member);
    // Quotas and lendable amounts changed: shares and what fits change for the whole cohort.
    for (int member : touched) {
      Unpark(member);
      Refresh(member);
    }
    return absl::OkStatus();
  }

  absl::Status CheckFits(const Workload& workload) const override {
    const int queue = ledger_.FindQueue(workload.squad);
    if (queue < 0) return UnknownSquad(workload.squad);
    std::vector<std::pair<FlavorResource, int64_t>> totals;
    for (const auto& [what, amount] : workload.requests) {
      if (amount < 0) {
        return absl::InvalidArgumentError(absl::StrCat(DescribeFlavorResource(what), ": request ",
                                                       amount, " is negative; ask for 0 or more"));
      }
      auto it = std::find_if(totals.begin(), totals.end(),
                             [&](const auto& t) { return t.first == what; });
      if (it == totals.end()) {
        totals.emplace_back(what, amount);
      } else {
        it->second += amount;
      }
    }
    std::vector<std::string> short_of;
    for (const auto& [what, amount] : totals) {
      const int fr = ledger_.FindFlavorResource(what);
      const int64_t most = fr < 0 ? 0 : ledger_.MaxEver(queue, fr);
      if (amount <= most) continue;
      const std::string why =
          fr < 0 ? absl::StrCat("no squad has quota for it") : ledger_.ExplainMaxEver(queue, fr);
      short_of.push_back(absl::StrCat(DescribeFlavorResource(what), ": ",
                                      FormatAmount(what.resource, amount), " requested, at most ",
                                      FormatAmount(what.resource, most),
                                      " ever available to squad ", workload.squad, " (", why, ")"));
    }
    if (short_of.empty()) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrJoin(short_of, "; "));
  }

  absl::Status Enqueue(const Workload& workload) override {
    WorkloadEntry* entry = nullptr;
    if (absl::Status status = Add(workload, &entry); !status.ok()) return status;
    if (absl::Status status = CheckFits(workload); !status.ok()) {
      entries_.erase(workload.id);
      return status;
    }
    queues_[entry->queue].pending.insert(entry);
    Refresh(entry->queue);
    return absl::OkStatus();
  }

  absl::Status RestoreAdmitted(const Workload& workload, bool borrowing) override {
    WorkloadEntry* entry = nullptr;
    if (absl::Status status = Add(workload, &entry); !status.ok()) return status;
    Admit(entry);
    entry->borrowing = borrowing;
    return absl::OkStatus();
  }

  void Remove(absl::string_view id) override {
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

  void SetAdmissionFilter(AdmissionFilter filter) override { filter_ = std::move(filter); }

  CycleResult RunCycle() override;

  std::string PendingReason(absl::string_view id) const override;
  int PositionInQueue(absl::string_view id) const override;
  std::vector<QueueUsage> Usage(absl::string_view squad) const override;
  std::vector<std::string> OverQuota(absl::string_view squad) const override;
  size_t pending() const override { return entries_.size() - admitted_; }
  size_t admitted() const override { return admitted_; }

 private:
  static absl::Status UnknownSquad(absl::string_view squad) {
    return absl::NotFoundError(
        absl::StrCat("squad ", squad, " has no queue; set its quotas first"));
  }

  // Registers a new workload (not yet in any set).
  absl::Status Add(const Workload& workload, WorkloadEntry** out) {
    if (workload.id.empty()) return absl::InvalidArgumentError("a workload needs an id");
    const int queue = ledger_.FindQueue(workload.squad);
    if (queue < 0) return UnknownSquad(workload.squad);
    if (entries_.contains(workload.id)) {
      return absl::AlreadyExistsError(absl::StrCat("workload ", workload.id, " is already known"));
    }
    auto entry = std::make_unique<WorkloadEntry>();
    if (absl::Status status = ledger_.ToRequests(workload.requests, &entry->requests);
        !status.ok()) {
      return status;
    }
    entry->workload = workload;
    entry->queue = queue;
    *out = entry.get();
    entries_.emplace(workload.id, std::move(entry));
    return absl::OkStatus();
  }

  void Admit(WorkloadEntry* entry) {
    entry->borrowing = ledger_.BorrowsWith(entry->queue, entry->requests);
    ledger_.Charge(entry->queue, entry->requests, +1);
    entry->state = State::kAdmitted;
    entry->admission = ++admissions_;
    entry->held_reason.clear();
    queues_[entry->queue].admitted.insert(entry);
    ++admitted_;
  }

  // Puts the queue in the ready set under its current key, or takes it out when it has nothing
  // to try (or is done for the running cycle).
  void Refresh(int queue) {
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

  // Gives the queue's parked workloads another try.
  void Unpark(int queue) {
    QueueWorkloads& q = queues_[queue];
    if (q.parked.empty()) return;
    for (WorkloadEntry* entry : q.parked) {
      entry->state = State::kPending;
      q.pending.insert(entry);
    }
    q.parked.clear();
    Refresh(queue);
  }
  void UnparkCohort(int queue) {
    for (int member : ledger_.CohortMembers(queue)) Unpark(member);
  }

  // Tries the head of the queue first in the ready set; true when it was admitted.
  bool TryHead(CycleResult& result);
  void Evict(const Victim& victim, const WorkloadEntry& preemptor, CycleResult& result);

  Options options_;
  QuotaLedger ledger_;
  std::vector<QueueWorkloads> queues_;  // By the ledger's queue index.
  absl::flat_hash_map<std::string, std::unique_ptr<WorkloadEntry>> entries_;
  absl::btree_set<ReadyKey> ready_;
  std::vector<WorkloadEntry*> preempted_in_cycle_;
  std::vector<int> done_in_cycle_;
  AdmissionFilter filter_;
  int64_t admissions_ = 0;
  int64_t admitted_before_cycle_ = 0;  // `admissions_` when the running cycle began.
  size_t admitted_ = 0;
};

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
  bool fits = ledger_.Fits(queue, head->requests);
  if (!fits) {
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

std::string KueueScheduler::PendingReason(absl::string_view id) const {
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second->state == State::kAdmitted) return "";
  const WorkloadEntry& entry = *it->second;
  if (entry.state == State::kHeld) return entry.held_reason;
  const int queue = entry.queue;
  const std::string& squad = queues_[queue].config.squad;
  for (int fr : ledger_.Known(queue)) {
    const int64_t over = ledger_.Used(queue, fr) - ledger_.MaxEver(queue, fr);
    if (over > 0) {
      const Resource r = ledger_.flavor_resource(fr).resource;
      return absl::StrCat("squad ", squad, " is over its quota in ",
                          DescribeFlavorResource(ledger_.flavor_resource(fr)), ": ",
                          FormatAmount(r, ledger_.Used(queue, fr)), " used, at most ",
                          FormatAmount(r, ledger_.MaxEver(queue, fr)),
                          "; nothing new is admitted until running jobs finish");
    }
  }
  for (const auto& [fr, amount] : entry.requests) {
    const int64_t available = ledger_.Available(queue, fr);
    if (available >= amount) continue;
    const Resource r = ledger_.flavor_resource(fr).resource;
    return absl::StrCat("waiting for ", DescribeFlavorResource(ledger_.flavor_resource(fr)), ": ",
                        FormatAmount(r, amount), " requested, ",
                        FormatAmount(r, std::max<int64_t>(0, available)), " free to squad ", squad);
  }
  const int position = PositionInQueue(id);
  if (position > 1) {
    return absl::StrCat("waiting behind ", position - 1, " job", position > 2 ? "s" : "",
                        " of squad ", squad);
  }
  return "fits; waiting for the next admission cycle";
}

int KueueScheduler::PositionInQueue(absl::string_view id) const {
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second->state == State::kAdmitted) return 0;
  const WorkloadEntry* entry = it->second.get();
  const QueueWorkloads& q = queues_[entry->queue];
  PendingOrder before;
  int position = 1;
  for (const PendingSet* set : {&q.pending, &q.parked, &q.held}) {
    for (const WorkloadEntry* other : *set) {
      if (!before(other, entry)) break;
      ++position;
    }
  }
  for (const WorkloadEntry* other : preempted_in_cycle_) {
    if (other->queue == entry->queue && before(other, entry)) ++position;
  }
  return position;
}

std::vector<QueueUsage> KueueScheduler::Usage(absl::string_view squad) const {
  const int queue = ledger_.FindQueue(squad);
  if (queue < 0) return {};
  std::vector<QueueUsage> usage;
  for (int fr : ledger_.Known(queue)) {
    QueueUsage u;
    u.what = ledger_.flavor_resource(fr);
    u.nominal = ledger_.Nominal(queue, fr);
    u.used = ledger_.Used(queue, fr);
    u.borrowed = std::max<int64_t>(0, u.used - u.nominal);
    u.lent = ledger_.Lent(queue, fr);
    usage.push_back(u);
  }
  return usage;
}

std::vector<std::string> KueueScheduler::OverQuota(absl::string_view squad) const {
  const int queue = ledger_.FindQueue(squad);
  if (queue < 0) return {};
  std::vector<std::pair<int, int64_t>> excess;  // (flavour-resource, amount over)
  for (int fr : ledger_.Known(queue)) {
    const int64_t over = ledger_.Used(queue, fr) - ledger_.MaxEver(queue, fr);
    if (over > 0) excess.emplace_back(fr, over);
  }
  std::vector<std::string> names;
  for (const WorkloadEntry* entry : queues_[queue].admitted) {
    if (excess.empty()) break;
    bool named = false;
    for (const auto& [fr, amount] : entry->requests) {
      for (auto& [efr, over] : excess) {
        if (efr != fr) continue;
        over -= amount;
        named = true;
      }
    }
    if (named) names.push_back(entry->workload.id);
    excess.erase(
        std::remove_if(excess.begin(), excess.end(), [](const auto& e) { return e.second <= 0; }),
        excess.end());
  }
  return names;
}

}  // namespace

std::unique_ptr<Scheduler> Scheduler::Create(Options options) {
  return std::make_unique<KueueScheduler>(options);
}

}  // namespace fabrique::scheduling
