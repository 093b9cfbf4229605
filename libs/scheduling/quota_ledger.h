#ifndef FABRIQUE_LIBS_SCHEDULING_QUOTA_LEDGER_H_
#define FABRIQUE_LIBS_SCHEDULING_QUOTA_LEDGER_H_

// The quota arithmetic of the scheduler, with Kueue's meaning of nominal quota, borrowing limit
// and lending limit, kept incrementally so that asking "does this fit?" costs O(requests):
//
// - a queue's guaranteed quota is what it does not lend: nominal - lending limit (0 without a
//   lending limit). Usage up to it is the queue's own; usage above it is drawn from the cohort;
// - a cohort's lendable amount is the sum of its members' nominal - guaranteed, and its usage the
//   sum of its members' usage above guaranteed. Both are updated on every admission and removal,
//   so what a queue may still take is
//       max(0, guaranteed - used) + min(lendable - cohort usage,
//                                        nominal - guaranteed - usage above guaranteed + borrowing
//                                        limit)
//   (the second term without the min when the queue has no borrowing limit), as in Kueue's
//   resource nodes with one level of cohorts;
// - a queue's fair share is its dominant resource share: per resource (summed over flavours) what
//   it uses above nominal over what its cohort can lend, the largest of them, divided by its
//   weight.
//
// Flavour-resources are interned as small integers; requests are lists of (index, amount).

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "libs/scheduling/scheduler.h"

namespace fabrique::scheduling {

// (flavour-resource index, amount); one entry per index, amounts > 0.
using Requests = std::vector<std::pair<int, int64_t>>;

class QuotaLedger {
 public:
  static constexpr int kNoCohort = -1;
  static constexpr int64_t kUnlimited = -1;

  // Index of a flavour-resource, interning it on first sight.
  int Intern(const FlavorResource& what);
  // Index of a flavour-resource, or -1 when never seen.
  int FindFlavorResource(const FlavorResource& what) const {
    auto it = flavor_resource_index_.find(what);
    return it == flavor_resource_index_.end() ? -1 : it->second;
  }
  const FlavorResource& flavor_resource(int index) const { return flavor_resources_[index]; }
  int flavor_resources() const { return static_cast<int>(flavor_resources_.size()); }
  // Merges duplicates and drops zero amounts; INVALID_ARGUMENT for a negative amount.
  absl::Status ToRequests(const std::vector<std::pair<FlavorResource, int64_t>>& in, Requests* out);

  // Index of a squad's queue, or -1.
  int FindQueue(absl::string_view squad) const;
  // Adds or replaces a queue's quotas, weight and cohort, keeping its usage. Validated by the
  // caller. Returns the queue's index.
  int SetQueue(const QueueConfig& config);
  int queues() const { return static_cast<int>(queues_.size()); }
  const std::string& squad(int queue) const { return queues_[queue].squad; }
  int cohort(int queue) const { return queues_[queue].cohort; }
  const std::string& cohort_name(int queue) const;
  // Queues of a cohort (itself alone when in no cohort).
  std::vector<int> CohortMembers(int queue) const;

  // Adds (sign +1) or removes (sign -1) a workload's usage.
  void Charge(int queue, const Requests& requests, int sign);

  int64_t Nominal(int queue, int fr) const { return At(queue, fr).nominal; }
  int64_t Used(int queue, int fr) const { return At(queue, fr).used; }
  // What the queue may still take of `fr` now; negative when over its quota.
  int64_t Available(int queue, int fr) const;
  // What the queue could take of `fr` with nothing else running.
  int64_t MaxEver(int queue, int fr) const;
  // Says why MaxEver is what it is: "nominal 2000m + borrowing limit 2000m".
  std::string ExplainMaxEver(int queue, int fr) const;
  bool Fits(int queue, const Requests& requests) const;
  // True when the queue uses more of some flavour-resource than it could ever get (its quota, or
  // its cohort's, was lowered below usage).
  bool OverQuota(int queue) const;
  // True when the queue would use more than nominal of some requested flavour-resource.
  bool BorrowsWith(int queue, const Requests& requests) const;
  bool Borrowing(int queue, int fr) const { return At(queue, fr).used > At(queue, fr).nominal; }
  // Weighted dominant resource share with `extra` added to the queue's usage (may be null).
  double Share(int queue, const Requests* extra) const;
  // Of the queue's nominal `fr`, what others in its cohort use now, attributed to the lenders in
  // proportion to their idle lendable quota (Kueue does not track which lender lent what).
  int64_t Lent(int queue, int fr) const;
  // Flavour-resources the queue has quota for or uses.
  std::vector<int> Known(int queue) const;

 private:
  struct Cell {
    int64_t nominal = 0;
    int64_t guaranteed = 0;                // nominal - lending limit; 0 without one.
    int64_t borrowing_limit = kUnlimited;  // kUnlimited: no limit.
    int64_t used = 0;
    bool configured = false;
  };
  struct Queue {
    std::string squad;
    int cohort = kNoCohort;
    double weight = 1.0;
    std::vector<Cell> cells;  // By flavour-resource index; missing = zero quota.
  };
  struct Cohort {
    std::string name;
    std::vector<int> members;
    std::vector<int64_t> lendable;                  // By flavour-resource index.
    std::vector<int64_t> usage;                     // Members' usage above their guaranteed quota.
    std::array<int64_t, 3> lendable_by_resource{};  // Summed over flavours: shares' denominators.
  };

  const Cell& At(int queue, int fr) const {
    static const Cell kEmpty;
    const auto& cells = queues_[queue].cells;
    return fr < static_cast<int>(cells.size()) ? cells[fr] : kEmpty;
  }
  Cell& MutableAt(int queue, int fr);
  static int64_t& Slot(std::vector<int64_t>& v, int fr);
  static int64_t Get(const std::vector<int64_t>& v, int fr) {
    return fr < static_cast<int>(v.size()) ? v[fr] : 0;
  }
  int CohortIndex(const std::string& name);
  // Adds (sign +1) or withdraws (-1) a queue's contribution to its cohort's aggregates.
  void Contribute(int queue, int sign);

  std::vector<FlavorResource> flavor_resources_;
  absl::flat_hash_map<FlavorResource, int> flavor_resource_index_;
  std::vector<Queue> queues_;
  absl::flat_hash_map<std::string, int> queue_index_;
  std::vector<Cohort> cohorts_;
  absl::flat_hash_map<std::string, int> cohort_index_;
};

}  // namespace fabrique::scheduling

#endif  // FABRIQUE_LIBS_SCHEDULING_QUOTA_LEDGER_H_
