#include "libs/scheduling/quota_ledger.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "libs/scheduling/amounts.h"

namespace fabrique::scheduling {

int QuotaLedger::Intern(const FlavorResource& what) {
  auto [it, inserted] =
      flavor_resource_index_.try_emplace(what, static_cast<int>(flavor_resources_.size()));
  if (inserted) flavor_resources_.push_back(what);
  return it->second;
}

absl::Status QuotaLedger::ToRequests(const std::vector<std::pair<FlavorResource, int64_t>>& in,
                                     Requests* out) {
  out->clear();
  for (const auto& [what, amount] : in) {
    if (amount < 0) {
      return absl::InvalidArgumentError(absl::StrCat(DescribeFlavorResource(what),
                                                     ": a request of ", amount,
                                                     " is negative; ask for 0 or more"));
    }
    if (amount == 0) continue;
    const int fr = Intern(what);
    auto it = std::find_if(out->begin(), out->end(), [fr](const auto& r) { return r.first == fr; });
    if (it == out->end()) {
      out->emplace_back(fr, amount);
    } else {
      it->second += amount;
    }
  }
  return absl::OkStatus();
}

int QuotaLedger::FindQueue(absl::string_view squad) const {
  auto it = queue_index_.find(squad);
  return it == queue_index_.end() ? -1 : it->second;
}

const std::string& QuotaLedger::cohort_name(int queue) const {
  static const std::string kNone;
  const int c = queues_[queue].cohort;
  return c == kNoCohort ? kNone : cohorts_[c].name;
}

std::vector<int> QuotaLedger::CohortMembers(int queue) const {
  const int c = queues_[queue].cohort;
  if (c == kNoCohort) return {queue};
  return cohorts_[c].members;
}

int QuotaLedger::CohortIndex(const std::string& name) {
  auto [it, inserted] = cohort_index_.try_emplace(name, static_cast<int>(cohorts_.size()));
  if (inserted) cohorts_.push_back(Cohort{name, {}, {}, {}, {}});
  return it->second;
}

QuotaLedger::Cell& QuotaLedger::MutableAt(int queue, int fr) {
  auto& cells = queues_[queue].cells;
  if (fr >= static_cast<int>(cells.size())) cells.resize(fr + 1);
  return cells[fr];
}

int64_t& QuotaLedger::Slot(std::vector<int64_t>& v, int fr) {
  if (fr >= static_cast<int>(v.size())) v.resize(fr + 1, 0);
  return v[fr];
}

void QuotaLedger::Contribute(int queue, int sign) {
  Queue& q = queues_[queue];
  if (q.cohort == kNoCohort) return;
  Cohort& cohort = cohorts_[q.cohort];
  for (int fr = 0; fr < static_cast<int>(q.cells.size()); ++fr) {
    const Cell& cell = q.cells[fr];
    const int64_t lendable = cell.nominal - cell.guaranteed;
    Slot(cohort.lendable, fr) += sign * lendable;
    cohort.lendable_by_resource[static_cast<int>(flavor_resources_[fr].resource)] +=
        sign * lendable;
    Slot(cohort.usage, fr) += sign * std::max<int64_t>(0, cell.used - cell.guaranteed);
  }
}

int QuotaLedger::SetQueue(const QueueConfig& config) {
  int queue = FindQueue(config.squad);
  if (queue < 0) {
    queue = static_cast<int>(queues_.size());
    queues_.push_back(Queue{config.squad, kNoCohort, 1.0, {}});
    queue_index_[config.squad] = queue;
  } else {
    Contribute(queue, -1);
    if (queues_[queue].cohort != kNoCohort) {
      auto& members = cohorts_[queues_[queue].cohort].members;
      members.erase(std::find(members.begin(), members.end(), queue));
    }
  }
  Queue& q = queues_[queue];
  q.weight = config.weight;
  for (Cell& cell : q.cells) cell = Cell{0, 0, kUnlimited, cell.used, false};
  q.cohort = config.cohort.empty() ? kNoCohort : CohortIndex(config.cohort);
  for (const QuotaLimit& limit : config.quotas) {
    Cell& cell = MutableAt(queue, Intern(limit.what));
    cell.configured = true;
    cell.nominal = limit.nominal;
    cell.guaranteed =
        limit.lending_limit ? std::max<int64_t>(0, limit.nominal - *limit.lending_limit) : 0;
    cell.borrowing_limit = limit.borrowing_limit ? *limit.borrowing_limit : kUnlimited;
  }
  if (q.cohort != kNoCohort) cohorts_[q.cohort].members.push_back(queue);
  Contribute(queue, +1);
  return queue;
}

void QuotaLedger::Charge(int queue, const Requests& requests, int sign) {
  Queue& q = queues_[queue];
  for (const auto& [fr, amount] : requests) {
    Cell& cell = MutableAt(queue, fr);
    const int64_t above_before = std::max<int64_t>(0, cell.used - cell.guaranteed);
    cell.used += sign * amount;
    if (q.cohort != kNoCohort) {
      const int64_t above_after = std::max<int64_t>(0, cell.used - cell.guaranteed);
      Slot(cohorts_[q.cohort].usage, fr) += above_after - above_before;
    }
  }
}

int64_t QuotaLedger::Available(int queue, int fr) const {
  const Queue& q = queues_[queue];
  const Cell& cell = At(queue, fr);
  if (q.cohort == kNoCohort) return cell.nominal - cell.used;
  const Cohort& cohort = cohorts_[q.cohort];
  int64_t from_cohort = Get(cohort.lendable, fr) - Get(cohort.usage, fr);
  if (cell.borrowing_limit != kUnlimited) {
    const int64_t stored = cell.nominal - cell.guaranteed;
    const int64_t used_in_cohort = std::max<int64_t>(0, cell.used - cell.guaranteed);
    from_cohort = std::min(from_cohort, stored - used_in_cohort + cell.borrowing_limit);
  }
  return std::max<int64_t>(0, cell.guaranteed - cell.used) + from_cohort;
}

int64_t QuotaLedger::MaxEver(int queue, int fr) const {
  const Queue& q = queues_[queue];
  const Cell& cell = At(queue, fr);
  if (q.cohort == kNoCohort) return cell.nominal;
  int64_t from_cohort = Get(cohorts_[q.cohort].lendable, fr);
  if (cell.borrowing_limit != kUnlimited) {
    from_cohort = std::min(from_cohort, cell.nominal - cell.guaranteed + cell.borrowing_limit);
  }
  return cell.guaranteed + from_cohort;
}

std::string QuotaLedger::ExplainMaxEver(int queue, int fr) const {
  const Queue& q = queues_[queue];
  const Cell& cell = At(queue, fr);
  const Resource resource = flavor_resources_[fr].resource;
  const std::string nominal = absl::StrCat("nominal ", FormatAmount(resource, cell.nominal));
  if (q.cohort == kNoCohort) return absl::StrCat(nominal, ", in no cohort");
  const Cohort& cohort = cohorts_[q.cohort];
  const int64_t others_lend = Get(cohort.lendable, fr) - (cell.nominal - cell.guaranteed);
  if (cell.borrowing_limit != kUnlimited && cell.borrowing_limit <= others_lend) {
    return absl::StrCat(nominal, " + borrowing limit ",
                        FormatAmount(resource, cell.borrowing_limit));
  }
  return absl::StrCat(nominal, " + ", FormatAmount(resource, others_lend), " lent by cohort ",
                      cohort.name);
}

bool QuotaLedger::Fits(int queue, const Requests& requests) const {
  for (const auto& [fr, amount] : requests) {
    if (Available(queue, fr) < amount) return false;
  }
  return true;
}

bool QuotaLedger::OverQuota(int queue) const {
  const auto& cells = queues_[queue].cells;
  for (int fr = 0; fr < static_cast<int>(cells.size()); ++fr) {
    if (cells[fr].used > 0 && cells[fr].used > MaxEver(queue, fr)) return true;
  }
  return false;
}

bool QuotaLedger::BorrowsWith(int queue, const Requests& requests) const {
  for (const auto& [fr, amount] : requests) {
    const Cell& cell = At(queue, fr);
    if (cell.used + amount > cell.nominal) return true;
  }
  return false;
}

double QuotaLedger::Share(int queue, const Requests* extra) const {
  const Queue& q = queues_[queue];
  if (q.cohort == kNoCohort) return 0;
  std::array<int64_t, 3> borrowed{};
  const int known = std::max(static_cast<int>(q.cells.size()), flavor_resources());
  for (int fr = 0; fr < known; ++fr) {
    const Cell& cell = At(queue, fr);
    int64_t used = cell.used;
    if (extra != nullptr) {
      for (const auto& [efr, amount] : *extra) {
        if (efr == fr) used += amount;
      }
    }
    if (used > cell.nominal) {
      borrowed[static_cast<int>(flavor_resources_[fr].resource)] += used - cell.nominal;
    }
  }
  const Cohort& cohort = cohorts_[q.cohort];
  double dominant = 0;
  for (int r = 0; r < 3; ++r) {
    if (borrowed[r] > 0 && cohort.lendable_by_resource[r] > 0) {
      dominant = std::max(dominant, static_cast<double>(borrowed[r]) * 1000.0 /
                                        static_cast<double>(cohort.lendable_by_resource[r]));
    }
  }
  return dominant / q.weight;
}

int64_t QuotaLedger::Lent(int queue, int fr) const {
  const Queue& q = queues_[queue];
  if (q.cohort == kNoCohort) return 0;
  auto idle_lendable = [this, fr](int member) {
    const Cell& cell = At(member, fr);
    return std::max<int64_t>(0, std::min(cell.nominal - cell.guaranteed, cell.nominal - cell.used));
  };
  int64_t borrowed = 0;
  int64_t idle = 0;
  for (int member : cohorts_[q.cohort].members) {
    const Cell& cell = At(member, fr);
    borrowed += std::max<int64_t>(0, cell.used - cell.nominal);
    idle += idle_lendable(member);
  }
  if (borrowed == 0 || idle == 0) return 0;
  const long double lent = static_cast<long double>(borrowed) * idle_lendable(queue) / idle;
  return std::min<int64_t>(idle_lendable(queue), static_cast<int64_t>(lent + 0.5L));
}

std::vector<int> QuotaLedger::Known(int queue) const {
  std::vector<int> known;
  const auto& cells = queues_[queue].cells;
  for (int fr = 0; fr < static_cast<int>(cells.size()); ++fr) {
    if (cells[fr].configured || cells[fr].used != 0) known.push_back(fr);
  }
  return known;
}

}  // namespace fabrique::scheduling
