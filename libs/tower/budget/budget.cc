#include "libs/tower/budget/budget.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/log.h"
#include "libs/core/status_macros.h"
#include "libs/core/stored_proto.h"
#include "libs/kv/key_codec.h"
#include "libs/monitoring/alerts/proto_time.h"
#include "libs/tower/budget/budget_money.h"
#include "libs/tower/budget/budget_thresholds.h"
#include "libs/tower/budget/rate_card.h"

namespace fabrique::tower {
namespace {

using monitoring::FromProtoTime;
using monitoring::ToProtoTime;

constexpr char kRateCardKey[] = "card";
// The month label of a use case's spend over every month (SpentByUseCase).
constexpr char kAllMonths[] = "all";

std::string ScopeKeyOf(int scope, const std::string& id) {
  return kv::KeyBuilder().AddUint8(static_cast<uint8_t>(scope)).AddString(id).key();
}

std::string LineKeyOf(const std::string& month, int scope, const std::string& id) {
  return kv::KeyBuilder()
      .AddString(month)
      .AddUint8(static_cast<uint8_t>(scope))
      .AddString(id)
      .key();
}

template <typename Message>
absl::Status LoadAll(kv::Store* store, kv::ColumnFamily family, absl::string_view what,
                     const std::function<void(absl::string_view key, Message)>& keep) {
  absl::Status parsed;
  RETURN_IF_ERROR(
      store->Scan(family, kv::KeyRange::All(), [&](absl::string_view key, absl::string_view value) {
        absl::StatusOr<Message> message = core::ParseStored<Message>(value, what);
        if (!message.ok()) {
          parsed = message.status();
          return false;
        }
        keep(key, *std::move(message));
        return true;
      }));
  return parsed;
}

// Adds `items` to `line`'s usage by kind.
void AddUsage(const google::protobuf::RepeatedPtrField<v1::UsageItem>& items,
              v1::BudgetLine& line) {
  for (const v1::UsageItem& item : items) {
    auto it = std::find_if(line.mutable_usage()->begin(), line.mutable_usage()->end(),
                           [&](const v1::UsageItem& u) { return u.kind() == item.kind(); });
    if (it == line.mutable_usage()->end()) {
      *line.add_usage() = item;
    } else {
      it->set_quantity(it->quantity() + item.quantity());
    }
  }
}

const char* ScopeFlag(int scope) {
  switch (scope) {
    case v1::BUDGET_SCOPE_ENTITY:
      return "entity";
    case v1::BUDGET_SCOPE_USE_CASE:
      return "use-case";
    default:
      return "squad";
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Budget>> Budget::Create(Options options) {
  if (options.store == nullptr) return absl::InvalidArgumentError("Budget needs a store");
  if (options.clock == nullptr) options.clock = core::Clock::Real();
  std::unique_ptr<Budget> budget(new Budget(options));
  Families& f = budget->families_;
  kv::Store* store = options.store;
  ASSIGN_OR_RETURN(f.rates, store->Family(kBudgetRatesFamily));
  ASSIGN_OR_RETURN(f.budgets, store->Family(kBudgetsFamily));
  ASSIGN_OR_RETURN(f.spend, store->Family(kBudgetSpendFamily));
  ASSIGN_OR_RETURN(f.parents, store->Family(kBudgetParentsFamily));
  ASSIGN_OR_RETURN(f.lifts, store->Family(kBudgetLiftsFamily));
  ASSIGN_OR_RETURN(f.usage, store->Family(kBudgetUsageFamily));
  ASSIGN_OR_RETURN(f.jobs, store->Family(kBudgetJobsFamily));
  RETURN_IF_ERROR(budget->Load());
  return budget;
}

Budget::Budget(Options options) : options_(options) {}

absl::Status Budget::Load() {
  absl::MutexLock lock(&mu_);
  rate_card_ = DefaultRateCard();
  absl::StatusOr<std::string> card = options_.store->Get(families_.rates, kRateCardKey);
  if (card.ok()) {
    ASSIGN_OR_RETURN(rate_card_, core::ParseStored<v1::RateCard>(*card, "rate card"));
  } else if (!absl::IsNotFound(card.status())) {
    return card.status();
  }
  RETURN_IF_ERROR(LoadAll<v1::Budget>(options_.store, families_.budgets, "budget",
                                      [&](absl::string_view, v1::Budget budget) {
                                        budgets_[{budget.scope(), budget.id()}] = budget;
                                      }));
  absl::Status keys;
  RETURN_IF_ERROR(LoadAll<v1::BudgetLine>(
      options_.store, families_.spend, "budget line",
      [&](absl::string_view key, v1::BudgetLine line) {
        kv::KeyReader reader(key);
        absl::StatusOr<std::string> month = reader.ReadString();
        if (!month.ok()) {
          keys = absl::DataLossError("a stored budget line has a corrupt key");
          return;
        }
        lines_[{*month, line.scope(), line.id()}] = std::move(line);
      }));
  RETURN_IF_ERROR(keys);
  RETURN_IF_ERROR(options_.store->Scan(
      families_.parents, kv::KeyRange::All(), [&](absl::string_view key, absl::string_view value) {
        kv::KeyReader reader(key);
        absl::StatusOr<uint8_t> scope = reader.ReadUint8();
        absl::StatusOr<std::string> id = scope.ok() ? reader.ReadString() : scope.status();
        if (!id.ok()) {
          keys = absl::DataLossError("a stored budget attribution has a corrupt key");
          return false;
        }
        parents_[{*scope, *id}] = std::string(value);
        return true;
      }));
  RETURN_IF_ERROR(keys);
  return LoadAll<v1::Approval>(options_.store, families_.lifts, "budget lift",
                               [&](absl::string_view, v1::Approval approval) {
                                 const v1::BudgetOverrun& lift = approval.budget_overrun();
                                 lifts_[{lift.scope(), lift.id()}] = std::move(approval);
                               });
}

std::string Budget::currency() const {
  return rate_card_.currency_code().empty() ? kDefaultCurrency : rate_card_.currency_code();
}

// ---- Rate card ----

absl::StatusOr<v1::RateCard> Budget::SetRateCard(v1::RateCard card) {
  RETURN_IF_ERROR(ValidateRateCard(card));
  if (card.currency_code().empty()) card.set_currency_code(kDefaultCurrency);
  for (v1::Rate& rate : *card.mutable_rates()) {
    rate.mutable_price()->set_currency_code(card.currency_code());
  }
  absl::MutexLock lock(&mu_);
  for (const auto& [key, budget] : budgets_) {
    if (budget.monthly().currency_code() != card.currency_code()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "budgets are set in ", budget.monthly().currency_code(), " (e.g. ", ScopeFlag(key.first),
          " ", key.second, "); set them in ", card.currency_code(), " first, or keep the card in ",
          budget.monthly().currency_code()));
    }
  }
  *card.mutable_update_time() = ToProtoTime(options_.clock->Now());
  RETURN_IF_ERROR(options_.store->Put(families_.rates, kRateCardKey, card.SerializeAsString(),
                                      kv::SyncMode::kSync));
  rate_card_ = card;
  return card;
}

v1::RateCard Budget::GetRateCard() const {
  absl::ReaderMutexLock lock(&mu_);
  return rate_card_;
}

// ---- Attribution ----

absl::StatusOr<Budget::Attribution> Budget::Attribute(absl::string_view squad,
                                                      absl::string_view use_case) {
  Attribution who;
  who.squad = std::string(squad);
  who.use_case = std::string(use_case);
  if (!use_case.empty() && options_.use_cases != nullptr) {
    ASSIGN_OR_RETURN(v1::UseCase found, options_.use_cases->GetUseCase(use_case));
    if (who.squad.empty()) who.squad = found.squad();
  }
  if (who.squad.empty()) {
    absl::ReaderMutexLock lock(&mu_);
    who.squad = ParentOf(v1::BUDGET_SCOPE_USE_CASE, who.use_case);
  }
  if (who.squad.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("squad is required: the squad of use case '", use_case, "' is not known"));
  }
  if (options_.org != nullptr) {
    ASSIGN_OR_RETURN(v1::Squad found, options_.org->GetSquad(who.squad));
    who.entity = found.entity();
  } else {
    absl::ReaderMutexLock lock(&mu_);
    who.entity = ParentOf(v1::BUDGET_SCOPE_SQUAD, who.squad);
  }
  return who;
}

std::string Budget::ParentOf(int scope, const std::string& id) const {
  auto it = parents_.find({scope, id});
  return it == parents_.end() ? std::string() : it->second;
}

// ---- Usage ----

absl::Status Budget::Add(const std::string& month, const Attribution& who,
                         const google::protobuf::RepeatedPtrField<v1::UsageItem>& items,
                         int64_t cost_micros, int64_t jobs, kv::WriteBatch extra) {
  kv::WriteBatch& batch = extra;
  std::vector<std::pair<LineKey, v1::BudgetLine>> updated;
  auto add_to = [&](const std::string& line_month, int scope, const std::string& id) {
    if (id.empty()) return;
    const LineKey key{line_month, scope, id};
    v1::BudgetLine line = lines_.count(key) ? lines_.at(key) : v1::BudgetLine();
    line.set_scope(static_cast<v1::BudgetScope>(scope));
    line.set_id(id);
    const int64_t spent = *MoneyToMicros(line.spent()) + cost_micros;
    *line.mutable_spent() = MicrosToMoney(spent, currency());
    AddUsage(items, line);
    line.set_jobs(line.jobs() + jobs);
    batch.Put(families_.spend, LineKeyOf(line_month, scope, id), line.SerializeAsString());
    updated.emplace_back(key, std::move(line));
  };
  add_to(month, v1::BUDGET_SCOPE_ENTITY, who.entity);
  add_to(month, v1::BUDGET_SCOPE_SQUAD, who.squad);
  add_to(month, v1::BUDGET_SCOPE_USE_CASE, who.use_case);
  add_to(kAllMonths, v1::BUDGET_SCOPE_USE_CASE, who.use_case);
  std::vector<std::pair<ScopeKey, std::string>> parents;
  if (!who.use_case.empty())
    parents.push_back({{v1::BUDGET_SCOPE_USE_CASE, who.use_case}, who.squad});
  if (!who.entity.empty()) parents.push_back({{v1::BUDGET_SCOPE_SQUAD, who.squad}, who.entity});
  for (const auto& [key, parent] : parents) {
    batch.Put(families_.parents, ScopeKeyOf(key.first, key.second), parent);
  }
  RETURN_IF_ERROR(options_.store->Write(batch, kv::SyncMode::kSync));
  for (auto& [key, line] : updated) {
    const int64_t before = SpentMicros(std::get<0>(key), std::get<1>(key), std::get<2>(key));
    lines_[key] = std::move(line);
    auto budget = budgets_.find({std::get<1>(key), std::get<2>(key)});
    if (budget == budgets_.end() || std::get<0>(key) == kAllMonths) continue;
    const Thresholds limits = ThresholdsOf(budget->second);
    const int64_t after = before + cost_micros;
    if (before < limits.soft_micros && after >= limits.soft_micros) {
      core::Log(core::LogLevel::kWarning, "budget_soft_threshold_crossed",
                {{"scope", ScopeFlag(std::get<1>(key))},
                 {"id", std::get<2>(key)},
                 {"month", std::get<0>(key)},
                 {"spent", FormatMoney(after, currency())},
                 {"budget", FormatMoney(limits.monthly_micros, currency())}});
    }
  }
  for (const auto& [key, parent] : parents) parents_[key] = parent;
  return absl::OkStatus();
}

int64_t Budget::SpentMicros(const std::string& month, int scope, const std::string& id) const {
  auto it = lines_.find({month, scope, id});
  return it == lines_.end() ? 0 : MoneyToMicros(it->second.spent()).value_or(0);
}

absl::StatusOr<v1::RecordUsageResponse> Budget::RecordUsage(const v1::RecordUsageRequest& request) {
  if (request.request_id().empty()) {
    return absl::InvalidArgumentError(
        "request_id is required: it makes a retried report count once");
  }
  if (request.items().empty()) {
    return absl::InvalidArgumentError("items is empty; report at least one amount");
  }
  for (const v1::UsageItem& item : request.items()) {
    if (item.kind() == v1::USAGE_KIND_UNSPECIFIED || !v1::UsageKind_IsValid(item.kind())) {
      return absl::InvalidArgumentError("an item has no kind; name what was used");
    }
    if (!(item.quantity() >= 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("the quantity of ", v1::UsageKind_Name(item.kind()), " is ", item.quantity(),
                       "; usage cannot be negative"));
    }
  }
  {
    absl::ReaderMutexLock lock(&mu_);
    absl::StatusOr<std::string> seen = options_.store->Get(families_.usage, request.request_id());
    if (seen.ok()) {
      ASSIGN_OR_RETURN(v1::RecordUsageResponse first,
                       core::ParseStored<v1::RecordUsageResponse>(*seen, "usage record"));
      first.set_duplicate(true);
      return first;
    }
  }
  ASSIGN_OR_RETURN(Attribution who, Attribute(request.squad(), request.use_case_id()));
  const absl::Time when =
      request.has_time() ? FromProtoTime(request.time()) : options_.clock->Now();
  absl::MutexLock lock(&mu_);
  if (options_.store->Get(families_.usage, request.request_id()).ok()) {
    // A retry raced this one past the first check; answer as a duplicate.
    absl::StatusOr<std::string> seen = options_.store->Get(families_.usage, request.request_id());
    ASSIGN_OR_RETURN(v1::RecordUsageResponse first,
                     core::ParseStored<v1::RecordUsageResponse>(*seen, "usage record"));
    first.set_duplicate(true);
    return first;
  }
  const int64_t cost = CostOf(rate_card_, request.items());
  v1::RecordUsageResponse response;
  *response.mutable_cost() = MicrosToMoney(cost, currency());
  kv::WriteBatch record;
  record.Put(families_.usage, request.request_id(), response.SerializeAsString());
  RETURN_IF_ERROR(Add(MonthOf(when).label, who, request.items(), cost, 0, std::move(record)));
  return response;
}

absl::StatusOr<v1::Money> Budget::MeterJob(const v1::Job& job) {
  if (job.id().empty()) return absl::InvalidArgumentError("the job to meter has no id");
  ASSIGN_OR_RETURN(Attribution who, Attribute(job.squad(), job.use_case_id()));
  absl::MutexLock lock(&mu_);
  v1::Job metered;
  bool first = true;
  absl::StatusOr<std::string> stored = options_.store->Get(families_.jobs, job.id());
  if (stored.ok()) {
    ASSIGN_OR_RETURN(metered, core::ParseStored<v1::Job>(*stored, "metered job"));
    first = false;
  } else if (!absl::IsNotFound(stored.status())) {
    return stored.status();
  }
  // Only what was used since the last call is priced and added; totals never go back.
  v1::ResourceUsage more;
  more.set_cpu_seconds(std::max(0.0, job.usage().cpu_seconds() - metered.usage().cpu_seconds()));
  more.set_gpu_seconds(std::max(0.0, job.usage().gpu_seconds() - metered.usage().gpu_seconds()));
  more.set_memory_gib_seconds(
      std::max(0.0, job.usage().memory_gib_seconds() - metered.usage().memory_gib_seconds()));
  const google::protobuf::RepeatedPtrField<v1::UsageItem> items = ItemsOf(more);
  const int64_t before = first ? 0 : *MoneyToMicros(metered.cost());
  if (!first && items.empty()) return MicrosToMoney(before, currency());
  const int64_t cost = CostOf(rate_card_, items);
  v1::Job record;
  record.set_id(job.id());
  record.set_squad(who.squad);
  record.set_use_case_id(who.use_case);
  record.mutable_usage()->set_cpu_seconds(metered.usage().cpu_seconds() + more.cpu_seconds());
  record.mutable_usage()->set_gpu_seconds(metered.usage().gpu_seconds() + more.gpu_seconds());
  record.mutable_usage()->set_memory_gib_seconds(metered.usage().memory_gib_seconds() +
                                                 more.memory_gib_seconds());
  *record.mutable_cost() = MicrosToMoney(before + cost, currency());
  kv::WriteBatch batch;
  batch.Put(families_.jobs, job.id(), record.SerializeAsString());
  RETURN_IF_ERROR(
      Add(MonthOf(options_.clock->Now()).label, who, items, cost, first ? 1 : 0, std::move(batch)));
  return record.cost();
}

absl::StatusOr<v1::Money> Budget::SpentByUseCase(absl::string_view use_case_id) {
  absl::ReaderMutexLock lock(&mu_);
  return MicrosToMoney(SpentMicros(kAllMonths, v1::BUDGET_SCOPE_USE_CASE, std::string(use_case_id)),
                       currency());
}

// ---- Budgets and admission ----

absl::Status Budget::CheckScopeExists(v1::BudgetScope scope, const std::string& id) {
  switch (scope) {
    case v1::BUDGET_SCOPE_ENTITY:
      if (options_.org != nullptr) return options_.org->GetEntity(id).status();
      return absl::OkStatus();
    case v1::BUDGET_SCOPE_SQUAD:
      if (options_.org != nullptr) return options_.org->GetSquad(id).status();
      return absl::OkStatus();
    case v1::BUDGET_SCOPE_USE_CASE:
      if (options_.use_cases != nullptr) return options_.use_cases->GetUseCase(id).status();
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError("scope is required: entity, squad or use case");
  }
}

absl::StatusOr<v1::Budget> Budget::SetBudget(v1::Budget budget) {
  if (budget.scope() == v1::BUDGET_SCOPE_UNSPECIFIED || !v1::BudgetScope_IsValid(budget.scope())) {
    return absl::InvalidArgumentError("budget.scope is required: entity, squad or use case");
  }
  if (budget.id().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("budget.id is required: the ", ScopeFlag(budget.scope()), " it is for"));
  }
  RETURN_IF_ERROR(CheckBudgetValues(budget));
  RETURN_IF_ERROR(CheckScopeExists(budget.scope(), budget.id()));
  absl::MutexLock lock(&mu_);
  if (budget.monthly().currency_code().empty()) {
    budget.mutable_monthly()->set_currency_code(currency());
  }
  if (budget.monthly().currency_code() != currency()) {
    return absl::InvalidArgumentError(
        absl::StrCat("budget.monthly is in ", budget.monthly().currency_code(),
                     " and the rate card in ", currency(), "; set it in ", currency()));
  }
  if (budget.soft_threshold_percent() == 0) budget.set_soft_threshold_percent(kDefaultSoftPercent);
  if (budget.hard_threshold_percent() == 0) budget.set_hard_threshold_percent(kDefaultHardPercent);
  RETURN_IF_ERROR(options_.store->Put(families_.budgets, ScopeKeyOf(budget.scope(), budget.id()),
                                      budget.SerializeAsString(), kv::SyncMode::kSync));
  budgets_[{budget.scope(), budget.id()}] = budget;
  return budget;
}

