#ifndef FABRIQUE_LIBS_TOWER_ORG_ORGANISATION_H_
#define FABRIQUE_LIBS_TOWER_ORG_ORGANISATION_H_

// The organisation: entities (subsidiaries, business units), their squads and the squads'
// members, and the role bindings the members' roles make for every other service.
//
//   Organisation::Options options;
//   options.store = store;            // with Organisation::ColumnFamilies()
//   options.approvals = approvals;    // onboarding goes through an approval
//   ASSIGN_OR_RETURN(auto org, Organisation::Create(std::move(options)));
//   approvals->RegisterHandler(v1::APPROVAL_KIND_ENTITY_ONBOARDING, org->onboarding_handler());
//   ASSIGN_OR_RETURN(v1::Squad squad, org->AddMember("risk", member, etag));
//
// Every write is one fsynced batch. Squads carry an etag that changes on every write; a write
// that names a stale one is ABORTED, so two people editing a squad never lose each other's
// change. Members are the source of role bindings: each of a member's roles is the binding
// {"user:<user>", role, squad}. The set has a revision, persisted with the members, that grows
// with every change to them; followers wait on it (WaitForBindingsAfter).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "fabrique/v1/tower.pb.h"
#include "libs/core/clock.h"
#include "libs/kv/store.h"
#include "libs/tower/ports.h"

namespace fabrique::tower {

inline constexpr char kOrgEntitiesFamily[] = "org_entities";
inline constexpr char kOrgSquadsFamily[] = "org_squads";
inline constexpr char kOrgMetaFamily[] = "org_meta";

// A page of a list, and the token of the next one ("" = the last page).
template <typename T>
struct OrgPage {
  std::vector<T> items;
  std::string next_page_token;
};

// Which squads ListSquads returns.
struct SquadFilter {
  std::string entity;  // "" = every entity.
  std::string member;  // Only squads this user belongs to; "" = all.
  int32_t page_size = 0;
  std::string page_token;
};

class Organisation : public OrgDirectory {
 public:
  // Applies part of an approved onboarding (quotas, budget). Must be idempotent: it is called
  // again when the approval is applied again after a crash.
  using OnboardingStep = std::function<absl::Status(const v1::OnboardEntityRequest&)>;

  struct Options {
    // Storage, with ColumnFamilies() open. Not owned; required.
    kv::Store* store = nullptr;
    // Time of creation; null = the real clock. Not owned.
    core::Clock* clock = nullptr;
    // Opens ENTITY_ONBOARDING approvals. Not owned; without it OnboardEntity is
    // FAILED_PRECONDITION.
    ApprovalOpener* approvals = nullptr;
    // Called by the onboarding handler after the entity and squads are written, in this order;
    // unset = skipped.
    OnboardingStep apply_quotas;
    OnboardingStep apply_budget;
  };

  static std::vector<std::string> ColumnFamilies();
  static absl::StatusOr<std::unique_ptr<Organisation>> Create(Options options);
  ~Organisation() override;

  // ---- Entities ----

  // Checks the request (ids well formed and free: ALREADY_EXISTS naming the one taken) and opens
  // its ENTITY_ONBOARDING approval; nothing is created until it is approved.
  absl::StatusOr<v1::Approval> OnboardEntity(const v1::OnboardEntityRequest& request,
                                             const v1::Principal& requester);
  absl::StatusOr<v1::OrgEntity> GetEntity(absl::string_view id) override;
  absl::StatusOr<OrgPage<v1::OrgEntity>> ListEntities(int32_t page_size,
                                                      absl::string_view page_token);
  // The handler of ENTITY_ONBOARDING approvals (owned by the organisation).
  ApprovalHandler* onboarding_handler();

  // ---- Squads ----

  // ALREADY_EXISTS when the id is taken, NOT_FOUND for an unknown entity.
  absl::StatusOr<v1::Squad> CreateSquad(v1::Squad squad);
  absl::StatusOr<v1::Squad> GetSquad(absl::string_view id) override;
  // Changes the fields `paths` names (display_name, description, share_weight; empty = all
  // three). ABORTED when squad.etag is set and stale.
  absl::StatusOr<v1::Squad> UpdateSquad(const v1::Squad& squad,
                                        const std::vector<std::string>& paths);
  absl::StatusOr<OrgPage<v1::Squad>> ListSquads(const SquadFilter& filter);
  absl::StatusOr<std::vector<v1::Squad>> ListSquads(absl::string_view entity) override;

  // ---- Members, one at a time; `etag` "" = no check, else ABORTED when stale ----

  // ALREADY_EXISTS when the user is a member.
  absl::StatusOr<v1::Squad> AddMember(absl::string_view squad, const v1::SquadMember& member,
                                      absl::string_view etag);
  // Replaces the member with the same user; NOT_FOUND when absent.
  absl::StatusOr<v1::Squad> UpdateMember(absl::string_view squad, const v1::SquadMember& member,
                                         absl::string_view etag);
  // NOT_FOUND when absent.
  absl::StatusOr<v1::Squad> RemoveMember(absl::string_view squad, absl::string_view user,
                                         absl::string_view etag);

  // ---- Role bindings ----

  // Every binding members hold, sorted, at the current revision.
  v1::RoleBindings Bindings() const;
  int64_t bindings_revision() const;
  // Blocks until the revision passes `after`, `timeout` ends or Interrupt(); returns the
  // revision then.
  int64_t WaitForBindingsAfter(int64_t after, absl::Duration timeout) const;
  // Wakes every waiter and makes later waits return at once (server shutdown).
  void Interrupt();
  bool interrupted() const;

 private:
  class OnboardingHandler;
  friend class OnboardingHandler;

  Organisation(Options options, kv::ColumnFamily entities, kv::ColumnFamily squads,
               kv::ColumnFamily meta);
  absl::Status LoadBindings();
  absl::StatusOr<v1::Squad> ReadSquad(absl::string_view id) const;
  absl::StatusOr<bool> EntityExists(absl::string_view id) const;
  absl::StatusOr<bool> SquadExists(absl::string_view id) const;
  // Checks an onboarding request against the store: ids well formed and free.
  absl::Status ValidateOnboarding(const v1::OnboardEntityRequest& request) const;
  // Writes an entity and its squads for an approved onboarding; does nothing when already done.
  absl::Status ApplyOnboarding(const v1::Approval& approval);
  // Reads a squad, checks `etag`, lets `change` edit it and writes it with a new etag (and a new
  // bindings revision when `members_changed`).
  absl::StatusOr<v1::Squad> ChangeSquad(absl::string_view id, absl::string_view etag,
                                        bool members_changed,
                                        const std::function<absl::Status(v1::Squad&)>& change);
  // Rebuilds the bindings from every squad and publishes `revision`; wakes the waiters.
  absl::Status PublishBindings(int64_t revision) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  const Options options_;
  core::Clock* const clock_;
  const kv::ColumnFamily entities_;
  const kv::ColumnFamily squads_;
  const kv::ColumnFamily meta_;
  std::unique_ptr<OnboardingHandler> onboarding_;

  // Serialises read-modify-write cycles, so an etag check and its write are one step.
  absl::Mutex write_mu_;

  mutable absl::Mutex bindings_mu_;
  v1::RoleBindings bindings_ ABSL_GUARDED_BY(bindings_mu_);
  bool interrupted_ ABSL_GUARDED_BY(bindings_mu_) = false;
};

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_ORG_ORGANISATION_H_
