// fabrique.v1.Tower. Squads, quotas and jobs name their squad; use cases, jobs, usage and
// approvals are checked in their owner's squad (an approval with no squad, such as an entity's
// onboarding, in every squad). Entities, squads, quotas, capacity, templates, rates and budgets
// allocate the company's people, compute and money, so setting them is platform-wide.

#include "libs/auth/method_table.h"
#include "libs/auth/tables/rules.h"

namespace fabrique::auth {

const MethodTable& TowerMethods() {
  using namespace tables;  // NOLINT(build/namespaces): the table reads as a list.
  static const auto* const table = new MethodTable{
      // Organisation. Onboarding an entity and creating squads allocate the company's people and
      // compute, so they are platform-wide; members are the squad's own business.
      {"OnboardEntity", Platform("entities.write")},
      {"GetEntity", InAnySquad("squads.read")},
      {"ListEntities", InAnySquad("squads.read")},
      {"CreateSquad", Platform("squads.write")},
      {"GetSquad", InSquadOf("squads.read", "id")},
      {"UpdateSquad", InSquadOf("squads.write", "squad.id")},
      {"ListSquads", InAnySquad("squads.read")},
      {"AddSquadMember", InSquadOf("squads.members.write", "squad")},
      {"UpdateSquadMember", InSquadOf("squads.members.write", "squad")},
      {"RemoveSquadMember", InSquadOf("squads.members.write", "squad")},
      {"WatchRoleBindings", Platform("bindings.read")},
      // Portfolio.
      {"CreateUseCase", InSquadOf("usecases.write", "use_case.squad")},
      {"UpdateUseCase", OwnerOf("usecases.write", kUseCase, "use_case.id")},
      {"GetUseCase", OwnerOf("usecases.read", kUseCase, "id")},
      {"ListUseCases", InAnySquad("usecases.read")},
      {"GetPortfolio", InAnySquad("usecases.read")},
      {"GetCapacityGaps", InAnySquad("usecases.read")},
      {"PutTemplate", Platform("templates.write")},
      {"GetTemplate", InAnySquad("usecases.read")},
      {"ListTemplates", InAnySquad("usecases.read")},
      // Quotas and capacity.
      {"SetQuota", Platform("quotas.write")},
      {"GetQuota", InSquadOf("squads.read", "squad")},
      {"ListQuotas", InAnySquad("squads.read")},
      {"SetCapacity", Platform("capacity.write")},
      {"GetCapacity", InAnySquad("squads.read")},
      // Jobs.
      {"SubmitJob", InSquadOf("jobs.submit", "squad")},
      {"GetJob", OwnerOf("jobs.read", kJob, "id")},
      {"ListJobs", InAnySquad("jobs.read")},
      {"CancelJob", OwnerOf("jobs.cancel", kJob, "id")},
      {"WatchJobs", InAnySquad("jobs.read")},
      // Approvals. What an approval is about (a use case, a squad, an entity) is known to the
      // tower only; who may decide is also its required_role's business, which the tower checks.
      {"RequestApproval", InAnySquad("approvals.request")},
      {"GetApproval", OwnerOrPlatform("approvals.read", kApproval, "id")},
      {"ListApprovals", InAnySquad("approvals.read")},
      {"DecideApproval", OwnerOrPlatform("approvals.decide", kApproval, "id")},
      {"WithdrawApproval", OwnerOrPlatform("approvals.request", kApproval, "id")},
      {"SetApprovalRule", Platform("approvals.rules.write")},
      {"ListApprovalRules", InAnySquad("approvals.read")},
      // Budget.
      {"RecordUsage", OwnerOf("usage.record", kUseCase, "use_case_id")},
      {"SetRateCard", Platform("budget.write")},
      {"GetRateCard", InAnySquad("budget.read")},
      {"SetBudget", Platform("budget.write")},
      {"GetBudgetReport", InAnySquad("budget.read")},
  };
  return *table;
}

}  // namespace fabrique::auth
