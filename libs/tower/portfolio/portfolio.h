#ifndef FABRIQUE_LIBS_TOWER_PORTFOLIO_PORTFOLIO_H_
#define FABRIQUE_LIBS_TOWER_PORTFOLIO_PORTFOLIO_H_

// Demand management: the use cases of the factory, their funnel, their value (WSJF and ROI),
// the skills they need against the people their squads have, and the design authority's
// templates they start from.
//
//   ASSIGN_OR_RETURN(auto portfolio, Portfolio::Create({.store = store, .clock = clock,
//                                                        .org = org, .approvals = approvals}));
//   approvals->RegisterHandler(v1::APPROVAL_KIND_USE_CASE, portfolio.get());
//   ASSIGN_OR_RETURN(v1::UseCase created, portfolio->CreateUseCase(draft, "tabular", caller));
//
// The funnel's rules are in funnel.h, the scores in value_scores.h, skills in skills_coverage.h.
// Moving a use case to APPROVED opens a USE_CASE approval and records it as pending; the move
// itself is made by Apply (this class is the USE_CASE ApprovalHandler) when it is approved, and
// a rejected, expired or withdrawn approval clears the pending one.
//
// Thread-safe. Writes are read-check-write under one lock, with etags for callers; the lock is
// never held while calling the approvals core, which calls back into Validate and Apply.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "fabrique/v1/tower.pb.h"
#include "google/protobuf/field_mask.pb.h"
#include "libs/core/clock.h"
#include "libs/core/ids.h"
#include "libs/kv/store.h"
#include "libs/tower/portfolio/portfolio_storage.h"
#include "libs/tower/ports.h"

namespace fabrique::tower {

struct PortfolioOptions {
  // The tower's store, opened with PortfolioFamilies(). Not owned; required.
  kv::Store* store = nullptr;
  // Stamps histories, update times and lead times. Not owned; nullptr = the real clock.
  core::Clock* clock = nullptr;
  // Squads (their entity and members). Not owned; nullptr = squads are not checked, use cases
  // have no entity and no members cover their skills.
  OrgDirectory* org = nullptr;
  // Opens USE_CASE approvals. Not owned; nullptr = no use case can be moved to APPROVED
  // (FAILED_PRECONDITION).
  ApprovalOpener* approvals = nullptr;
  // What use cases have spent (ROI, compute spent). Not owned; nullptr = nothing spent yet.
  BudgetGate* budget = nullptr;
  // A use case's models and their production versions. Not owned; nullptr = the models the use
  // case lists, none known in production.
  RegistryPort* registry = nullptr;
};

// Which use cases a list or the portfolio shows. Empty fields match everything.
struct UseCaseFilter {
  std::string entity;
  std::string squad;
  std::vector<v1::UseCaseStatus> statuses;
  // Whether the caller may see use cases of a squad; unset = every squad.
  std::function<bool(absl::string_view squad)> visible;
};

struct UseCasePage {
  std::vector<v1::UseCase> use_cases;
  std::string next_page_token;  // "" on the last page.
};

class Portfolio : public UseCaseDirectory, public ApprovalHandler {
 public:
  using Options = PortfolioOptions;

  // INVALID_ARGUMENT without a store; NOT_FOUND when it lacks the portfolio's families.
  static absl::StatusOr<std::unique_ptr<Portfolio>> Create(Options options);

  // ---- Use cases ----

