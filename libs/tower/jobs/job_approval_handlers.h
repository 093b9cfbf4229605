#ifndef FABRIQUE_LIBS_TOWER_JOBS_JOB_APPROVAL_HANDLERS_H_
#define FABRIQUE_LIBS_TOWER_JOBS_JOB_APPROVAL_HANDLERS_H_

// The job queue's part in approvals, registered with the approvals core by main.cc:
// - QuotaIncreaseHandler applies an approved QUOTA_INCREASE (a quota past the capacity);
// - JobBudgetOverrunHandler, for BUDGET_OVERRUN, first lets the budget's own handler lift the
//   threshold, then queues the job that waited for it, or fails that job with the approval's
//   close_reason when it is rejected, expires or is withdrawn.

#include "absl/status/status.h"
#include "fabrique/v1/tower.pb.h"
#include "libs/tower/jobs/job_queue.h"
#include "libs/tower/ports.h"

namespace fabrique::tower {

class QuotaIncreaseHandler : public ApprovalHandler {
 public:
  // `org` may be null (squads are then not checked); both must outlive this.
  QuotaIncreaseHandler(JobQueue* jobs, OrgDirectory* org) : jobs_(jobs), org_(org) {}

  absl::Status Validate(const v1::Approval& draft) override;
  absl::Status Apply(const v1::Approval& approved) override;
  void Closed(const v1::Approval&) override {}

 private:
  JobQueue* jobs_;
  OrgDirectory* org_;
};

class JobBudgetOverrunHandler : public ApprovalHandler {
 public:
  // `budget_handler` is the budget's own BUDGET_OVERRUN handler, asked first; null = none.
  JobBudgetOverrunHandler(JobQueue* jobs, ApprovalHandler* budget_handler)
      : jobs_(jobs), budget_handler_(budget_handler) {}

  absl::Status Validate(const v1::Approval& draft) override;
  absl::Status Apply(const v1::Approval& approved) override;
  void Closed(const v1::Approval& closed) override;

 private:
  JobQueue* jobs_;
  ApprovalHandler* budget_handler_;
};

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_JOBS_JOB_APPROVAL_HANDLERS_H_