const v1::Approval* Budget::LiftOf(int scope, const std::string& id, absl::Time now) const {
  auto it = lifts_.find({scope, id});
  if (it == lifts_.end()) return nullptr;
  return FromProtoTime(it->second.budget_overrun().until()) > now ? &it->second : nullptr;
}

absl::Status Budget::CheckAdmission(absl::string_view squad, absl::string_view use_case_id) {
  ASSIGN_OR_RETURN(Attribution who, Attribute(squad, use_case_id));
  absl::ReaderMutexLock lock(&mu_);
  const absl::Time now = options_.clock->Now();
  const Month month = MonthOf(now);
  const std::pair<int, std::string> scopes[] = {{v1::BUDGET_SCOPE_USE_CASE, who.use_case},
                                                {v1::BUDGET_SCOPE_SQUAD, who.squad},
                                                {v1::BUDGET_SCOPE_ENTITY, who.entity}};
  for (const auto& [scope, id] : scopes) {
    if (id.empty()) continue;
    auto budget = budgets_.find({scope, id});
    if (budget == budgets_.end()) continue;
    const Thresholds limits = ThresholdsOf(budget->second);
    const int64_t spent = SpentMicros(month.label, scope, id);
    const bool lifted = LiftOf(scope, id, now) != nullptr;
    if (StatusOf(spent, limits, lifted) != v1::BUDGET_STATUS_HARD_EXCEEDED) continue;
    const char* flag = ScopeFlag(scope);
    return absl::ResourceExhaustedError(absl::StrCat(
        "budget of ", flag == std::string("use-case") ? "use case" : flag, " ", id, " for ",
        month.label, " is spent: ", FormatMoney(spent, currency()), " of ",
        FormatAmount(limits.monthly_micros), " (hard threshold ",
        budget->second.hard_threshold_percent(),
        "%); ask for a budget overrun: fabrique tower approvals request budget-overrun --", flag,
        " ", id));
  }
  return absl::OkStatus();
}

}  // namespace fabrique::tower
