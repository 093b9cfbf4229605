#include "libs/tower/portfolio/portfolio.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/field_mask_util.h"
#include "libs/core/status_macros.h"
#include "libs/tower/paging.h"
#include "libs/tower/portfolio/funnel.h"
#include "libs/tower/portfolio/portfolio_paging.h"
#include "libs/tower/portfolio/proto_time.h"
#include "libs/tower/portfolio/use_case_validation.h"
#include "libs/tower/portfolio/value_scores.h"

namespace fabrique::tower {
namespace {

using google::protobuf::util::FieldMaskUtil;

// The fields UpdateUseCase may change (UpdateUseCaseRequest); "status" is handled apart.
const std::set<std::string>& UpdatableFields() {
  static const auto* fields =
      new std::set<std::string>{"name",           "description",    "squad",
                                "sponsor",        "status",         "estimated_annual_value",
                                "estimated_cost", "business_value", "time_criticality",
                                "risk_reduction", "job_size",       "skills_needed",
                                "retraining",     "tags",           "models"};
  return *fields;
}

absl::Status CheckMask(const google::protobuf::FieldMask& mask) {
  if (mask.paths().empty()) {
    return absl::InvalidArgumentError(
        "update_mask names no field; name the fields to change, e.g. status or job_size");
  }
  for (const std::string& path : mask.paths()) {
    if (UpdatableFields().count(path) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "update_mask names '", path,
          "', which cannot be updated; updatable: ", absl::StrJoin(UpdatableFields(), ", ")));
    }
  }
  return absl::OkStatus();
}

bool MaskNames(const google::protobuf::FieldMask& mask, absl::string_view field) {
  return std::find(mask.paths().begin(), mask.paths().end(), field) != mask.paths().end();
}

void AddHistory(v1::UseCase& use_case, v1::UseCaseStatus to, absl::Time time,
                const v1::Principal& by, absl::string_view approval_id) {
  v1::StatusChange* change = use_case.add_history();
  change->set_from(use_case.status());
  change->set_to(to);
  *change->mutable_time() = ToProtoTime(time);
  *change->mutable_by() = by;
  change->set_approval_id(std::string(approval_id));
  use_case.set_status(to);
}

// Clears what a caller may not set: the output-only fields.
void ClearOutputOnly(v1::UseCase& use_case) {
  use_case.clear_entity();
  use_case.clear_wsjf();
  use_case.clear_roi();
  use_case.clear_history();
  use_case.clear_pending_approval_id();
  use_case.clear_create_time();
  use_case.clear_update_time();
  use_case.clear_etag();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Portfolio>> Portfolio::Create(Options options) {
  ASSIGN_OR_RETURN(std::unique_ptr<PortfolioStorage> storage,
                   PortfolioStorage::Open(options.store));
  return std::unique_ptr<Portfolio>(new Portfolio(std::move(options), std::move(storage)));
}

Portfolio::Portfolio(Options options, std::unique_ptr<PortfolioStorage> storage)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : core::Clock::Real()),
      storage_(std::move(storage)),
      etags_(clock_) {}

absl::StatusOr<int64_t> Portfolio::SpentMicros(absl::string_view id) {
  if (options_.budget == nullptr) return 0;
  absl::StatusOr<v1::Money> spent = options_.budget->SpentByUseCase(id);
  if (absl::IsNotFound(spent.status())) return 0;
  if (!spent.ok()) return spent.status();
  return ToMicros(*spent);
}

absl::Status Portfolio::Score(v1::UseCase& use_case) {
  ASSIGN_OR_RETURN(int64_t spent, SpentMicros(use_case.id()));
  use_case.set_wsjf(Wsjf(use_case));
  use_case.set_roi(Roi(use_case, spent));
  return absl::OkStatus();
}

absl::StatusOr<v1::Squad> Portfolio::SquadOf(absl::string_view id) {
  if (options_.org == nullptr) {
    v1::Squad unknown;
    unknown.set_id(std::string(id));
    return unknown;
  }
  return options_.org->GetSquad(id);
}

