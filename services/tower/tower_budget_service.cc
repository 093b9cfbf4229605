// The budget's calls over tower::Budget: the access check under the call's rule, one call into
// the core, the status mapped once.

#include <utility>

#include "libs/core/grpc_status.h"
#include "libs/tower/budget/budget.h"
#include "services/answer.h"
#include "services/tower/tower_service.h"

namespace fabrique::services {
namespace {

grpc::Status BudgetNotServed() {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "this tower runs no budget core");
}

}  // namespace

grpc::Status TowerService::RecordUsage(grpc::ServerContext* context,
                                       const v1::RecordUsageRequest* request,
                                       v1::RecordUsageResponse* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "RecordUsage", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.budget == nullptr) return BudgetNotServed();
  return Answer(parts_.budget->RecordUsage(*request), response);
}

grpc::Status TowerService::SetRateCard(grpc::ServerContext* context,
                                       const v1::SetRateCardRequest* request,
                                       v1::RateCard* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "SetRateCard", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.budget == nullptr) return BudgetNotServed();
  return Answer(parts_.budget->SetRateCard(request->rate_card()), response);
}

grpc::Status TowerService::GetRateCard(grpc::ServerContext* context,
                                       const v1::GetRateCardRequest* request,
                                       v1::RateCard* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "GetRateCard", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.budget == nullptr) return BudgetNotServed();
  *response = parts_.budget->GetRateCard();
  return grpc::Status::OK;
}

grpc::Status TowerService::SetBudget(grpc::ServerContext* context,
                                     const v1::SetBudgetRequest* request, v1::Budget* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "SetBudget", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.budget == nullptr) return BudgetNotServed();
  return Answer(parts_.budget->SetBudget(request->budget()), response);
}

grpc::Status TowerService::GetBudgetReport(grpc::ServerContext* context,
                                           const v1::GetBudgetReportRequest* request,
                                           v1::BudgetReport* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "GetBudgetReport", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.budget == nullptr) return BudgetNotServed();
  // Showback is open to whoever may read budgets: every squad sees what the others spend.
  return Answer(parts_.budget->Report(*request), response);
}

}  // namespace fabrique::services
