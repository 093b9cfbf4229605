#include "libs/tower/approvals/approvals.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/core/log.h"
#include "libs/core/status_macros.h"
#include "libs/core/stored_proto.h"
#include "libs/monitoring/alerts/proto_time.h"
#include "libs/tower/approvals/approval_rules.h"
#include "libs/tower/paging.h"

namespace fabrique::tower {
namespace {

using monitoring::FromProtoDuration;
using monitoring::FromProtoTime;
using monitoring::ToProtoTime;

// Marks our page tokens, so that another list's token is refused rather than misread.
constexpr char kTokenPrefix[] = "ap1:";

std::string RuleKey(v1::ApprovalKind kind) { return absl::StrCat(static_cast<int>(kind)); }

std::string StateName(v1::ApprovalState state) {
  std::string name = v1::ApprovalState_Name(state);
  return absl::StartsWith(name, "APPROVAL_STATE_") ? name.substr(15) : name;
}

bool Holds(const v1::Principal& who, absl::string_view role) {
  return std::find(who.roles().begin(), who.roles().end(), role) != who.roles().end();
}

int32_t NeededApprovals(const v1::Approval& approval) {
  return std::max(1, approval.required_approvals());
}

bool Matches(const v1::Approval& approval, const ApprovalFilter& filter) {
  if (filter.state != v1::APPROVAL_STATE_UNSPECIFIED && approval.state() != filter.state) {
    return false;
  }
  if (filter.kind != v1::APPROVAL_KIND_UNSPECIFIED && approval.kind() != filter.kind) return false;
  if (!filter.required_role.empty() && approval.required_role() != filter.required_role) {
    return false;
  }
  return filter.squad.empty() || approval.squad() == filter.squad;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Approvals>> Approvals::Create(Options options) {
  if (options.store == nullptr) return absl::InvalidArgumentError("Approvals needs a store");
  if (options.clock == nullptr) options.clock = core::Clock::Real();
  Families families;
  ASSIGN_OR_RETURN(families.approvals, options.store->Family(kApprovalsFamily));
  ASSIGN_OR_RETURN(families.requests, options.store->Family(kApprovalRequestsFamily));
  ASSIGN_OR_RETURN(families.rules, options.store->Family(kApprovalRulesFamily));
  ASSIGN_OR_RETURN(families.to_apply, options.store->Family(kApprovalsToApplyFamily));
  std::unique_ptr<Approvals> approvals(new Approvals(options, families));
  RETURN_IF_ERROR(approvals->Load());
  return approvals;
}

Approvals::Approvals(Options options, Families families)
    : options_(options), families_(families), ids_(options.clock) {}

absl::Status Approvals::Load() {
  absl::MutexLock lock(&mu_);
  absl::Status parsed;
  RETURN_IF_ERROR(options_.store->Scan(families_.approvals, kv::KeyRange::All(),
                                       [&](absl::string_view key, absl::string_view value) {
                                         absl::StatusOr<v1::Approval> approval =
                                             core::ParseStored<v1::Approval>(value, "approval");
                                         if (!approval.ok()) {
                                           parsed = approval.status();
                                           return false;
                                         }
                                         approvals_[std::string(key)] = *std::move(approval);
                                         return true;
                                       }));
  RETURN_IF_ERROR(parsed);
  RETURN_IF_ERROR(options_.store->Scan(families_.requests, kv::KeyRange::All(),
                                       [&](absl::string_view key, absl::string_view value) {
                                         requests_[std::string(key)] = std::string(value);
                                         return true;
                                       }));
  RETURN_IF_ERROR(options_.store->Scan(
      families_.rules, kv::KeyRange::All(), [&](absl::string_view, absl::string_view value) {
        absl::StatusOr<v1::ApprovalRule> rule =
            core::ParseStored<v1::ApprovalRule>(value, "approval rule");
        if (!rule.ok()) {
          parsed = rule.status();
          return false;
        }
        rules_[rule->kind()] = *std::move(rule);
        return true;
      }));
  RETURN_IF_ERROR(parsed);
  return options_.store->Scan(families_.to_apply, kv::KeyRange::All(),
                              [&](absl::string_view key, absl::string_view) {
                                to_apply_.emplace_back(key);
                                return true;
                              });
}

void Approvals::RegisterHandler(v1::ApprovalKind kind, ApprovalHandler* handler) {
  absl::MutexLock lock(&handlers_mu_);
  handlers_[kind] = handler;
}

ApprovalHandler* Approvals::HandlerOf(v1::ApprovalKind kind) const {
  absl::MutexLock lock(&handlers_mu_);
  auto it = handlers_.find(kind);
  return it == handlers_.end() ? nullptr : it->second;
}

int Approvals::ApplyPending() {
  std::vector<v1::Approval> pending;
  {
    absl::MutexLock lock(&mu_);
    for (const std::string& id : to_apply_) {
      auto it = approvals_.find(id);
      if (it != approvals_.end()) pending.push_back(it->second);
    }
  }
  int applied = 0;
  for (const v1::Approval& approval : pending) {
    if (HandlerOf(approval.kind()) == nullptr) continue;
    const v1::Approval after = ApplyApproved(approval);
    if (after.close_reason().empty()) ++applied;
  }
  return applied;
}

v1::ApprovalRule Approvals::RuleOf(v1::ApprovalKind kind) const {
  auto it = rules_.find(kind);
  return it == rules_.end() ? DefaultApprovalRule(kind) : it->second;
}

absl::Status Approvals::Save(const v1::Approval& approval, bool to_apply) {
  kv::WriteBatch batch;
  batch.Put(families_.approvals, approval.id(), approval.SerializeAsString());
  if (to_apply) {
    batch.Put(families_.to_apply, approval.id(), "");
  } else {
    batch.Delete(families_.to_apply, approval.id());
  }
  RETURN_IF_ERROR(options_.store->Write(batch, kv::SyncMode::kSync));
  approvals_[approval.id()] = approval;
  to_apply_.erase(std::remove(to_apply_.begin(), to_apply_.end(), approval.id()), to_apply_.end());
  if (to_apply) to_apply_.push_back(approval.id());
  return absl::OkStatus();
}

absl::StatusOr<v1::Approval> Approvals::Open(v1::Approval draft, const v1::Principal& requester,
                                             absl::string_view request_id) {
  RETURN_IF_ERROR(CheckPayloadMatchesKind(draft));
  {
    absl::MutexLock lock(&mu_);
    if (!request_id.empty()) {
      auto seen = requests_.find(std::string(request_id));
      if (seen != requests_.end()) return approvals_.at(seen->second);
    }
  }
  ApprovalHandler* handler = HandlerOf(draft.kind());
  if (handler == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(ApprovalKindName(draft.kind()),
                     " approvals cannot be applied by this tower: the part of the tower that "
                     "applies them is not running"));
  }
  RETURN_IF_ERROR(handler->Validate(draft));

  absl::MutexLock lock(&mu_);
  if (!request_id.empty()) {
    // A retry may have raced this one while Validate ran.
    auto seen = requests_.find(std::string(request_id));
    if (seen != requests_.end()) return approvals_.at(seen->second);
  }
  const v1::ApprovalRule rule = RuleOf(draft.kind());
  const absl::Time now = options_.clock->Now();
  draft.set_id(ids_.Next());
  draft.set_required_role(rule.required_role());
  draft.set_required_approvals(std::max(1, rule.required_approvals()));
  draft.set_state(v1::APPROVAL_STATE_PENDING);
  *draft.mutable_requested_by() = requester;
  draft.clear_decisions();
  draft.clear_close_time();
  draft.clear_close_reason();
  *draft.mutable_create_time() = ToProtoTime(now);
  const absl::Duration ttl = FromProtoDuration(rule.ttl());
  if (ttl > absl::ZeroDuration()) {
    *draft.mutable_expire_time() = ToProtoTime(now + ttl);
  } else {
    draft.clear_expire_time();
  }
  kv::WriteBatch batch;
  batch.Put(families_.approvals, draft.id(), draft.SerializeAsString());
  if (!request_id.empty()) batch.Put(families_.requests, request_id, draft.id());
  RETURN_IF_ERROR(options_.store->Write(batch, kv::SyncMode::kSync));
  approvals_[draft.id()] = draft;
  if (!request_id.empty()) requests_[std::string(request_id)] = draft.id();
  return draft;
}

absl::StatusOr<v1::Approval> Approvals::Get(absl::string_view id) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = approvals_.find(std::string(id));
  if (it == approvals_.end()) {
    return absl::NotFoundError(
        absl::StrCat("no approval '", id, "'; `fabrique tower approvals list` shows them"));
  }
  return it->second;
}

absl::StatusOr<ApprovalPage> Approvals::List(const ApprovalFilter& filter, int32_t page_size,
                                             absl::string_view page_token) const {
  ASSIGN_OR_RETURN(const int32_t size, PageSize(page_size));
  ASSIGN_OR_RETURN(const std::string after,
                   DecodePageToken(kTokenPrefix, page_token, "approval list"));
  ApprovalPage page;
  absl::ReaderMutexLock lock(&mu_);
  for (auto it = approvals_.upper_bound(after); it != approvals_.end(); ++it) {
    if (!Matches(it->second, filter)) continue;
    if (static_cast<int32_t>(page.approvals.size()) == size) {
      page.next_page_token = EncodePageToken(kTokenPrefix, page.approvals.back().id());
      break;
    }
    page.approvals.push_back(it->second);
  }
  return page;
}

absl::StatusOr<v1::Approval> Approvals::Close(v1::Approval approval, v1::ApprovalState state,
                                              absl::string_view reason) {
  approval.set_state(state);
  approval.set_close_reason(std::string(reason));
  *approval.mutable_close_time() = ToProtoTime(options_.clock->Now());
  RETURN_IF_ERROR(Save(approval, state == v1::APPROVAL_STATE_APPROVED));
  return approval;
}

absl::StatusOr<v1::Approval> Approvals::Decide(absl::string_view id, bool approve,
                                               absl::string_view comment,
                                               const v1::Principal& decider) {
  v1::Approval closed;
  {
    absl::MutexLock lock(&mu_);
    auto it = approvals_.find(std::string(id));
    if (it == approvals_.end()) {
      return absl::NotFoundError(absl::StrCat("no approval '", id, "'"));
    }
    v1::Approval approval = it->second;
    if (approval.state() != v1::APPROVAL_STATE_PENDING) {
      return absl::FailedPreconditionError(absl::StrCat("approval ", id, " is ",
                                                        StateName(approval.state()),
                                                        " already; only a PENDING one "
                                                        "can be decided (request a new one)"));
    }
    if (options_.without_identity) {
      core::Log(core::LogLevel::kWarning, "approval_decided_without_identity",
                {{"approval", approval.id()}, {"approve", approve}});
    } else if (decider.subject() == approval.requested_by().subject()) {
      return absl::PermissionDeniedError(absl::StrCat(
          "separation of duties: ", decider.subject(), " requested approval ", id,
          " and cannot decide it; another holder of ", approval.required_role(), " must"));
    }
    for (const v1::ApprovalDecision& decision : approval.decisions()) {
      if (!options_.without_identity && decision.by().subject() == decider.subject()) {
        return absl::AlreadyExistsError(absl::StrCat(decider.subject(), " has decided approval ",
                                                     id, " already; each person decides once"));
      }
    }
    if (!Holds(decider, approval.required_role())) {
      return absl::PermissionDeniedError(
          absl::StrCat(decider.subject(), " does not hold ", approval.required_role(),
                       approval.squad().empty() ? std::string(" (platform-wide)")
                                                : absl::StrCat(" in squad ", approval.squad()),
                       ", which approval ", id, " needs"));
    }
    v1::ApprovalDecision* decision = approval.add_decisions();
    *decision->mutable_by() = decider;
    decision->set_approve(approve);
    decision->set_comment(std::string(comment));
    *decision->mutable_time() = ToProtoTime(options_.clock->Now());
    int approvals = 0;
    for (const v1::ApprovalDecision& d : approval.decisions()) approvals += d.approve() ? 1 : 0;
    if (!approve) {
      ASSIGN_OR_RETURN(closed,
                       Close(std::move(approval), v1::APPROVAL_STATE_REJECTED,
                             comment.empty() ? absl::StrCat("rejected by ", decider.subject())
                                             : std::string(comment)));
    } else if (approvals >= NeededApprovals(approval)) {
      ASSIGN_OR_RETURN(closed, Close(std::move(approval), v1::APPROVAL_STATE_APPROVED, ""));
    } else {
      RETURN_IF_ERROR(Save(approval, false));
      return approval;
    }
  }
  if (closed.state() == v1::APPROVAL_STATE_APPROVED) return ApplyApproved(closed);
  ReportClosed(closed);
  return closed;
}

absl::StatusOr<v1::Approval> Approvals::Withdraw(absl::string_view id, absl::string_view comment,
                                                 const v1::Principal& caller) {
  v1::Approval closed;
  {
    absl::MutexLock lock(&mu_);
    auto it = approvals_.find(std::string(id));
    if (it == approvals_.end()) {
      return absl::NotFoundError(absl::StrCat("no approval '", id, "'"));
    }
    if (it->second.requested_by().subject() != caller.subject()) {
      return absl::PermissionDeniedError(absl::StrCat("only ", it->second.requested_by().subject(),
                                                      ", who requested approval ", id,
                                                      ", may withdraw it"));
    }
    if (it->second.state() != v1::APPROVAL_STATE_PENDING) {
      return absl::FailedPreconditionError(absl::StrCat("approval ", id, " is ",
                                                        StateName(it->second.state()),
                                                        " already; only a PENDING one "
                                                        "can be withdrawn"));
    }
    ASSIGN_OR_RETURN(closed, Close(it->second, v1::APPROVAL_STATE_WITHDRAWN,
                                   comment.empty() ? std::string("withdrawn")
                                                   : absl::StrCat("withdrawn: ", comment)));
  }
  ReportClosed(closed);
  return closed;
}

absl::StatusOr<int> Approvals::ExpireDue() {
  std::vector<v1::Approval> expired;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = options_.clock->Now();
    std::vector<v1::Approval> due;
    for (const auto& [id, approval] : approvals_) {
      if (approval.state() == v1::APPROVAL_STATE_PENDING && approval.has_expire_time() &&
          FromProtoTime(approval.expire_time()) <= now) {
        due.push_back(approval);
      }
    }
    for (v1::Approval& approval : due) {
      ASSIGN_OR_RETURN(v1::Approval closed,
                       Close(std::move(approval), v1::APPROVAL_STATE_EXPIRED, "expired"));
      expired.push_back(std::move(closed));
    }
  }
  for (const v1::Approval& approval : expired) ReportClosed(approval);
  return static_cast<int>(expired.size());
}

