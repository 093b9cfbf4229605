// The approvals' and budget's calls through the tower's gRPC adapter, with real tokens and the
// default policy: who may request and decide (the role in the approval's squad, or in every squad
// for a platform-wide approval), separation of duties, and the budget's calls end to end with the
// gauges they feed.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/tower.grpc.pb.h"
#include "libs/auth/method_table.h"
#include "libs/client/channel.h"
#include "libs/server/service_host.h"
#include "libs/tower/approvals/approvals.h"
#include "libs/tower/budget/budget.h"
#include "services/tower/tower_ledger_metrics.h"
#include "services/tower/tower_ledger_tick.h"
#include "services/tower/tower_service.h"
#include "tests/util/test_identity.h"
#include "tests/util/test_util.h"

namespace fabrique::services {
namespace {

const std::vector<std::string> kAna = {"risk:data-scientist"};
const std::vector<std::string> kBob = {"risk:data-scientist"};
const std::vector<std::string> kCarl = {"risk:design-authority"};
const std::vector<std::string> kRoot = {};  // Platform-admin by the default policy.

class CountingHandler : public tower::ApprovalHandler {
 public:
  absl::Status Validate(const v1::Approval&) override { return absl::OkStatus(); }
  absl::Status Apply(const v1::Approval&) override {
    ++applied;
    return absl::OkStatus();
  }
  void Closed(const v1::Approval&) override {}
  int applied = 0;
};

fabrique::testing::TestIdentityOptions Identity() {
  fabrique::testing::TestIdentityOptions options;
  options.extra_policy = {"g, user:erin, *:platform-admin"};
  return options;
}

struct TowerAdapter {
  fabrique::testing::TestIdentity identity{Identity()};
  fabrique::testing::TempDir dir;
  core::FakeClock clock{absl::FromCivil(absl::CivilDay(2026, 12, 11), absl::UTCTimeZone())};
  std::unique_ptr<kv::Store> store;
  std::unique_ptr<tower::Approvals> approvals;
  std::unique_ptr<tower::Budget> budget;
  CountingHandler quotas;
  std::unique_ptr<server::ServiceHost> host;
  std::unique_ptr<TowerLedgerMetrics> metrics;
  std::unique_ptr<TowerService> service;
  std::unique_ptr<v1::Tower::Stub> stub;

  TowerAdapter() {
    kv::StoreOptions store_options;
    store_options.path = dir.Sub("kv");
    store_options.column_families = {
        tower::kApprovalsFamily,        tower::kApprovalRequestsFamily, tower::kApprovalRulesFamily,
        tower::kApprovalsToApplyFamily, tower::kBudgetRatesFamily,      tower::kBudgetsFamily,
        tower::kBudgetSpendFamily,      tower::kBudgetParentsFamily,    tower::kBudgetLiftsFamily,
        tower::kBudgetUsageFamily,      tower::kBudgetJobsFamily};
    store = *kv::Store::Open(std::move(store_options));
    approvals = *tower::Approvals::Create({store.get(), &clock});
    tower::Budget::Options budget_options;
    budget_options.store = store.get();
    budget_options.clock = &clock;
    budget = *tower::Budget::Create(budget_options);
    approvals->RegisterHandler(v1::APPROVAL_KIND_QUOTA_INCREASE, &quotas);
    approvals->RegisterHandler(v1::APPROVAL_KIND_BUDGET_OVERRUN, budget->overrun_handler());

    server::ServiceHostOptions host_options;
    host_options.plaintext = true;
    host_options.service_name = "tower";
    host_options.listen_host = "127.0.0.1";
    host_options.metrics_port = -1;
    host = *server::ServiceHost::Create(host_options);
    metrics = std::make_unique<TowerLedgerMetrics>(host->metrics());
    TowerParts parts;
    parts.approvals = approvals.get();
    parts.budget = budget.get();
    // As main.cc: an approval's squad; use cases all belong to risk here.
    auth::OwnerLookup owners = [this](absl::string_view kind,
                                      absl::string_view name) -> absl::StatusOr<std::string> {
      if (kind == auth::kApproval) {
        absl::StatusOr<v1::Approval> approval = approvals->Get(name);
        if (!approval.ok()) return approval.status();
        return approval->squad();
      }
      if (kind == auth::kUseCase) return std::string("risk");
      return absl::NotFoundError(absl::StrCat("no ", kind, " ", name));
    };
    service = std::make_unique<TowerService>(
        server::ServiceAccess(identity.guard(), v1::Tower::service_full_name(), owners), parts);
    host->AddService(service.get(), v1::Tower::service_full_name(), "the tower");
    REQUIRE(host->Start().ok());
    stub =
        v1::Tower::NewStub(client::MakePlaintextChannel(absl::StrCat("127.0.0.1:", host->port())));
  }
  ~TowerAdapter() { host->Shutdown(); }

