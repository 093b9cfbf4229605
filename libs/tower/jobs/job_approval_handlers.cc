#include "libs/tower/jobs/job_approval_handlers.h"

#include "libs/core/status_macros.h"
#include "libs/tower/jobs/job_requests.h"

namespace fabrique::tower {

absl::Status QuotaIncreaseHandler::Validate(const v1::Approval& draft) {
  if (!draft.has_quota_increase()) {
    return absl::InvalidArgumentError("a quota increase approval carries quota_increase.quota");
  }
  v1::Quota quota = draft.quota_increase().quota();
  RETURN_IF_ERROR(NormaliseQuota(quota));
  if (org_ != nullptr) RETURN_IF_ERROR(org_->GetSquad(quota.squad()).status());
  return absl::OkStatus();
}

absl::Status QuotaIncreaseHandler::Apply(const v1::Approval& approved) {
  RETURN_IF_ERROR(Validate(approved));
  return jobs_->ApplyQuota(approved.quota_increase().quota()).status();
}

absl::Status JobBudgetOverrunHandler::Validate(const v1::Approval& draft) {
  if (budget_handler_ != nullptr) return budget_handler_->Validate(draft);
  return absl::OkStatus();
}

absl::Status JobBudgetOverrunHandler::Apply(const v1::Approval& approved) {
  if (budget_handler_ != nullptr) RETURN_IF_ERROR(budget_handler_->Apply(approved));
  return jobs_->ApprovalApproved(approved);
}

void JobBudgetOverrunHandler::Closed(const v1::Approval& closed) {
  if (budget_handler_ != nullptr) budget_handler_->Closed(closed);
  jobs_->ApprovalClosed(closed);
}

}  // namespace fabrique::tower
