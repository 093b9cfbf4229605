// The approvals' calls over tower::Approvals: the access check under the call's rule, the squad
// an approval is decided in, the roles its decider holds there, one call into the core.

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/auth/policy.h"
#include "libs/core/grpc_status.h"
#include "libs/tower/approvals/approvals.h"
#include "libs/tower/ports.h"
#include "services/answer.h"
#include "services/tower/tower_service.h"

namespace fabrique::services {
namespace {

grpc::Status ApprovalsNotServed() {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "this tower runs no approvals core");
}

// The squad of use case `id`, or "" (platform-wide) when use cases are not known here.
absl::StatusOr<std::string> SquadOfUseCase(tower::UseCaseDirectory* use_cases,
                                           const std::string& id) {
  if (use_cases == nullptr) return std::string();
  absl::StatusOr<v1::UseCase> use_case = use_cases->GetUseCase(id);
  if (!use_case.ok()) return use_case.status();
  return use_case->squad();
}

// The squad an approval is decided in: the squad its payload is about; "" = platform-wide
// (entities, and everything that is not one squad's).
absl::StatusOr<std::string> SquadOf(const v1::Approval& draft, tower::UseCaseDirectory* use_cases) {
  switch (draft.payload_case()) {
    case v1::Approval::kQuotaIncrease:
      return draft.quota_increase().quota().squad().empty()
                 ? draft.subject_id()
                 : draft.quota_increase().quota().squad();
    case v1::Approval::kUseCase:
      return SquadOfUseCase(use_cases, draft.use_case().use_case_id().empty()
                                           ? draft.subject_id()
                                           : draft.use_case().use_case_id());
    case v1::Approval::kBudgetOverrun:
      switch (draft.budget_overrun().scope()) {
        case v1::BUDGET_SCOPE_SQUAD:
          return draft.budget_overrun().id();
        case v1::BUDGET_SCOPE_USE_CASE:
          return SquadOfUseCase(use_cases, draft.budget_overrun().id());
        default:
          return std::string();
      }
    default:
      return std::string();
  }
}

v1::Approval DraftOf(const v1::RequestApprovalRequest& request) {
  v1::Approval draft;
  draft.set_kind(request.kind());
  draft.set_subject_id(request.subject_id());
  draft.set_summary(request.summary());
  switch (request.payload_case()) {
    case v1::RequestApprovalRequest::kUseCase:
      *draft.mutable_use_case() = request.use_case();
      break;
    case v1::RequestApprovalRequest::kQuotaIncrease:
      *draft.mutable_quota_increase() = request.quota_increase();
      break;
    case v1::RequestApprovalRequest::kBudgetOverrun:
      *draft.mutable_budget_overrun() = request.budget_overrun();
      break;
    case v1::RequestApprovalRequest::kEntityOnboarding:
      *draft.mutable_entity_onboarding() = request.entity_onboarding();
      break;
    default:
      break;
  }
  if (draft.subject_id().empty()) {
    if (draft.has_quota_increase()) draft.set_subject_id(draft.quota_increase().quota().squad());
    if (draft.has_use_case()) draft.set_subject_id(draft.use_case().use_case_id());
    if (draft.has_budget_overrun()) draft.set_subject_id(draft.budget_overrun().id());
    if (draft.has_entity_onboarding()) {
      draft.set_subject_id(draft.entity_onboarding().entity().id());
    }
  }
  return draft;
}

// The decider of `approval` with the roles they hold where it is decided. The guard found the
// roles held in the approval's squad; a platform-wide approval is decided with the roles held in
// every squad. Without identity (--insecure) anyone holds every role.
v1::Principal DeciderOf(const server::Caller& caller, const v1::Approval& approval,
                        const server::Access& guard) {
  v1::Principal decider = caller.principal;
  if (guard.insecure()) {
    decider.add_roles(approval.required_role());
    return decider;
  }
  if (!approval.squad().empty()) return decider;
  decider.clear_roles();
  std::shared_ptr<const auth::Policy> policy = guard.policy();
  if (policy == nullptr) return decider;
  auth::Subject subject;
  subject.name = absl::StartsWith(decider.subject(), "service:")
                     ? decider.subject()
                     : absl::StrCat("user:", decider.subject());
  subject.groups.assign(decider.groups().begin(), decider.groups().end());
  for (std::string& role : policy->RolesIn(subject, "*")) decider.add_roles(std::move(role));
  return decider;
}

}  // namespace

