// The portfolio as the USE_CASE approvals' handler: the move to APPROVED happens here, once
// demand management approved it.

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/log.h"
#include "libs/core/status_macros.h"
#include "libs/tower/portfolio/funnel.h"
#include "libs/tower/portfolio/portfolio.h"
#include "libs/tower/portfolio/proto_time.h"

namespace fabrique::tower {
namespace {

// The use case an approval is about: its payload's, else its subject.
std::string UseCaseIdOf(const v1::Approval& approval) {
  if (approval.has_use_case() && !approval.use_case().use_case_id().empty()) {
    return approval.use_case().use_case_id();
  }
  return approval.subject_id();
}

// Who approved: the last approving decision's author, else the requester.
v1::Principal ApprovedBy(const v1::Approval& approved) {
  for (auto it = approved.decisions().rbegin(); it != approved.decisions().rend(); ++it) {
    if (it->approve()) return it->by();
  }
  return approved.requested_by();
}

}  // namespace

absl::Status Portfolio::Validate(const v1::Approval& draft) {
  if (!draft.has_use_case() || draft.use_case().to() != v1::USE_CASE_STATUS_APPROVED) {
    return absl::InvalidArgumentError(
        "a USE_CASE approval carries use_case {use_case_id, to: APPROVED}");
  }
  ASSIGN_OR_RETURN(v1::UseCase use_case, storage_->GetUseCase(UseCaseIdOf(draft)));
  if (use_case.status() != v1::USE_CASE_STATUS_QUALIFIED) {
    return absl::FailedPreconditionError(
        absl::StrCat("use case '", use_case.id(), "' is ", StatusName(use_case.status()),
                     "; only a QUALIFIED use case can be approved"));
  }
  return absl::OkStatus();
}

absl::Status Portfolio::Apply(const v1::Approval& approved) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(v1::UseCase use_case, storage_->GetUseCase(UseCaseIdOf(approved)));
  for (const v1::StatusChange& change : use_case.history()) {
    if (change.approval_id() == approved.id()) return absl::OkStatus();  // Applied already.
  }
  if (use_case.status() != v1::USE_CASE_STATUS_QUALIFIED) {
    return absl::FailedPreconditionError(
        absl::StrCat("use case '", use_case.id(), "' is ", StatusName(use_case.status()),
                     " now, no longer QUALIFIED; it was not moved to APPROVED"));
  }
  v1::StatusChange* change = use_case.add_history();
  change->set_from(use_case.status());
  change->set_to(v1::USE_CASE_STATUS_APPROVED);
  *change->mutable_time() = ToProtoTime(clock_->Now());
  *change->mutable_by() = ApprovedBy(approved);
  change->set_approval_id(approved.id());
  use_case.set_status(v1::USE_CASE_STATUS_APPROVED);
  if (use_case.pending_approval_id() == approved.id()) use_case.clear_pending_approval_id();
  return CommitLocked(use_case, "");
}

void Portfolio::Closed(const v1::Approval& closed) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<v1::UseCase> use_case = storage_->GetUseCase(UseCaseIdOf(closed));
  if (!use_case.ok() || use_case->pending_approval_id() != closed.id()) return;
  use_case->clear_pending_approval_id();
  if (absl::Status written = CommitLocked(*use_case, ""); !written.ok()) {
    core::Log(
        core::LogLevel::kWarning, "use_case_approval_not_cleared",
        {{"use_case", use_case->id()}, {"approval", closed.id()}, {"error", written.ToString()}});
  }
}

}  // namespace fabrique::tower
