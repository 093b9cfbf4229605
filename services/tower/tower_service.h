#ifndef FABRIQUE_SERVICES_TOWER_TOWER_SERVICE_H_
#define FABRIQUE_SERVICES_TOWER_TOWER_SERVICE_H_

// The gRPC adapter of `fabrique::v1::Tower`. Each call asks the access guard under its rule in
// libs/auth/tables/tower.cc, calls its core (libs/tower, libs/scheduling), maps the status and
// records metrics. The calls are split by area, one file each:
// - organisation: tower_org_service.cc over libs/tower/org;
// - portfolio and templates: tower_portfolio_service.cc over libs/tower/portfolio;
// - quotas, capacity and jobs: tower_jobs_service.cc over libs/tower/jobs;
// - approvals: tower_approvals_service.cc over libs/tower/approvals;
// - budget: tower_budget_service.cc over libs/tower/budget.
// A call whose core is not wired answers UNIMPLEMENTED (libs/server/not_built_interceptor.h).

#include <utility>

#include "fabrique/v1/tower.grpc.pb.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/sync_stream.h"
#include "libs/server/access.h"

namespace fabrique::tower {
class Organisation;
class Portfolio;
class JobQueue;
class Approvals;
class UseCaseDirectory;
class Budget;
}  // namespace fabrique::tower

namespace fabrique::services {

// The cores the calls serve from. Not owned; each must outlive the service.
struct TowerParts {
  tower::Organisation* organisation = nullptr;
  tower::Portfolio* portfolio = nullptr;
  tower::JobQueue* jobs = nullptr;
  tower::Approvals* approvals = nullptr;
  // Finds a use case's squad, in which its approvals (use case, overrun of its budget) are
  // decided; null = such approvals are platform-wide.
  tower::UseCaseDirectory* approval_use_cases = nullptr;
  tower::Budget* budget = nullptr;
};

class TowerService final : public fabrique::v1::Tower::Service {
 public:
  TowerService(server::ServiceAccess access, TowerParts parts)
      : access_(std::move(access)), parts_(std::move(parts)) {}

  grpc::Status OnboardEntity(grpc::ServerContext* context, const v1::OnboardEntityRequest* request,
                             v1::Approval* response) override;
  grpc::Status GetEntity(grpc::ServerContext* context, const v1::GetOrgEntityRequest* request,
                         v1::OrgEntity* response) override;
  grpc::Status ListEntities(grpc::ServerContext* context, const v1::ListOrgEntitiesRequest* request,
                            v1::ListOrgEntitiesResponse* response) override;
  grpc::Status CreateSquad(grpc::ServerContext* context, const v1::CreateSquadRequest* request,
                           v1::Squad* response) override;
  grpc::Status GetSquad(grpc::ServerContext* context, const v1::GetSquadRequest* request,
                        v1::Squad* response) override;
  grpc::Status UpdateSquad(grpc::ServerContext* context, const v1::UpdateSquadRequest* request,
                           v1::Squad* response) override;
  grpc::Status ListSquads(grpc::ServerContext* context, const v1::ListSquadsRequest* request,
                          v1::ListSquadsResponse* response) override;
  grpc::Status AddSquadMember(grpc::ServerContext* context,
                              const v1::AddSquadMemberRequest* request,
                              v1::Squad* response) override;
  grpc::Status UpdateSquadMember(grpc::ServerContext* context,
                                 const v1::UpdateSquadMemberRequest* request,
                                 v1::Squad* response) override;
  grpc::Status RemoveSquadMember(grpc::ServerContext* context,
                                 const v1::RemoveSquadMemberRequest* request,
                                 v1::Squad* response) override;
  grpc::Status WatchRoleBindings(grpc::ServerContext* context,
                                 const v1::WatchRoleBindingsRequest* request,
                                 grpc::ServerWriter<v1::RoleBindings>* writer) override;

