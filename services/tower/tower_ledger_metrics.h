#ifndef FABRIQUE_SERVICES_TOWER_TOWER_LEDGER_METRICS_H_
#define FABRIQUE_SERVICES_TOWER_TOWER_LEDGER_METRICS_H_

// The budget's and the approvals' Prometheus gauges, set from the cores on each refresh
// (deploy/prometheus/tower_rules.yaml alerts on them):
//   fabrique_tower_budget_spent{scope,id,currency}            spend this month
//   fabrique_tower_budget_remaining{scope,id,currency}        budget - spend (negative: over)
//   fabrique_tower_budget_threshold_exceeded{scope,id,level}  0/1, level=soft|hard; a lifted
//                                                             hard threshold reads 0
//   fabrique_tower_approvals_pending{kind}                    pending approvals
// scope is entity, squad or use_case; kind is use_case, quota_increase, budget_overrun or
// entity_onboarding. Lines without a budget only have a spend. A line gone from the month (a new
// month began) loses its series.

#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace fabrique::tower {
class Approvals;
class Budget;
}  // namespace fabrique::tower

namespace fabrique::services {

class TowerLedgerMetrics {
 public:
  // Registers the gauges in `registry`, which must outlive this.
  explicit TowerLedgerMetrics(prometheus::Registry& registry);

  // Sets every gauge from the cores (either may be null).
  void Refresh(tower::Approvals* approvals, tower::Budget* budget);

 private:
  // A gauge of `family` with `labels`, kept in `next` for this refresh.
  prometheus::Gauge& Keep(prometheus::Family<prometheus::Gauge>& family,
                          const std::map<std::string, std::string>& labels,
                          std::map<std::string, prometheus::Gauge*>& next);

  absl::Mutex mu_;
  prometheus::Family<prometheus::Gauge>& spent_;
  prometheus::Family<prometheus::Gauge>& remaining_;
  prometheus::Family<prometheus::Gauge>& exceeded_;
  prometheus::Family<prometheus::Gauge>& pending_;
  // Series set by the last refresh, by family name and labels.
  std::map<std::string, prometheus::Gauge*> series_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_TOWER_TOWER_LEDGER_METRICS_H_
