// What the scheduler tells about its workloads and queues: whether a workload could ever fit,
// why it waits, where it stands, and each queue's usage.

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/scheduling/amounts.h"
#include "libs/scheduling/kueue_scheduler.h"

namespace fabrique::scheduling {

using State = WorkloadEntry::State;

absl::Status KueueScheduler::CheckFits(const Workload& workload) const {
  const int queue = ledger_.FindQueue(workload.squad);
  if (queue < 0) return UnknownSquad(workload.squad);
  std::vector<std::pair<FlavorResource, int64_t>> totals;
  for (const auto& [what, amount] : workload.requests) {
    if (amount < 0) {
      return absl::InvalidArgumentError(absl::StrCat(DescribeFlavorResource(what), ": request ",
                                                     amount, " is negative; ask for 0 or more"));
    }
    auto it =
        std::find_if(totals.begin(), totals.end(), [&](const auto& t) { return t.first == what; });
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
                                    FormatAmount(what.resource, most), " ever available to squad ",
                                    workload.squad, " (", why, ")"));
  }
  if (short_of.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrJoin(short_of, "; "));
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

}  // namespace fabrique::scheduling