absl::StatusOr<v1::UseCase> Portfolio::CreateUseCase(v1::UseCase draft,
                                                     absl::string_view template_name,
                                                     const v1::Principal& by) {
  RETURN_IF_ERROR(ValidateName("use_case.id", draft.id()));
  if (draft.status() != v1::USE_CASE_STATUS_UNSPECIFIED &&
      draft.status() != v1::USE_CASE_STATUS_IDEA) {
    return absl::InvalidArgumentError(
        absl::StrCat("a use case starts as IDEA, not ", StatusName(draft.status()),
                     "; create it, then move it through the funnel with UpdateUseCase"));
  }
  ClearOutputOnly(draft);
  if (template_name.empty()) template_name = draft.template_();
  if (!template_name.empty()) {
    ASSIGN_OR_RETURN(v1::Template from, storage_->GetTemplate(template_name));
    if (draft.skills_needed().empty()) *draft.mutable_skills_needed() = from.skills_needed();
    if (!draft.has_retraining()) *draft.mutable_retraining() = from.retraining();
    draft.set_template_(from.name());
  }
  RETURN_IF_ERROR(ValidateUseCase(draft));
  ASSIGN_OR_RETURN(v1::Squad squad, SquadOf(draft.squad()));
  draft.set_entity(squad.entity());
  if (draft.name().empty()) draft.set_name(draft.id());
  const absl::Time now = clock_->Now();
  *draft.mutable_create_time() = ToProtoTime(now);
  draft.set_status(v1::USE_CASE_STATUS_UNSPECIFIED);
  AddHistory(draft, v1::USE_CASE_STATUS_IDEA, now, by, "");
  {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<v1::UseCase> existing = storage_->GetUseCase(draft.id());
    if (existing.ok()) {
      return absl::AlreadyExistsError(
          absl::StrCat("use case '", draft.id(), "' exists already; choose another id"));
    }
    if (!absl::IsNotFound(existing.status())) return existing.status();
    RETURN_IF_ERROR(CommitLocked(draft, ""));
  }
  RETURN_IF_ERROR(Score(draft));
  return draft;
}

absl::StatusOr<v1::UseCase> Portfolio::GetUseCase(absl::string_view id) {
  ASSIGN_OR_RETURN(v1::UseCase use_case, storage_->GetUseCase(id));
  RETURN_IF_ERROR(Score(use_case));
  return use_case;
}

bool Portfolio::InScope(const UseCaseFilter& filter, const v1::UseCase& use_case) {
  if (!filter.entity.empty() && use_case.entity() != filter.entity) return false;
  if (!filter.squad.empty() && use_case.squad() != filter.squad) return false;
  return !filter.visible || filter.visible(use_case.squad());
}

namespace {

bool StatusMatches(const UseCaseFilter& filter, v1::UseCaseStatus status) {
  return filter.statuses.empty() ||
         std::find(filter.statuses.begin(), filter.statuses.end(), status) != filter.statuses.end();
}

}  // namespace

absl::StatusOr<UseCasePage> Portfolio::ListUseCases(const UseCaseFilter& filter, int32_t page_size,
                                                    absl::string_view page_token) {
  ASSIGN_OR_RETURN(int32_t size, PageSize(page_size));
  ASSIGN_OR_RETURN(std::string after,
                   DecodePageToken(kUseCaseListMark, page_token, "use-case list"));
  UseCasePage page;
  RETURN_IF_ERROR(storage_->ScanUseCases(after, [&](v1::UseCase use_case) {
    if (!InScope(filter, use_case) || !StatusMatches(filter, use_case.status())) return true;
    if (static_cast<int32_t>(page.use_cases.size()) == size) {
      page.next_page_token = EncodePageToken(kUseCaseListMark, page.use_cases.back().id());
      return false;
    }
    page.use_cases.push_back(std::move(use_case));
    return true;
  }));
  for (v1::UseCase& use_case : page.use_cases) RETURN_IF_ERROR(Score(use_case));
  return page;
}