  // Creates `draft` in IDEA, its entity taken from its squad. With `template_name` (or the
  // draft's `template`), the template's skills and retraining policy fill what the draft leaves
  // unset. INVALID_ARGUMENT for a bad field, ALREADY_EXISTS for a taken id, NOT_FOUND for an
  // unknown squad or template.
  absl::StatusOr<v1::UseCase> CreateUseCase(v1::UseCase draft, absl::string_view template_name,
                                            const v1::Principal& by);
  // Changes the fields `mask` names (see UpdateUseCaseRequest) to those of `update`, whose id
  // names the use case and whose etag, when set, must be current (ABORTED otherwise). A status
  // change follows the funnel (FAILED_PRECONDITION otherwise, or while an approval is pending);
  // to APPROVED it opens the approval and leaves the status as it is.
  absl::StatusOr<v1::UseCase> UpdateUseCase(const v1::UseCase& update,
                                            const google::protobuf::FieldMask& mask,
                                            const v1::Principal& by);
  // The use case with its WSJF and ROI, or NOT_FOUND.
  absl::StatusOr<v1::UseCase> GetUseCase(absl::string_view id) override;
  // Use cases by id, filtered; `page_token` from the previous page.
  absl::StatusOr<UseCasePage> ListUseCases(const UseCaseFilter& filter, int32_t page_size,
                                           absl::string_view page_token);

  // ---- The portfolio ----

  // The filtered use cases ranked by WSJF (then ROI, then id), one page of them with their
  // models, spend and skills coverage; the funnel's counts and median lead times over the
  // entity and squad filters (not the status filter, so every stage shows).
  absl::StatusOr<v1::Portfolio> GetPortfolio(const UseCaseFilter& filter, int32_t page_size,
                                             absl::string_view page_token);
  // Skills short and people over-allocated across the factory, or one entity ("" = all).
  // FAILED_PRECONDITION when the organisation is not known here.
  absl::StatusOr<v1::CapacityGaps> GetCapacityGaps(absl::string_view entity);

  // ---- Templates ----

  // Validates and stores `template_` in place of any of the same name, stamped with `by`.
  absl::StatusOr<v1::Template> PutTemplate(v1::Template template_, const v1::Principal& by);
  // The template, or NOT_FOUND.
  absl::StatusOr<v1::Template> GetTemplate(absl::string_view name);
  // Every template, by name.
  absl::StatusOr<std::vector<v1::Template>> ListTemplates();

  // ---- The USE_CASE approvals' handler ----

  // The use case exists and is QUALIFIED, and the approval moves it to APPROVED.
  absl::Status Validate(const v1::Approval& draft) override;
  // Moves the use case to APPROVED with the approval's id in its history; a second call for the
  // same approval changes nothing.
  absl::Status Apply(const v1::Approval& approved) override;
  // Clears the use case's pending approval when it is this one.
  void Closed(const v1::Approval& closed) override;

 private:
  Portfolio(Options options, std::unique_ptr<PortfolioStorage> storage);

  // Sets the computed fields: WSJF, and ROI against what the use case has spent.
  absl::Status Score(v1::UseCase& use_case);
  // What a use case has spent so far, in micros (0 when nothing is known).
  absl::StatusOr<int64_t> SpentMicros(absl::string_view id);
  // The squad, or NOT_FOUND; an empty squad (entity "") when the organisation is not known here.
  absl::StatusOr<v1::Squad> SquadOf(absl::string_view id);
  // Whether `use_case` passes the filter's entity, squad and visibility (not its statuses).
  static bool InScope(const UseCaseFilter& filter, const v1::UseCase& use_case);
  // The status part of an update: the move, or the approval it opens.
  absl::Status MoveStatus(const v1::UseCase& current, v1::UseCaseStatus to, const v1::Principal& by,
                          v1::UseCase& next);
  // Stamps update_time and a new etag, and stores `use_case` if the stored one still has
  // `expected_etag` (ABORTED otherwise).
  absl::Status Commit(v1::UseCase& use_case, absl::string_view expected_etag)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status CommitLocked(v1::UseCase& use_case, absl::string_view expected_etag)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // One page entry with its models, spend and skills.
  absl::StatusOr<v1::PortfolioEntry> EntryOf(
      const v1::UseCase& use_case, int32_t rank, int64_t spent_micros,
      absl::flat_hash_map<std::string, std::unique_ptr<v1::Squad>>& squads);

  const Options options_;
  core::Clock* const clock_;
  std::unique_ptr<PortfolioStorage> storage_;
  core::IdGenerator etags_;
  // Serialises the read-check-write of use cases.
  absl::Mutex mu_;
};

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_PORTFOLIO_PORTFOLIO_H_
