#ifndef FABRIQUE_LIBS_TOWER_BUDGET_BUDGET_H_
#define FABRIQUE_LIBS_TOWER_BUDGET_BUDGET_H_

// The budget: usage priced by a rate card, monthly budgets per entity, squad and use case with
// soft and hard thresholds, and showback.
//
// - Usage comes from jobs (MeterJob, idempotent by job id: a later call with larger totals adds
//   only the difference) and from services (RecordUsage, idempotent by request id). Each amount
//   is priced at the rate card in force when it is recorded, and attributed then to its use case,
//   its squad and the squad's entity: a squad that later moves to another entity keeps its past
//   spend where it was incurred.
// - A budget's soft threshold (80% unless set) marks its line SOFT_EXCEEDED and raises the
//   fabrique_tower_budget_threshold_exceeded{level="soft"} gauge; its hard threshold (100% unless
//   set) makes CheckAdmission refuse new jobs with RESOURCE_EXHAUSTED, until an approved
//   BUDGET_OVERRUN lifts it (to its `until`, or the month's end).
// - The report's forecast is the spend so far divided by the elapsed share of the month.
//
// Storage (the tower's store, synced before a call answers): kBudgetRatesFamily (the card),
// kBudgetsFamily (scope, id -> Budget), kBudgetSpendFamily ((month, scope, id) -> BudgetLine, and
// month "all" for a use case's spend over every month), kBudgetParentsFamily (use case -> squad,
// squad -> entity, as attributed), kBudgetLiftsFamily (scope, id -> the approval lifting it),
// kBudgetUsageFamily (request id -> its answer), kBudgetJobsFamily (job id -> what was metered).
// A usage's record and every line it adds to are written in one batch. The lines and budgets are
// few (one per scope and month), so they are also held in memory.
//
// Thread-safe. The directories are asked without the core's lock held.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "fabrique/v1/tower.pb.h"
#include "libs/core/clock.h"
#include "libs/kv/store.h"
#include "libs/tower/ports.h"

namespace fabrique::tower {

inline constexpr char kBudgetRatesFamily[] = "budget_rates";
inline constexpr char kBudgetsFamily[] = "budgets";
inline constexpr char kBudgetSpendFamily[] = "budget_spend";
inline constexpr char kBudgetParentsFamily[] = "budget_parents";
inline constexpr char kBudgetLiftsFamily[] = "budget_lifts";
inline constexpr char kBudgetUsageFamily[] = "budget_usage";
inline constexpr char kBudgetJobsFamily[] = "budget_jobs";

class Budget : public BudgetGate {
 public:
  struct Options {
    // The tower's store, opened with the families above. Not owned; required.
    kv::Store* store = nullptr;
    // Months, forecasts and lifts. Not owned; null = the real clock.
    core::Clock* clock = nullptr;
    // Where squads and entities are checked and a squad's entity is found. Not owned; null = no
    // check (a squad's entity is then the one last attributed, or none).
    OrgDirectory* org = nullptr;
    // Where use cases are checked and a use case's squad is found. Not owned; null = no check.
    UseCaseDirectory* use_cases = nullptr;
  };

  static absl::StatusOr<std::unique_ptr<Budget>> Create(Options options);

  // Sets the directories after Create, for a tower whose directories are built after the budget
  // (the portfolio needs the budget's spend, the budget the portfolio's use cases). Call before
  // serving; either may be null (no check).
  void set_directories(OrgDirectory* org, UseCaseDirectory* use_cases) {
    options_.org = org;
    options_.use_cases = use_cases;
  }

  // ---- Rate card ----
  // INVALID_ARGUMENT (ValidateRateCard); FAILED_PRECONDITION when budgets are set in another
  // currency.
  absl::StatusOr<v1::RateCard> SetRateCard(v1::RateCard card);
  v1::RateCard GetRateCard() const;

  // ---- Usage ----
  // Prices and records usage; INVALID_ARGUMENT without request_id or items, or for a negative
  // quantity; NOT_FOUND for an unknown use case or squad. A request id seen before answers its
  // first cost with duplicate=true and adds nothing.
  absl::StatusOr<v1::RecordUsageResponse> RecordUsage(const v1::RecordUsageRequest& request);