v1::Approval Approvals::ApplyApproved(const v1::Approval& approved) {
  ApprovalHandler* handler = HandlerOf(approved.kind());
  if (handler == nullptr) return approved;  // Applied by ApplyPending once registered.
  const absl::Status applied = handler->Apply(approved);
  absl::MutexLock lock(&mu_);
  v1::Approval after = approvals_.count(approved.id()) ? approvals_.at(approved.id()) : approved;
  if (applied.ok()) {
    after.clear_close_reason();
  } else {
    // Kept "to apply": the next start tries again, as a failure may be passing.
    after.set_close_reason(absl::StrCat("approved, but applying it failed: ", applied.message()));
    core::Log(core::LogLevel::kWarning, "approval_apply_failed",
              {{"approval", approved.id()}, {"error", std::string(applied.message())}});
  }
  const absl::Status saved = Save(after, !applied.ok());
  if (!saved.ok()) {
    // Applied again at the next start, which the handler's idempotence makes harmless.
    core::Log(core::LogLevel::kWarning, "approval_outcome_not_recorded",
              {{"approval", approved.id()}, {"error", std::string(saved.message())}});
  }
  return after;
}

void Approvals::ReportClosed(const v1::Approval& closed) {
  if (ApprovalHandler* handler = HandlerOf(closed.kind())) handler->Closed(closed);
}

absl::StatusOr<v1::ApprovalRule> Approvals::SetRule(v1::ApprovalRule rule) {
  RETURN_IF_ERROR(ValidateApprovalRule(rule));
  if (rule.required_approvals() == 0) rule.set_required_approvals(1);
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(options_.store->Put(families_.rules, RuleKey(rule.kind()),
                                      rule.SerializeAsString(), kv::SyncMode::kSync));
  rules_[rule.kind()] = rule;
  return rule;
}

std::vector<v1::ApprovalRule> Approvals::ListRules() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<v1::ApprovalRule> rules;
  for (v1::ApprovalKind kind : kApprovalKinds) rules.push_back(RuleOf(kind));
  return rules;
}

std::map<v1::ApprovalKind, int64_t> Approvals::PendingByKind() const {
  std::map<v1::ApprovalKind, int64_t> pending;
  for (v1::ApprovalKind kind : kApprovalKinds) pending[kind] = 0;
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [id, approval] : approvals_) {
    if (approval.state() == v1::APPROVAL_STATE_PENDING) ++pending[approval.kind()];
  }
  return pending;
}

}  // namespace fabrique::tower
