// fabrique.v1.Tower. Squads, quotas, jobs and usage name their squad; use cases, jobs and
// approvals are checked in their owner's squad. Creating squads and setting quotas allocate the
// company's compute, so they are platform-wide. Who may decide an approval is also its
// required_role's business, which the tower checks.

#include "libs/auth/method_table.h"
#include "libs/auth/tables/rules.h"

namespace fabrique::auth {

const MethodTable& TowerMethods() {
  using namespace tables;  // NOLINT(build/namespaces): the table reads as a list.
  static const auto* const table = new MethodTable{
      {"CreateSquad", Platform("squads.write")},
      {"GetSquad", InSquadOf("squads.read", "id")},
      {"UpdateSquad", InSquadOf("squads.write", "squad.id")},
      {"ListSquads", InAnySquad("squads.read")},
      {"CreateUseCase", InSquadOf("usecases.write", "use_case.owner_squad")},
      {"UpdateUseCase", OwnerOf("usecases.write", kUseCase, "use_case.id")},
      {"GetUseCase", OwnerOf("usecases.read", kUseCase, "id")},
      {"ListUseCases", InAnySquad("usecases.read")},
      {"GetPortfolio", InAnySquad("usecases.read")},
      {"SetQuota", Platform("quotas.write")},
      {"GetQuota", InSquadOf("squads.read", "squad")},
      {"SubmitJob", InSquadOf("jobs.submit", "squad")},
      {"GetJob", OwnerOf("jobs.read", kJob, "id")},
      {"ListJobs", InAnySquad("jobs.read")},
      {"CancelJob", OwnerOf("jobs.cancel", kJob, "id")},
      {"WatchJobs", InAnySquad("jobs.read")},
      // What an approval is about (a use case, a squad, a job) is known to the tower only.
      {"RequestApproval", InAnySquad("approvals.request")},
      {"GetApproval", OwnerOf("approvals.read", kApproval, "id")},
      {"ListApprovals", InAnySquad("approvals.read")},
      {"DecideApproval", OwnerOf("approvals.decide", kApproval, "id")},
      {"RecordUsage", InSquadOf("usage.record", "squad")},
      {"GetBudgetReport", InAnySquad("budget.read")},
  };
  return *table;
}

}  // namespace fabrique::auth