  grpc::Status CreateUseCase(grpc::ServerContext* context, const v1::CreateUseCaseRequest* request,
                             v1::UseCase* response) override;
  grpc::Status UpdateUseCase(grpc::ServerContext* context, const v1::UpdateUseCaseRequest* request,
                             v1::UseCase* response) override;
  grpc::Status GetUseCase(grpc::ServerContext* context, const v1::GetUseCaseRequest* request,
                          v1::UseCase* response) override;
  grpc::Status ListUseCases(grpc::ServerContext* context, const v1::ListUseCasesRequest* request,
                            v1::ListUseCasesResponse* response) override;
  grpc::Status GetPortfolio(grpc::ServerContext* context, const v1::GetPortfolioRequest* request,
                            v1::Portfolio* response) override;
  grpc::Status GetCapacityGaps(grpc::ServerContext* context,
                               const v1::GetCapacityGapsRequest* request,
                               v1::CapacityGaps* response) override;
  grpc::Status PutTemplate(grpc::ServerContext* context, const v1::PutTemplateRequest* request,
                           v1::Template* response) override;
  grpc::Status GetTemplate(grpc::ServerContext* context, const v1::GetTemplateRequest* request,
                           v1::Template* response) override;
  grpc::Status ListTemplates(grpc::ServerContext* context, const v1::ListTemplatesRequest* request,
                             v1::ListTemplatesResponse* response) override;

  grpc::Status SetQuota(grpc::ServerContext* context, const v1::SetQuotaRequest* request,
                        v1::SetQuotaResponse* response) override;
  grpc::Status GetQuota(grpc::ServerContext* context, const v1::GetQuotaRequest* request,
                        v1::Quota* response) override;
  grpc::Status ListQuotas(grpc::ServerContext* context, const v1::ListQuotasRequest* request,
                          v1::ListQuotasResponse* response) override;
  grpc::Status SetCapacity(grpc::ServerContext* context, const v1::SetCapacityRequest* request,
                           v1::Capacity* response) override;
  grpc::Status GetCapacity(grpc::ServerContext* context, const v1::GetCapacityRequest* request,
                           v1::Capacity* response) override;
  grpc::Status SubmitJob(grpc::ServerContext* context, const v1::SubmitJobRequest* request,
                         v1::Job* response) override;
  grpc::Status GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request,
                      v1::Job* response) override;
  grpc::Status ListJobs(grpc::ServerContext* context, const v1::ListJobsRequest* request,
                        v1::ListJobsResponse* response) override;
  grpc::Status CancelJob(grpc::ServerContext* context, const v1::CancelJobRequest* request,
                         v1::Job* response) override;
  grpc::Status WatchJobs(grpc::ServerContext* context, const v1::WatchJobsRequest* request,
                         grpc::ServerWriter<v1::JobEvent>* writer) override;

  grpc::Status RequestApproval(grpc::ServerContext* context,
                               const v1::RequestApprovalRequest* request,
                               v1::Approval* response) override;
  grpc::Status GetApproval(grpc::ServerContext* context, const v1::GetApprovalRequest* request,
                           v1::Approval* response) override;
  grpc::Status ListApprovals(grpc::ServerContext* context, const v1::ListApprovalsRequest* request,
                             v1::ListApprovalsResponse* response) override;
  grpc::Status DecideApproval(grpc::ServerContext* context,
                              const v1::DecideApprovalRequest* request,
                              v1::Approval* response) override;
  grpc::Status WithdrawApproval(grpc::ServerContext* context,
                                const v1::WithdrawApprovalRequest* request,
                                v1::Approval* response) override;
  grpc::Status SetApprovalRule(grpc::ServerContext* context,
                               const v1::SetApprovalRuleRequest* request,
                               v1::ApprovalRule* response) override;
  grpc::Status ListApprovalRules(grpc::ServerContext* context,
                                 const v1::ListApprovalRulesRequest* request,
                                 v1::ListApprovalRulesResponse* response) override;

  grpc::Status RecordUsage(grpc::ServerContext* context, const v1::RecordUsageRequest* request,
                           v1::RecordUsageResponse* response) override;
  grpc::Status SetRateCard(grpc::ServerContext* context, const v1::SetRateCardRequest* request,
                           v1::RateCard* response) override;
  grpc::Status GetRateCard(grpc::ServerContext* context, const v1::GetRateCardRequest* request,
                           v1::RateCard* response) override;
  grpc::Status SetBudget(grpc::ServerContext* context, const v1::SetBudgetRequest* request,
                         v1::Budget* response) override;
  grpc::Status GetBudgetReport(grpc::ServerContext* context,
                               const v1::GetBudgetReportRequest* request,
                               v1::BudgetReport* response) override;

 private:
  server::ServiceAccess access_;
  TowerParts parts_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_TOWER_TOWER_SERVICE_H_