absl::StatusOr<v1::UseCase> Portfolio::UpdateUseCase(const v1::UseCase& update,
                                                     const google::protobuf::FieldMask& mask,
                                                     const v1::Principal& by) {
  RETURN_IF_ERROR(CheckMask(mask));
  ASSIGN_OR_RETURN(v1::UseCase current, storage_->GetUseCase(update.id()));
  if (!update.etag().empty() && update.etag() != current.etag()) {
    return absl::AbortedError(absl::StrCat("use case '", current.id(), "' changed since etag ",
                                           update.etag(), "; read it again"));
  }
  v1::UseCase next = current;
  google::protobuf::FieldMask fields;
  for (const std::string& path : mask.paths()) {
    if (path != "status") fields.add_paths(path);
  }
  FieldMaskUtil::MergeOptions merge;
  merge.set_replace_message_fields(true);
  merge.set_replace_repeated_fields(true);
  FieldMaskUtil::MergeMessageTo(update, fields, merge, &next);
  RETURN_IF_ERROR(ValidateUseCase(next));
  if (MaskNames(mask, "squad") && next.squad() != current.squad()) {
    ASSIGN_OR_RETURN(v1::Squad squad, SquadOf(next.squad()));
    next.set_entity(squad.entity());
  }
  if (MaskNames(mask, "status") && update.status() != current.status()) {
    RETURN_IF_ERROR(MoveStatus(current, update.status(), by, next));
  }
  RETURN_IF_ERROR(Commit(next, current.etag()));
  RETURN_IF_ERROR(Score(next));
  return next;
}

absl::Status Portfolio::MoveStatus(const v1::UseCase& current, v1::UseCaseStatus to,
                                   const v1::Principal& by, v1::UseCase& next) {
  if (!current.pending_approval_id().empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "use case '", current.id(), "' waits for approval ", current.pending_approval_id(),
        " to move to APPROVED; decide or withdraw it before moving the use case again"));
  }
  RETURN_IF_ERROR(CheckMove(current.status(), to));
  if (!NeedsApproval(current.status(), to)) {
    AddHistory(next, to, clock_->Now(), by, "");
    return absl::OkStatus();
  }
  if (options_.approvals == nullptr) {
    return absl::FailedPreconditionError(
        "use cases cannot be approved here: this tower takes no approvals");
  }
  v1::Approval draft;
  draft.set_kind(v1::APPROVAL_KIND_USE_CASE);
  draft.set_subject_id(current.id());
  draft.set_squad(current.squad());
  draft.set_summary(absl::StrCat("fund use case '", current.name(), "' (", current.id(),
                                 ") of squad ", current.squad(), ": move it to APPROVED"));
  draft.mutable_use_case()->set_use_case_id(current.id());
  draft.mutable_use_case()->set_to(v1::USE_CASE_STATUS_APPROVED);
  // The same use case at the same etag asks once: a retried update finds its first approval.
  ASSIGN_OR_RETURN(
      v1::Approval opened,
      options_.approvals->Open(std::move(draft), by,
                               absl::StrCat("use-case/", current.id(), "/", current.etag())));
  next.set_pending_approval_id(opened.id());
  return absl::OkStatus();
}

absl::Status Portfolio::Commit(v1::UseCase& use_case, absl::string_view expected_etag) {
  absl::MutexLock lock(&mu_);
  return CommitLocked(use_case, expected_etag);
}

absl::Status Portfolio::CommitLocked(v1::UseCase& use_case, absl::string_view expected_etag) {
  if (!expected_etag.empty()) {
    ASSIGN_OR_RETURN(v1::UseCase stored, storage_->GetUseCase(use_case.id()));
    if (stored.etag() != expected_etag) {
      return absl::AbortedError(absl::StrCat("use case '", use_case.id(),
                                             "' changed while it was being updated (etag ",
                                             expected_etag, "); read it again"));
    }
  }
  *use_case.mutable_update_time() = ToProtoTime(clock_->Now());
  use_case.set_etag(etags_.Next());
  use_case.clear_wsjf();
  use_case.clear_roi();
  return storage_->PutUseCase(use_case);
}

}  // namespace fabrique::tower
