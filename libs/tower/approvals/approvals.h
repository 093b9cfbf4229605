#ifndef FABRIQUE_LIBS_TOWER_APPROVALS_APPROVALS_H_
#define FABRIQUE_LIBS_TOWER_APPROVALS_APPROVALS_H_

// Typed approvals with several deciders and separation of duties.
//
// An approval is opened by a core (onboarding, use-case approval, quota increase, budget overrun)
// or by a person through RequestApproval; the handler registered for its kind validates it first.
// Its kind's rule sets the role whose holders decide it, how many approvals close it, and when it
// expires. Deciding:
// - the requester may not decide their own approval (PERMISSION_DENIED, separation of duties);
// - each person decides once (ALREADY_EXISTS);
// - the decider must hold the required role in the approval's squad (the caller passes the roles
//   held there; for a platform-wide approval, the roles held in every squad);
// - one rejection closes it REJECTED; N approvals close it APPROVED and the kind's handler
//   applies it. The approval is stored as APPROVED and "to apply" in one write; "applied" is
//   recorded once Apply succeeds, and Create applies again whatever a crash left unapplied
//   (handlers are idempotent).
// Closed approvals (rejected, withdrawn, expired) are reported to their handler once.
//
// Storage: families kApprovalsFamily (id -> Approval), kApprovalRequestsFamily (request id ->
// approval id), kApprovalRulesFamily (kind -> ApprovalRule), kApprovalsToApplyFamily (ids approved
// and not applied yet). Every write is synced before the call answers. Approvals are few (people
// decide them), so all of them are also held in memory.
//
// Thread-safe. Handlers are called without the core's lock held, so they may call back into it.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "fabrique/v1/tower.pb.h"
#include "libs/core/clock.h"
#include "libs/core/ids.h"
#include "libs/kv/store.h"
#include "libs/tower/ports.h"

namespace fabrique::tower {

inline constexpr char kApprovalsFamily[] = "approvals";
inline constexpr char kApprovalRequestsFamily[] = "approval_requests";
inline constexpr char kApprovalRulesFamily[] = "approval_rules";
inline constexpr char kApprovalsToApplyFamily[] = "approvals_to_apply";

// What ListApprovals keeps; UNSPECIFIED / empty = any.
struct ApprovalFilter {
  v1::ApprovalState state = v1::APPROVAL_STATE_UNSPECIFIED;
  v1::ApprovalKind kind = v1::APPROVAL_KIND_UNSPECIFIED;
  std::string required_role;
  std::string squad;
};

struct ApprovalPage {
  std::vector<v1::Approval> approvals;  // Oldest first.
  std::string next_page_token;          // "" on the last page.
};

class Approvals : public ApprovalOpener {
 public:
  struct Options {
    // The tower's store, opened with the four families above. Not owned; required.
    kv::Store* store = nullptr;
    // Time of creation, decisions and expiry. Not owned; null = the real clock.
    core::Clock* clock = nullptr;
    // The tower runs without identity (--insecure): every caller is the same anonymous user, so
    // separation of duties and one decision per person cannot hold and are not enforced (a
    // warning is logged for each decision). Default false.
    bool without_identity = false;
  };

  // Opens the core on `options.store`, loads every approval and rule.
  static absl::StatusOr<std::unique_ptr<Approvals>> Create(Options options);

  // Registers the handler of `kind` (not owned; must outlive this). Call before serving, then
  // ApplyPending() once every handler is registered.
  void RegisterHandler(v1::ApprovalKind kind, ApprovalHandler* handler);

  // Applies, once more, every approval a crash left approved but not applied. Returns how many
  // were applied now. Handlers not registered yet are skipped (and retried at the next call).
  int ApplyPending();

  // ApprovalOpener. INVALID_ARGUMENT for a missing kind or a payload of another kind,
  // FAILED_PRECONDITION when no handler applies the kind here, and the handler's Validate errors.
  absl::StatusOr<v1::Approval> Open(v1::Approval draft, const v1::Principal& requester,
                                    absl::string_view request_id) override;

  // NOT_FOUND for an unknown id.
  absl::StatusOr<v1::Approval> Get(absl::string_view id) const;
  // Oldest first, paged (page_size 0 = 50, at most 500). INVALID_ARGUMENT for a bad token.
  absl::StatusOr<ApprovalPage> List(const ApprovalFilter& filter, int32_t page_size,
                                    absl::string_view page_token) const;

  // Approves or rejects approval `id` for `decider`, whose roles are those held in the
  // approval's squad. NOT_FOUND, FAILED_PRECONDITION (closed already), PERMISSION_DENIED
  // (the requester, or a decider without the required role), ALREADY_EXISTS (decided already).
  absl::StatusOr<v1::Approval> Decide(absl::string_view id, bool approve, absl::string_view comment,
                                      const v1::Principal& decider);
  // Withdraws a pending approval; only its requester may (PERMISSION_DENIED otherwise).
  absl::StatusOr<v1::Approval> Withdraw(absl::string_view id, absl::string_view comment,
                                        const v1::Principal& caller);

  // Moves every pending approval past its expire_time to EXPIRED; returns how many.
  absl::StatusOr<int> ExpireDue();

  absl::StatusOr<v1::ApprovalRule> SetRule(v1::ApprovalRule rule);
  // One rule per kind, defaults included.
  std::vector<v1::ApprovalRule> ListRules() const;

  // Pending approvals per kind, for the approvals_pending gauge.
  std::map<v1::ApprovalKind, int64_t> PendingByKind() const;

 private:
  struct Families {
    kv::ColumnFamily approvals;
    kv::ColumnFamily requests;
    kv::ColumnFamily rules;
    kv::ColumnFamily to_apply;
  };

  Approvals(Options options, Families families);
  absl::Status Load();
  v1::ApprovalRule RuleOf(v1::ApprovalKind kind) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  ApprovalHandler* HandlerOf(v1::ApprovalKind kind) const;
  // Stores `approval` (and, when `to_apply`, its mark) in one synced write, then in memory.
  absl::Status Save(const v1::Approval& approval, bool to_apply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Closes a pending approval in `state` with `reason`.
  absl::StatusOr<v1::Approval> Close(v1::Approval approval, v1::ApprovalState state,
                                     absl::string_view reason) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Calls the handler's Apply, records the outcome; returns the approval as stored after it.
  v1::Approval ApplyApproved(const v1::Approval& approved);
  void ReportClosed(const v1::Approval& closed);

  Options options_;
  Families families_;
  core::IdGenerator ids_;

  mutable absl::Mutex handlers_mu_;
  absl::flat_hash_map<int, ApprovalHandler*> handlers_ ABSL_GUARDED_BY(handlers_mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, v1::Approval> approvals_ ABSL_GUARDED_BY(mu_);  // By id, oldest first.
  absl::flat_hash_map<std::string, std::string> requests_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<int, v1::ApprovalRule> rules_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> to_apply_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_APPROVALS_APPROVALS_H_