  grpc::Status Request(const std::vector<std::string>& groups, const std::string& user,
                       const v1::RequestApprovalRequest& request, v1::Approval* out) {
    return stub->RequestApproval(identity.Context(user, groups).get(), request, out);
  }
  grpc::Status Decide(const std::string& user, const std::vector<std::string>& groups,
                      const std::string& id, bool approve, v1::Approval* out) {
    v1::DecideApprovalRequest request;
    request.set_id(id);
    request.set_approve(approve);
    return stub->DecideApproval(identity.Context(user, groups).get(), request, out);
  }
};

v1::RequestApprovalRequest QuotaIncrease(const std::string& squad) {
  v1::RequestApprovalRequest request;
  request.set_kind(v1::APPROVAL_KIND_QUOTA_INCREASE);
  request.set_summary("more GPUs");
  request.mutable_quota_increase()->mutable_quota()->set_squad(squad);
  return request;
}

TEST_CASE("A squad's approval is decided by the role in that squad, not by its requester",
          "[approvals][service]") {
  TowerAdapter t;
  v1::Approval opened;
  REQUIRE(t.Request(kAna, "ana", QuotaIncrease("risk"), &opened).ok());
  CHECK(opened.squad() == "risk");
  CHECK(opened.requested_by().subject() == "ana");
  CHECK(opened.required_role() == "design-authority");

  // Outside her squad: refused.
  v1::Approval other;
  CHECK(t.Request(kAna, "ana", QuotaIncrease("pricing"), &other).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);

  v1::Approval decided;
  // A data scientist may not decide at all (the guard), the requester not her own (the core).
  CHECK(t.Decide("bob", kBob, opened.id(), true, &decided).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status own = t.Decide("ana", {"risk:design-authority"}, opened.id(), true, &decided);
  CHECK(own.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(own.error_message().find("separation of duties") != std::string::npos);
  REQUIRE(t.Decide("carl", kCarl, opened.id(), true, &decided).ok());
  CHECK(decided.state() == v1::APPROVAL_STATE_APPROVED);
  CHECK(t.quotas.applied == 1);
  CHECK(t.Decide("dora", {"risk:design-authority"}, opened.id(), true, &decided).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);

  v1::ListApprovalsRequest list;
  list.set_state(v1::APPROVAL_STATE_APPROVED);
  v1::ListApprovalsResponse listed;
  REQUIRE(t.stub->ListApprovals(t.identity.Context("ana", kAna).get(), list, &listed).ok());
  CHECK(listed.approvals_size() == 1);
  v1::ListApprovalsResponse pricing;
  REQUIRE(t.stub
              ->ListApprovals(t.identity.Context("pia", {"pricing:data-scientist"}).get(), list,
                              &pricing)
              .ok());
  CHECK(pricing.approvals().empty());  // Pricing sees none of risk's.
}

TEST_CASE("A platform-wide overrun is decided with the roles held in every squad",
          "[approvals][budget][service]") {
  TowerAdapter t;
  v1::SetBudgetRequest set;
  set.mutable_budget()->set_scope(v1::BUDGET_SCOPE_ENTITY);
  set.mutable_budget()->set_id("bank");
  set.mutable_budget()->mutable_monthly()->set_units(10);
  v1::Budget budget;
  REQUIRE(t.stub->SetBudget(t.identity.Context("root", kRoot).get(), set, &budget).ok());
  CHECK(t.stub->SetBudget(t.identity.Context("ana", kAna).get(), set, &budget).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  // Usage of the bank's squad risk; the squad's entity is learnt from what it reports.
  REQUIRE(t.budget->SetBudget(budget).ok());

  v1::RequestApprovalRequest overrun;
  overrun.set_kind(v1::APPROVAL_KIND_BUDGET_OVERRUN);
  overrun.mutable_budget_overrun()->set_scope(v1::BUDGET_SCOPE_ENTITY);
  overrun.mutable_budget_overrun()->set_id("bank");
  overrun.set_request_id("r1");
  v1::Approval opened;
  REQUIRE(t.Request(kAna, "ana", overrun, &opened).ok());
  CHECK(opened.squad().empty());
  CHECK(opened.required_role() == "platform-admin");
  v1::Approval again;
  REQUIRE(t.Request(kAna, "ana", overrun, &again).ok());
  CHECK(again.id() == opened.id());

  v1::Approval decided;
  // Design authority of one squad cannot decide what is platform-wide.
  CHECK(t.Decide("carl", kCarl, opened.id(), true, &decided).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  REQUIRE(t.Decide("erin", {}, opened.id(), true, &decided).ok());
  CHECK(decided.state() == v1::APPROVAL_STATE_APPROVED);

  v1::GetBudgetReportRequest report_request;
  v1::BudgetReport report;
  REQUIRE(t.stub->GetBudgetReport(t.identity.Context("root", kRoot).get(), report_request, &report)
              .ok());
  REQUIRE(report.lines_size() == 1);
  CHECK(report.lines(0).status() == v1::BUDGET_STATUS_OK);
  CHECK(report.lines(0).lifted_by_approval() == opened.id());

  // Only the requester withdraws.
  v1::Approval second;
  overrun.set_request_id("r2");
  REQUIRE(t.Request(kAna, "ana", overrun, &second).ok());
  v1::WithdrawApprovalRequest withdraw;
  withdraw.set_id(second.id());
  v1::Approval withdrawn;
  CHECK(t.stub->WithdrawApproval(t.identity.Context("erin", {}).get(), withdraw, &withdrawn)
            .error_code() == grpc::StatusCode::PERMISSION_DENIED);
}

TEST_CASE("Rules are listed to readers and set by the platform only", "[approvals][service]") {
  TowerAdapter t;
  v1::ListApprovalRulesResponse rules;
  REQUIRE(t.stub
              ->ListApprovalRules(t.identity.Context("ana", kAna).get(),
                                  v1::ListApprovalRulesRequest(), &rules)
              .ok());
  CHECK(rules.rules_size() == 4);
  v1::SetApprovalRuleRequest set;
  set.mutable_rule()->set_kind(v1::APPROVAL_KIND_QUOTA_INCREASE);
  set.mutable_rule()->set_required_role("design-authority");
  set.mutable_rule()->set_required_approvals(2);
  v1::ApprovalRule rule;
  CHECK(t.stub->SetApprovalRule(t.identity.Context("ana", kAna).get(), set, &rule).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  REQUIRE(t.stub->SetApprovalRule(t.identity.Context("root", kRoot).get(), set, &rule).ok());
  CHECK(rule.required_approvals() == 2);
  set.mutable_rule()->clear_required_role();
  CHECK(t.stub->SetApprovalRule(t.identity.Context("root", kRoot).get(), set, &rule).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("Usage, rates and thresholds through the calls, and the gauges they feed",
          "[budget][service]") {
  TowerAdapter t;
  v1::GetRateCardRequest get_card;
  v1::RateCard card;
  REQUIRE(t.stub->GetRateCard(t.identity.Context("root", kRoot).get(), get_card, &card).ok());
  CHECK(card.currency_code() == "EUR");
  CHECK(card.rates_size() == 5);

  v1::SetBudgetRequest set;
  set.mutable_budget()->set_scope(v1::BUDGET_SCOPE_SQUAD);
  set.mutable_budget()->set_id("risk");
  set.mutable_budget()->mutable_monthly()->set_units(1000);
  v1::Budget budget;
  REQUIRE(t.stub->SetBudget(t.identity.Context("root", kRoot).get(), set, &budget).ok());

  v1::RecordUsageRequest usage;
  usage.set_use_case_id("fraud");
  usage.set_squad("risk");
  usage.set_request_id("u1");
  v1::UsageItem* item = usage.add_items();
  item->set_kind(v1::USAGE_KIND_CPU_SECONDS);
  item->set_quantity(102'000'000);  // EUR 1,020.
  v1::RecordUsageResponse recorded;
  CHECK(t.stub->RecordUsage(t.identity.Context("ana", kAna).get(), usage, &recorded).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);  // Services record usage.
  REQUIRE(t.stub->RecordUsage(t.identity.Context("root", kRoot).get(), usage, &recorded).ok());
  CHECK(recorded.cost().units() == 1020);
  REQUIRE(t.stub->RecordUsage(t.identity.Context("root", kRoot).get(), usage, &recorded).ok());
  CHECK(recorded.duplicate());

  CHECK(t.budget->CheckAdmission("risk", "fraud").code() == absl::StatusCode::kResourceExhausted);

  TowerLedgerTick::Options tick_options;
  tick_options.approvals = t.approvals.get();
  tick_options.budget = t.budget.get();
  tick_options.metrics = t.metrics.get();
  tick_options.clock = &t.clock;
  TowerLedgerTick tick(tick_options);
  tick.Tick();
  std::string exposition;
  for (const prometheus::MetricFamily& family : t.host->metrics().Collect()) {
    for (const prometheus::ClientMetric& metric : family.metric) {
      std::string labels;
      for (const prometheus::ClientMetric::Label& label : metric.label) {
        absl::StrAppend(&labels, label.name, "=", label.value, ",");
      }
      absl::StrAppend(&exposition, family.name, "{", labels, "} ", metric.gauge.value, "\n");
    }
  }
  CHECK(exposition.find("fabrique_tower_budget_spent{currency=EUR,id=risk,scope=squad,} 1020") !=
        std::string::npos);
  CHECK(exposition.find("fabrique_tower_budget_remaining{currency=EUR,id=risk,scope=squad,} -20") !=
        std::string::npos);
  CHECK(exposition.find(
            "fabrique_tower_budget_threshold_exceeded{id=risk,level=hard,scope=squad,} 1") !=
        std::string::npos);
  CHECK(exposition.find("fabrique_tower_approvals_pending{kind=budget_overrun,} 0") !=
        std::string::npos);
}

}  // namespace
}  // namespace fabrique::services