  // ---- Budgets ----
  // Sets the monthly budget of an entity, squad or use case: NOT_FOUND for an unknown one,
  // INVALID_ARGUMENT for a bad amount, currency or thresholds. Returns it with defaults filled.
  absl::StatusOr<v1::Budget> SetBudget(v1::Budget budget);

  // Spend against budget in the month of `request.month` (unset = now), lines by entity, then
  // squad, then use case, filtered by entity, squad or use case.
  absl::StatusOr<v1::BudgetReport> Report(const v1::GetBudgetReportRequest& request);

  // ---- BudgetGate ----
  absl::Status CheckAdmission(absl::string_view squad, absl::string_view use_case_id) override;
  absl::StatusOr<v1::Money> MeterJob(const v1::Job& job) override;
  absl::StatusOr<v1::Money> SpentByUseCase(absl::string_view use_case_id) override;

  // ---- Budget overruns ----
  // The handler of BUDGET_OVERRUN approvals, to register with the approvals core: Validate checks
  // the scope and id, Apply lifts the hard threshold.
  ApprovalHandler* overrun_handler() { return &overrun_handler_; }
  // Told after a lift is applied, and when an overrun closes unapplied (the job queue fails or
  // releases the job waiting for it). Not owned; may be null. Set before serving.
  void set_overrun_follower(ApprovalHandler* follower) { overrun_handler_.follower = follower; }

 private:
  using ScopeKey = std::pair<int, std::string>;               // (scope, id)
  using LineKey = std::tuple<std::string, int, std::string>;  // (month, scope, id)

  // Where an amount goes: a use case (may be ""), its squad, the squad's entity (may be "").
  struct Attribution {
    std::string entity;
    std::string squad;
    std::string use_case;
  };

  class OverrunHandler : public ApprovalHandler {
   public:
    explicit OverrunHandler(Budget* budget) : budget_(budget) {}
    absl::Status Validate(const v1::Approval& draft) override;
    absl::Status Apply(const v1::Approval& approved) override;
    void Closed(const v1::Approval& closed) override;
    ApprovalHandler* follower = nullptr;

   private:
    Budget* budget_;
  };

  Budget(Options options);
  absl::Status Load();
  absl::StatusOr<Attribution> Attribute(absl::string_view squad, absl::string_view use_case);
  absl::Status CheckScopeExists(v1::BudgetScope scope, const std::string& id);
  // Adds an amount to every line of `who` in `month` (and the use case's all-time line) in one
  // synced batch with `extra` (the usage's own record).
  absl::Status Add(const std::string& month, const Attribution& who,
                   const google::protobuf::RepeatedPtrField<v1::UsageItem>& items,
                   int64_t cost_micros, int64_t jobs, kv::WriteBatch extra)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t SpentMicros(const std::string& month, int scope, const std::string& id) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The line of (scope, id) in `month`, with its budget, status and forecast.
  v1::BudgetLine LineOf(const std::string& month, double elapsed_share, int scope,
                        const std::string& id, absl::Time now) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The approval lifting (scope, id)'s hard threshold at `now`, or null.
  const v1::Approval* LiftOf(int scope, const std::string& id, absl::Time now) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  std::string ParentOf(int scope, const std::string& id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  std::string currency() const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  struct Families {
    kv::ColumnFamily rates, budgets, spend, parents, lifts, usage, jobs;
  };

  Options options_;
  Families families_;
  OverrunHandler overrun_handler_{this};

  mutable absl::Mutex mu_;
  v1::RateCard rate_card_ ABSL_GUARDED_BY(mu_);
  std::map<ScopeKey, v1::Budget> budgets_ ABSL_GUARDED_BY(mu_);
  std::map<LineKey, v1::BudgetLine> lines_ ABSL_GUARDED_BY(mu_);
  std::map<ScopeKey, std::string> parents_ ABSL_GUARDED_BY(mu_);
  std::map<ScopeKey, v1::Approval> lifts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_BUDGET_BUDGET_H_
