#include "services/tower/tower_ledger_metrics.h"

#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/tower/approvals/approvals.h"
#include "libs/tower/budget/budget.h"
#include "libs/tower/budget/budget_money.h"

namespace fabrique::services {
namespace {

std::string ScopeLabel(v1::BudgetScope scope) {
  switch (scope) {
    case v1::BUDGET_SCOPE_ENTITY:
      return "entity";
    case v1::BUDGET_SCOPE_USE_CASE:
      return "use_case";
    default:
      return "squad";
  }
}

// APPROVAL_KIND_QUOTA_INCREASE -> quota_increase.
std::string KindLabel(v1::ApprovalKind kind) {
  return absl::AsciiStrToLower(v1::ApprovalKind_Name(kind).substr(sizeof("APPROVAL_KIND_") - 1));
}

double Units(const v1::Money& money) {
  return static_cast<double>(tower::MoneyToMicros(money).value_or(0)) / 1e6;
}

}  // namespace

TowerLedgerMetrics::TowerLedgerMetrics(prometheus::Registry& registry)
    : spent_(prometheus::BuildGauge()
                 .Name("fabrique_tower_budget_spent")
                 .Help("Spend this month, by entity, squad and use case, in the rate card's "
                       "currency")
                 .Register(registry)),
      remaining_(prometheus::BuildGauge()
                     .Name("fabrique_tower_budget_remaining")
                     .Help("Monthly budget minus this month's spend (negative: overspent)")
                     .Register(registry)),
      exceeded_(prometheus::BuildGauge()
                    .Name("fabrique_tower_budget_threshold_exceeded")
                    .Help("1 while a budget's soft or hard threshold is reached (a hard one "
                          "lifted by an approval reads 0)")
                    .Register(registry)),
      pending_(prometheus::BuildGauge()
                   .Name("fabrique_tower_approvals_pending")
                   .Help("Approvals waiting for a decision, by kind")
                   .Register(registry)) {}

prometheus::Gauge& TowerLedgerMetrics::Keep(prometheus::Family<prometheus::Gauge>& family,
                                            const std::map<std::string, std::string>& labels,
                                            std::map<std::string, prometheus::Gauge*>& next) {
  prometheus::Gauge& gauge = family.Add(labels);
  next[absl::StrCat(family.GetName(), "{", absl::StrJoin(labels, ",", absl::PairFormatter("=")),
                    "}")] = &gauge;
  return gauge;
}

void TowerLedgerMetrics::Refresh(tower::Approvals* approvals, tower::Budget* budget) {
  absl::MutexLock lock(&mu_);
  std::map<std::string, prometheus::Gauge*> next;
  if (approvals != nullptr) {
    for (const auto& [kind, count] : approvals->PendingByKind()) {
      Keep(pending_, {{"kind", KindLabel(kind)}}, next).Set(static_cast<double>(count));
    }
  }
  if (budget != nullptr) {
    absl::StatusOr<v1::BudgetReport> report = budget->Report(v1::GetBudgetReportRequest());
    if (report.ok()) {
      for (const v1::BudgetLine& line : report->lines()) {
        const std::string scope = ScopeLabel(line.scope());
        const std::map<std::string, std::string> labels = {
            {"scope", scope}, {"id", line.id()}, {"currency", report->currency_code()}};
        Keep(spent_, labels, next).Set(Units(line.spent()));
        if (line.status() == v1::BUDGET_STATUS_NO_BUDGET) continue;
        Keep(remaining_, labels, next).Set(Units(line.budget()) - Units(line.spent()));
        const bool hard = line.status() == v1::BUDGET_STATUS_HARD_EXCEEDED;
        const bool soft = hard || line.status() == v1::BUDGET_STATUS_SOFT_EXCEEDED ||
                          line.status() == v1::BUDGET_STATUS_LIFTED;
        Keep(exceeded_, {{"scope", scope}, {"id", line.id()}, {"level", "soft"}}, next)
            .Set(soft ? 1 : 0);
        Keep(exceeded_, {{"scope", scope}, {"id", line.id()}, {"level", "hard"}}, next)
            .Set(hard ? 1 : 0);
      }
    }
  }
  // Series no longer reported go away rather than keep a stale value.
  for (const auto& [key, gauge] : series_) {
    if (next.count(key)) continue;
    for (auto* family : {&spent_, &remaining_, &exceeded_, &pending_}) {
      if (key.rfind(family->GetName() + "{", 0) == 0) family->Remove(gauge);
    }
  }
  series_ = std::move(next);
}

}  // namespace fabrique::services
