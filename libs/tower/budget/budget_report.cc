// Budget::Report: showback of one month, and the overrun handler that lifts hard thresholds.

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/kv/key_codec.h"
#include "libs/monitoring/alerts/proto_time.h"
#include "libs/tower/budget/budget.h"
#include "libs/tower/budget/budget_money.h"
#include "libs/tower/budget/budget_thresholds.h"

namespace fabrique::tower {
namespace {

using monitoring::FromProtoTime;
using monitoring::ToProtoTime;

}  // namespace

v1::BudgetLine Budget::LineOf(const std::string& month, double elapsed_share, int scope,
                              const std::string& id, absl::Time now) const {
  v1::BudgetLine line;
  auto spent = lines_.find({month, scope, id});
  if (spent != lines_.end()) line = spent->second;
  line.set_scope(static_cast<v1::BudgetScope>(scope));
  line.set_id(id);
  const int64_t spent_micros = SpentMicros(month, scope, id);
  *line.mutable_spent() = MicrosToMoney(spent_micros, currency());
  // Spend so far at the month's rate to its end; a month gone by is what it was.
  const int64_t forecast = elapsed_share <= 0
                               ? spent_micros
                               : static_cast<int64_t>(static_cast<long double>(spent_micros) /
                                                      std::min(1.0, elapsed_share));
  *line.mutable_forecast() = MicrosToMoney(forecast, currency());
  auto budget = budgets_.find({scope, id});
  if (budget == budgets_.end()) {
    line.set_status(v1::BUDGET_STATUS_NO_BUDGET);
    return line;
  }
  const Thresholds limits = ThresholdsOf(budget->second);
  *line.mutable_budget() = MicrosToMoney(limits.monthly_micros, currency());
  line.set_spent_percent(limits.monthly_micros > 0 ? 100.0 * static_cast<double>(spent_micros) /
                                                         static_cast<double>(limits.monthly_micros)
                                                   : (spent_micros > 0 ? 100.0 : 0.0));
  const v1::Approval* lift = LiftOf(scope, id, now);
  line.set_status(StatusOf(spent_micros, limits, lift != nullptr));
  if (lift != nullptr) line.set_lifted_by_approval(lift->id());
  return line;
}

absl::StatusOr<v1::BudgetReport> Budget::Report(const v1::GetBudgetReportRequest& request) {
  const absl::Time now = options_.clock->Now();
  const Month month = MonthOf(request.has_month() ? FromProtoTime(request.month()) : now);
  // The share of the month gone: 1 for a past month, 0 for a future one.
  const double elapsed =
      std::clamp(absl::FDivDuration(now - month.start, month.end - month.start), 0.0, 1.0);
  absl::ReaderMutexLock lock(&mu_);
  // Every scope with a budget or a spend this month.
  std::set<ScopeKey> scopes;
  for (const auto& [key, budget] : budgets_) scopes.insert(key);
  for (const auto& [key, line] : lines_) {
    if (std::get<0>(key) == month.label) scopes.insert({std::get<1>(key), std::get<2>(key)});
  }
  auto entity_of_squad = [&](const std::string& squad) {
    return ParentOf(v1::BUDGET_SCOPE_SQUAD, squad);
  };
  auto keep = [&](int scope, const std::string& id) {
    std::string use_case, squad, entity;
    if (scope == v1::BUDGET_SCOPE_USE_CASE) {
      use_case = id;
      squad = ParentOf(v1::BUDGET_SCOPE_USE_CASE, id);
      entity = entity_of_squad(squad);
    } else if (scope == v1::BUDGET_SCOPE_SQUAD) {
      squad = id;
      entity = entity_of_squad(id);
    } else {
      entity = id;
    }
    if (!request.use_case_id().empty() && use_case != request.use_case_id()) return false;
    if (!request.squad().empty() && squad != request.squad()) return false;
    return request.entity().empty() || entity == request.entity();
  };
  v1::BudgetReport report;
  *report.mutable_month()->mutable_start_time() = ToProtoTime(month.start);
  *report.mutable_month()->mutable_end_time() = ToProtoTime(month.end);
  report.set_currency_code(currency());
  int64_t total_spent = 0;
  int64_t total_budget = 0;
  // std::set orders by scope (entity, squad, use case), then id.
  for (const auto& [scope, id] : scopes) {
    if (!keep(scope, id)) continue;
    v1::BudgetLine line = LineOf(month.label, elapsed, scope, id, now);
    // Totals count each amount once: at the entity level, or the squad's when it has none.
    const bool top = scope == v1::BUDGET_SCOPE_ENTITY ||
                     (scope == v1::BUDGET_SCOPE_SQUAD && entity_of_squad(id).empty());
    if (top) {
      total_spent += *MoneyToMicros(line.spent());
      total_budget += MoneyToMicros(line.budget()).value_or(0);
    }
    *report.add_lines() = std::move(line);
  }
  *report.mutable_total_spent() = MicrosToMoney(total_spent, currency());
  *report.mutable_total_budget() = MicrosToMoney(total_budget, currency());
  return report;
}

// ---- Budget overruns ----

absl::Status Budget::OverrunHandler::Validate(const v1::Approval& draft) {
  const v1::BudgetOverrun& overrun = draft.budget_overrun();
  if (overrun.scope() == v1::BUDGET_SCOPE_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        "budget_overrun.scope is required: the entity, squad or use case whose budget to lift");
  }
  if (overrun.id().empty()) return absl::InvalidArgumentError("budget_overrun.id is required");
  RETURN_IF_ERROR(budget_->CheckScopeExists(overrun.scope(), overrun.id()));
  if (overrun.has_until() && FromProtoTime(overrun.until()) <= budget_->options_.clock->Now()) {
    return absl::InvalidArgumentError(
        "budget_overrun.until is past; leave it unset to lift until the month's end");
  }
  return follower != nullptr ? follower->Validate(draft) : absl::OkStatus();
}

absl::Status Budget::OverrunHandler::Apply(const v1::Approval& approved) {
  v1::Approval lift = approved;
  v1::BudgetOverrun* overrun = lift.mutable_budget_overrun();
  if (!overrun->has_until()) {
    const absl::Time closed = approved.has_close_time() ? FromProtoTime(approved.close_time())
                                                        : budget_->options_.clock->Now();
    *overrun->mutable_until() = ToProtoTime(MonthOf(closed).end);
  }
  {
    absl::MutexLock lock(&budget_->mu_);
    // Applying again after a crash writes the same record: idempotent.
    RETURN_IF_ERROR(
        budget_->options_.store->Put(budget_->families_.lifts,
                                     kv::KeyBuilder()
                                         .AddUint8(static_cast<uint8_t>(overrun->scope()))
                                         .AddString(overrun->id())
                                         .key(),
                                     lift.SerializeAsString(), kv::SyncMode::kSync));
    budget_->lifts_[{overrun->scope(), overrun->id()}] = lift;
  }
  return follower != nullptr ? follower->Apply(approved) : absl::OkStatus();
}

void Budget::OverrunHandler::Closed(const v1::Approval& closed) {
  if (follower != nullptr) follower->Closed(closed);
}

}  // namespace fabrique::tower
