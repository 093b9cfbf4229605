// The budget: rate-card pricing, idempotent usage and job metering, attribution to use case,
// squad and entity, soft and hard thresholds, lifts by an approved overrun, the forecast and the
// report's filters.

#include "libs/tower/budget/budget.h"

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "catch2/catch.hpp"
#include "libs/monitoring/alerts/proto_time.h"
#include "libs/tower/budget/budget_money.h"
#include "libs/tower/budget/rate_card.h"
#include "tests/util/test_util.h"

namespace fabrique::tower {
namespace {

using monitoring::ToProtoTime;

// 2026-12-11 00:00 UTC: 10 of December's 31 days have gone.
const absl::Time kDecember11 = absl::FromCivil(absl::CivilDay(2026, 12, 11), absl::UTCTimeZone());

class FakeOrg : public OrgDirectory {
 public:
  absl::StatusOr<v1::Squad> GetSquad(absl::string_view id) override {
    auto it = squads.find(std::string(id));
    if (it == squads.end()) return absl::NotFoundError(absl::StrCat("no squad ", id));
    v1::Squad squad;
    squad.set_id(std::string(id));
    squad.set_entity(it->second);
    return squad;
  }
  absl::StatusOr<v1::OrgEntity> GetEntity(absl::string_view id) override {
    if (id != "bank" && id != "insurance") return absl::NotFoundError("no entity");
    v1::OrgEntity entity;
    entity.set_id(std::string(id));
    return entity;
  }
  absl::StatusOr<std::vector<v1::Squad>> ListSquads(absl::string_view) override {
    return std::vector<v1::Squad>();
  }
  std::map<std::string, std::string> squads = {
      {"risk", "bank"}, {"pricing", "bank"}, {"claims", "insurance"}};
};

class FakeUseCases : public UseCaseDirectory {
 public:
  absl::StatusOr<v1::UseCase> GetUseCase(absl::string_view id) override {
    auto it = squads.find(std::string(id));
    if (it == squads.end()) return absl::NotFoundError(absl::StrCat("no use case ", id));
    v1::UseCase use_case;
    use_case.set_id(std::string(id));
    use_case.set_squad(it->second);
    return use_case;
  }
  std::map<std::string, std::string> squads = {
      {"fraud", "risk"}, {"churn", "pricing"}, {"triage", "claims"}};
};

class RecordingFollower : public ApprovalHandler {
 public:
  absl::Status Validate(const v1::Approval&) override { return absl::OkStatus(); }
  absl::Status Apply(const v1::Approval& a) override {
    ++applied;
    return absl::OkStatus();
  }
  void Closed(const v1::Approval&) override { ++closed; }
  int applied = 0;
  int closed = 0;
};

struct Harness {
  explicit Harness(bool directories = true) : use_directories(directories) { Open(); }
  void Open() {
    budget.reset();
    store.reset();
    kv::StoreOptions options;
    options.path = dir.Sub("kv");
    options.column_families = {kBudgetRatesFamily,   kBudgetsFamily,     kBudgetSpendFamily,
                               kBudgetParentsFamily, kBudgetLiftsFamily, kBudgetUsageFamily,
                               kBudgetJobsFamily};
    store = *kv::Store::Open(std::move(options));
    Budget::Options budget_options;
    budget_options.store = store.get();
    budget_options.clock = &clock;
    if (use_directories) {
      budget_options.org = &org;
      budget_options.use_cases = &use_cases;
    }
    budget = *Budget::Create(budget_options);
  }

  // Records `cpu_seconds` for `use_case` (EUR 0.00001 each at the default card).
  absl::StatusOr<v1::RecordUsageResponse> Use(const std::string& request_id,
                                              const std::string& use_case, double quantity,
                                              v1::UsageKind kind = v1::USAGE_KIND_CPU_SECONDS) {
    v1::RecordUsageRequest request;
    request.set_request_id(request_id);
    request.set_use_case_id(use_case);
    v1::UsageItem* item = request.add_items();
    item->set_kind(kind);
    item->set_quantity(quantity);
    return budget->RecordUsage(request);
  }

  void SetBudget(v1::BudgetScope scope, const std::string& id, int64_t euros, double soft = 0,
                 double hard = 0) {
    v1::Budget b;
    b.set_scope(scope);
    b.set_id(id);
    b.mutable_monthly()->set_currency_code("EUR");
    b.mutable_monthly()->set_units(euros);
    b.set_soft_threshold_percent(soft);
    b.set_hard_threshold_percent(hard);
    REQUIRE(budget->SetBudget(b).ok());
  }