grpc::Status TowerService::RequestApproval(grpc::ServerContext* context,
                                           const v1::RequestApprovalRequest* request,
                                           v1::Approval* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "RequestApproval", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.approvals == nullptr) return ApprovalsNotServed();
  v1::Approval draft = DraftOf(*request);
  absl::StatusOr<std::string> squad = SquadOf(draft, parts_.approval_use_cases);
  if (!squad.ok()) return core::ToGrpcStatus(squad.status());
  if (!squad->empty() && !caller->Sees(*squad)) {
    return core::ToGrpcStatus(absl::PermissionDeniedError(
        absl::StrCat(caller->principal.subject(), " lacks approvals.request in squad ", *squad,
                     ", which the approval is about")));
  }
  draft.set_squad(*squad);
  return Answer(parts_.approvals->Open(std::move(draft), caller->principal, request->request_id()),
                response);
}

grpc::Status TowerService::GetApproval(grpc::ServerContext* context,
                                       const v1::GetApprovalRequest* request,
                                       v1::Approval* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "GetApproval", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.approvals == nullptr) return ApprovalsNotServed();
  return Answer(parts_.approvals->Get(request->id()), response);
}

grpc::Status TowerService::ListApprovals(grpc::ServerContext* context,
                                         const v1::ListApprovalsRequest* request,
                                         v1::ListApprovalsResponse* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "ListApprovals", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.approvals == nullptr) return ApprovalsNotServed();
  tower::ApprovalFilter filter;
  filter.state = request->state();
  filter.kind = request->kind();
  filter.required_role = request->required_role();
  filter.squad = request->squad();
  absl::StatusOr<tower::ApprovalPage> page =
      parts_.approvals->List(filter, request->page_size(), request->page_token());
  if (!page.ok()) return core::ToGrpcStatus(page.status());
  for (v1::Approval& approval : page->approvals) {
    // Platform-wide approvals (onboarding) are shown to everyone who may read approvals, so
    // that holders of the role in any squad find what waits for them.
    if (approval.squad().empty() || caller->Sees(approval.squad())) {
      *response->add_approvals() = std::move(approval);
    }
  }
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status TowerService::DecideApproval(grpc::ServerContext* context,
                                          const v1::DecideApprovalRequest* request,
                                          v1::Approval* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "DecideApproval", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.approvals == nullptr) return ApprovalsNotServed();
  absl::StatusOr<v1::Approval> approval = parts_.approvals->Get(request->id());
  if (!approval.ok()) return core::ToGrpcStatus(approval.status());
  const v1::Principal decider = DeciderOf(*caller, *approval, access_.guard());
  return Answer(
      parts_.approvals->Decide(request->id(), request->approve(), request->comment(), decider),
      response);
}

grpc::Status TowerService::WithdrawApproval(grpc::ServerContext* context,
                                            const v1::WithdrawApprovalRequest* request,
                                            v1::Approval* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "WithdrawApproval", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.approvals == nullptr) return ApprovalsNotServed();
  return Answer(parts_.approvals->Withdraw(request->id(), request->comment(), caller->principal),
                response);
}

grpc::Status TowerService::SetApprovalRule(grpc::ServerContext* context,
                                           const v1::SetApprovalRuleRequest* request,
                                           v1::ApprovalRule* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "SetApprovalRule", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.approvals == nullptr) return ApprovalsNotServed();
  return Answer(parts_.approvals->SetRule(request->rule()), response);
}

grpc::Status TowerService::ListApprovalRules(grpc::ServerContext* context,
                                             const v1::ListApprovalRulesRequest* request,
                                             v1::ListApprovalRulesResponse* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "ListApprovalRules", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.approvals == nullptr) return ApprovalsNotServed();
  for (v1::ApprovalRule& rule : parts_.approvals->ListRules()) {
    *response->add_rules() = std::move(rule);
  }
  return grpc::Status::OK;
}

}  // namespace fabrique::services