  v1::BudgetLine Line(v1::BudgetScope scope, const std::string& id) {
    v1::GetBudgetReportRequest request;
    const v1::BudgetReport report = *budget->Report(request);
    for (const v1::BudgetLine& line : report.lines()) {
      if (line.scope() == scope && line.id() == id) return line;
    }
    return v1::BudgetLine();
  }

  bool use_directories;
  testing::TempDir dir;
  core::FakeClock clock{kDecember11};
  FakeOrg org;
  FakeUseCases use_cases;
  std::unique_ptr<kv::Store> store;
  std::unique_ptr<Budget> budget;
};

int64_t Micros(const v1::Money& money) { return *MoneyToMicros(money); }

TEST_CASE("Money is formatted with separators and months are UTC calendar months", "[budget]") {
  CHECK(FormatMoney(1'020'000'000, "EUR") == "EUR 1,020.00");
  CHECK(FormatAmount(1'234'567'890'000) == "1,234,567.89");
  CHECK(FormatAmount(5'000) == "0.01");
  const Month month = MonthOf(kDecember11);
  CHECK(month.label == "2026-12");
  CHECK(month.end - month.start == absl::Hours(24 * 31));
  v1::Money bad;
  bad.set_units(1);
  bad.set_nanos(-5);
  CHECK(MoneyToMicros(bad).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Usage is priced at the rate card and recorded once per request id", "[budget]") {
  Harness h;
  absl::StatusOr<v1::RecordUsageResponse> first = h.Use("u1", "fraud", 1'000'000);
  REQUIRE(first.ok());
  CHECK_FALSE(first->duplicate());
  CHECK(Micros(first->cost()) == 10'000'000);  // 1e6 cpu-seconds at EUR 0.00001.
  CHECK(first->cost().currency_code() == "EUR");

  absl::StatusOr<v1::RecordUsageResponse> again = h.Use("u1", "fraud", 1'000'000);
  REQUIRE(again.ok());
  CHECK(again->duplicate());
  CHECK(Micros(again->cost()) == 10'000'000);
  CHECK(Micros(*h.budget->SpentByUseCase("fraud")) == 10'000'000);

  // Attributed to the use case, its squad and the squad's entity.
  CHECK(Micros(h.Line(v1::BUDGET_SCOPE_SQUAD, "risk").spent()) == 10'000'000);
  CHECK(Micros(h.Line(v1::BUDGET_SCOPE_ENTITY, "bank").spent()) == 10'000'000);
  const v1::BudgetLine line = h.Line(v1::BUDGET_SCOPE_USE_CASE, "fraud");
  REQUIRE(line.usage_size() == 1);
  CHECK(line.usage(0).quantity() == 1'000'000);
  CHECK(line.status() == v1::BUDGET_STATUS_NO_BUDGET);
}

TEST_CASE("Usage is checked: request id, items, quantities, use case and squad", "[budget]") {
  Harness h;
  CHECK(h.Use("", "fraud", 1).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(h.Use("u1", "fraud", -1).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(h.Use("u2", "ghost", 1).status().code() == absl::StatusCode::kNotFound);
  v1::RecordUsageRequest no_items;
  no_items.set_request_id("u3");
  no_items.set_use_case_id("fraud");
  CHECK(h.budget->RecordUsage(no_items).status().code() == absl::StatusCode::kInvalidArgument);
  v1::RecordUsageRequest unknown_squad;
  unknown_squad.set_request_id("u4");
  unknown_squad.set_squad("ghost");
  unknown_squad.add_items()->set_kind(v1::USAGE_KIND_PREDICTIONS);
  CHECK(h.budget->RecordUsage(unknown_squad).status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("A new rate card prices what comes after it", "[budget]") {
  Harness h;
  v1::RateCard card;
  card.set_currency_code("EUR");
  v1::Rate* gpu = card.add_rates();
  gpu->set_kind(v1::USAGE_KIND_GPU_SECONDS);
  gpu->mutable_price()->set_units(1);  // EUR 1 a GPU-second.
  REQUIRE(h.budget->SetRateCard(card).ok());
  CHECK(h.budget->GetRateCard().rates_size() == 1);
  CHECK(Micros(h.Use("g1", "fraud", 3, v1::USAGE_KIND_GPU_SECONDS)->cost()) == 3'000'000);
  // Not on the card: free.
  CHECK(Micros(h.Use("c1", "fraud", 1000)->cost()) == 0);

  v1::RateCard twice = card;
  *twice.add_rates() = *gpu;
  CHECK(h.budget->SetRateCard(twice).status().code() == absl::StatusCode::kInvalidArgument);
  v1::RateCard negative = card;
  negative.mutable_rates(0)->mutable_price()->set_units(-1);
  CHECK(h.budget->SetRateCard(negative).status().code() == absl::StatusCode::kInvalidArgument);

  h.SetBudget(v1::BUDGET_SCOPE_SQUAD, "risk", 100);
  v1::RateCard dollars = card;
  dollars.set_currency_code("USD");
  dollars.mutable_rates(0)->mutable_price()->set_currency_code("USD");
  CHECK(h.budget->SetRateCard(dollars).status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("Jobs are metered by difference, idempotently by job id", "[budget]") {
  Harness h;
  v1::Job job;
  job.set_id("j1");
  job.set_squad("risk");
  job.set_use_case_id("fraud");
  job.mutable_usage()->set_cpu_seconds(100'000);  // EUR 1.
  CHECK(Micros(*h.budget->MeterJob(job)) == 1'000'000);
  CHECK(Micros(*h.budget->MeterJob(job)) == 1'000'000);  // Same totals: nothing added.
  job.mutable_usage()->set_cpu_seconds(300'000);
  job.mutable_usage()->set_gpu_seconds(10);  // EUR 0.008.
  CHECK(Micros(*h.budget->MeterJob(job)) == 3'008'000);
  const v1::BudgetLine line = h.Line(v1::BUDGET_SCOPE_SQUAD, "risk");
  CHECK(Micros(line.spent()) == 3'008'000);
  CHECK(line.jobs() == 1);
  CHECK(Micros(*h.budget->SpentByUseCase("fraud")) == 3'008'000);
}

TEST_CASE("Budgets are checked against the directories", "[budget]") {
  Harness h;
  v1::Budget budget;
  budget.set_scope(v1::BUDGET_SCOPE_SQUAD);
  budget.set_id("ghost");
  budget.mutable_monthly()->set_units(10);
  CHECK(h.budget->SetBudget(budget).status().code() == absl::StatusCode::kNotFound);
  budget.set_scope(v1::BUDGET_SCOPE_USE_CASE);
  CHECK(h.budget->SetBudget(budget).status().code() == absl::StatusCode::kNotFound);
  budget.set_id("fraud");
  budget.set_soft_threshold_percent(120);
  CHECK(h.budget->SetBudget(budget).status().code() == absl::StatusCode::kInvalidArgument);
  budget.set_soft_threshold_percent(0);
  budget.mutable_monthly()->set_currency_code("USD");
  CHECK(h.budget->SetBudget(budget).status().code() == absl::StatusCode::kInvalidArgument);
  budget.mutable_monthly()->clear_currency_code();
  absl::StatusOr<v1::Budget> set = h.budget->SetBudget(budget);
  REQUIRE(set.ok());
  CHECK(set->soft_threshold_percent() == 80);
  CHECK(set->hard_threshold_percent() == 100);
  CHECK(set->monthly().currency_code() == "EUR");

  Harness unchecked(false);
  budget.set_scope(v1::BUDGET_SCOPE_SQUAD);
  budget.set_id("anything");
  CHECK(unchecked.budget->SetBudget(budget).ok());
}

TEST_CASE("Soft then hard thresholds; the hard one refuses admissions, saying what to ask",
          "[budget][thresholds]") {
  Harness h;
  h.SetBudget(v1::BUDGET_SCOPE_SQUAD, "risk", 1000);
  REQUIRE(h.Use("u1", "fraud", 70'000'000).ok());  // EUR 700.
  CHECK(h.Line(v1::BUDGET_SCOPE_SQUAD, "risk").status() == v1::BUDGET_STATUS_OK);
  CHECK(h.budget->CheckAdmission("risk", "fraud").ok());

  REQUIRE(h.Use("u2", "fraud", 10'000'000).ok());  // EUR 800: the soft threshold.
  v1::BudgetLine line = h.Line(v1::BUDGET_SCOPE_SQUAD, "risk");
  CHECK(line.status() == v1::BUDGET_STATUS_SOFT_EXCEEDED);
  CHECK(line.spent_percent() == Approx(80));
  CHECK(h.budget->CheckAdmission("risk", "fraud").ok());

  REQUIRE(h.Use("u3", "fraud", 22'000'000).ok());  // EUR 1,020.
  CHECK(h.Line(v1::BUDGET_SCOPE_SQUAD, "risk").status() == v1::BUDGET_STATUS_HARD_EXCEEDED);
  absl::Status refused = h.budget->CheckAdmission("risk", "fraud");
  REQUIRE(refused.code() == absl::StatusCode::kResourceExhausted);
  CHECK(refused.message() ==
        "budget of squad risk for 2026-12 is spent: EUR 1,020.00 of 1,000.00 (hard threshold "
        "100%); ask for a budget overrun: fabrique tower approvals request budget-overrun "
        "--squad risk");
  // Other squads are not held back; the next month starts afresh.
  CHECK(h.budget->CheckAdmission("pricing", "churn").ok());
  h.clock.Set(absl::FromCivil(absl::CivilDay(2027, 1, 1), absl::UTCTimeZone()));
  CHECK(h.budget->CheckAdmission("risk", "fraud").ok());
}

TEST_CASE("Entity and use-case budgets hold admissions too", "[budget][thresholds]") {
  Harness h;
  h.SetBudget(v1::BUDGET_SCOPE_ENTITY, "bank", 10, 50, 90);
  REQUIRE(h.Use("u1", "churn", 900'000).ok());  // EUR 9 in pricing, of the bank.
  absl::Status refused = h.budget->CheckAdmission("risk", "fraud");
  REQUIRE(refused.code() == absl::StatusCode::kResourceExhausted);
  CHECK(refused.message().find("--entity bank") != std::string::npos);
  CHECK(h.budget->CheckAdmission("claims", "triage").ok());

  h.SetBudget(v1::BUDGET_SCOPE_USE_CASE, "triage", 1);
  REQUIRE(h.Use("u2", "triage", 100'000).ok());  // EUR 1.
  CHECK(h.budget->CheckAdmission("claims", "triage").code() ==
        absl::StatusCode::kResourceExhausted);
}

TEST_CASE("An approved overrun lifts the hard threshold until its time or the month's end",
          "[budget][overrun]") {
  Harness h;
  RecordingFollower follower;
  h.budget->set_overrun_follower(&follower);
  h.SetBudget(v1::BUDGET_SCOPE_SQUAD, "risk", 1000);
  REQUIRE(h.Use("u1", "fraud", 102'000'000).ok());
  REQUIRE(h.budget->CheckAdmission("risk", "fraud").code() == absl::StatusCode::kResourceExhausted);

  v1::Approval approval;
  approval.set_id("a1");
  approval.set_kind(v1::APPROVAL_KIND_BUDGET_OVERRUN);
  approval.mutable_budget_overrun()->set_scope(v1::BUDGET_SCOPE_SQUAD);
  approval.mutable_budget_overrun()->set_id("ghost");
  ApprovalHandler* handler = h.budget->overrun_handler();
  CHECK(handler->Validate(approval).code() == absl::StatusCode::kNotFound);
  approval.mutable_budget_overrun()->set_id("risk");
  *approval.mutable_budget_overrun()->mutable_until() = ToProtoTime(kDecember11 - absl::Hours(1));
  CHECK(handler->Validate(approval).code() == absl::StatusCode::kInvalidArgument);
  approval.mutable_budget_overrun()->clear_until();
  REQUIRE(handler->Validate(approval).ok());

  approval.set_state(v1::APPROVAL_STATE_APPROVED);
  *approval.mutable_close_time() = ToProtoTime(kDecember11);
  REQUIRE(handler->Apply(approval).ok());
  REQUIRE(handler->Apply(approval).ok());  // Applied again after a crash: the same lift.
  CHECK(follower.applied == 2);
  CHECK(h.budget->CheckAdmission("risk", "fraud").ok());
  v1::BudgetLine line = h.Line(v1::BUDGET_SCOPE_SQUAD, "risk");
  CHECK(line.status() == v1::BUDGET_STATUS_LIFTED);
  CHECK(line.lifted_by_approval() == "a1");

  // Kept across a restart, and gone with the month.
  h.Open();
  h.budget->set_overrun_follower(&follower);
  CHECK(h.budget->CheckAdmission("risk", "fraud").ok());
  h.clock.Set(absl::FromCivil(absl::CivilSecond(2026, 12, 31, 23, 59, 59), absl::UTCTimeZone()));
  CHECK(h.budget->CheckAdmission("risk", "fraud").ok());
  h.clock.Set(absl::FromCivil(absl::CivilDay(2027, 1, 1), absl::UTCTimeZone()));
  CHECK(h.Line(v1::BUDGET_SCOPE_SQUAD, "risk").status() == v1::BUDGET_STATUS_OK);

  h.budget->overrun_handler()->Closed(approval);
  CHECK(follower.closed == 1);
}

TEST_CASE("The forecast is the spend so far over the elapsed share of the month",
          "[budget][report]") {
  Harness h;
  h.SetBudget(v1::BUDGET_SCOPE_SQUAD, "risk", 1000);
  REQUIRE(h.Use("u1", "fraud", 10'000'000).ok());  // EUR 100 in 10 of 31 days.
  v1::BudgetLine line = h.Line(v1::BUDGET_SCOPE_SQUAD, "risk");
  CHECK(Micros(line.forecast()) == 310'000'000);
  CHECK(Micros(line.budget()) == 1'000'000'000);
  CHECK(line.spent_percent() == Approx(10));

  // A past month's forecast is its spend.
  h.clock.Set(absl::FromCivil(absl::CivilDay(2027, 2, 1), absl::UTCTimeZone()));
  v1::GetBudgetReportRequest december;
  *december.mutable_month() = ToProtoTime(kDecember11);
  absl::StatusOr<v1::BudgetReport> report = h.budget->Report(december);
  REQUIRE(report.ok());
  bool found = false;
  for (const v1::BudgetLine& l : report->lines()) {
    if (l.scope() == v1::BUDGET_SCOPE_SQUAD && l.id() == "risk") {
      CHECK(Micros(l.forecast()) == 100'000'000);
      found = true;
    }
  }
  CHECK(found);
  CHECK(report->month().start_time().seconds() == absl::ToUnixSeconds(MonthOf(kDecember11).start));
}

TEST_CASE("The report lists entities, squads, use cases, filtered", "[budget][report]") {
  Harness h;
  REQUIRE(h.Use("u1", "fraud", 100'000).ok());   // EUR 1: risk, bank.
  REQUIRE(h.Use("u2", "churn", 200'000).ok());   // EUR 2: pricing, bank.
  REQUIRE(h.Use("u3", "triage", 400'000).ok());  // EUR 4: claims, insurance.
  h.SetBudget(v1::BUDGET_SCOPE_ENTITY, "bank", 100);

  v1::GetBudgetReportRequest all;
  absl::StatusOr<v1::BudgetReport> report = h.budget->Report(all);
  REQUIRE(report.ok());
  REQUIRE(report->lines_size() == 8);
  CHECK(report->lines(0).scope() == v1::BUDGET_SCOPE_ENTITY);
  CHECK(report->lines(0).id() == "bank");
  CHECK(report->lines(2).scope() == v1::BUDGET_SCOPE_SQUAD);
  CHECK(report->lines(7).scope() == v1::BUDGET_SCOPE_USE_CASE);
  CHECK(Micros(report->total_spent()) == 7'000'000);
  CHECK(Micros(report->total_budget()) == 100'000'000);
  CHECK(report->currency_code() == "EUR");

  v1::GetBudgetReportRequest bank;
  bank.set_entity("bank");
  CHECK(h.budget->Report(bank)->lines_size() == 5);
  v1::GetBudgetReportRequest risk;
  risk.set_squad("risk");
  absl::StatusOr<v1::BudgetReport> risk_report = h.budget->Report(risk);
  REQUIRE(risk_report->lines_size() == 2);
  CHECK(risk_report->lines(1).id() == "fraud");
  v1::GetBudgetReportRequest triage;
  triage.set_use_case_id("triage");
  REQUIRE(h.budget->Report(triage)->lines_size() == 1);
  CHECK(Micros(h.budget->Report(triage)->lines(0).spent()) == 4'000'000);
}

TEST_CASE("Spend, budgets and the card survive a restart", "[budget][restart]") {
  Harness h;
  h.SetBudget(v1::BUDGET_SCOPE_SQUAD, "risk", 1000);
  REQUIRE(h.Use("u1", "fraud", 1'000'000).ok());
  h.Open();
  CHECK(Micros(h.Line(v1::BUDGET_SCOPE_SQUAD, "risk").spent()) == 10'000'000);
  CHECK(Micros(h.Line(v1::BUDGET_SCOPE_SQUAD, "risk").budget()) == 1'000'000'000);
  CHECK(h.Use("u1", "fraud", 1'000'000)->duplicate());
  CHECK(Micros(*h.budget->SpentByUseCase("fraud")) == 10'000'000);
}

}  // namespace
}  // namespace fabrique::tower
