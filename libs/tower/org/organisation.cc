#include "libs/tower/org/organisation.h"

#include <algorithm>
#include <functional>
#include <set>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/core/log.h"
#include "libs/core/status_macros.h"
#include "libs/core/stored_proto.h"
#include "libs/kv/write_batch.h"
#include "libs/tower/paging.h"

namespace fabrique::tower {
namespace {

constexpr char kRevisionKey[] = "bindings_revision";
// Marks the organisation's page tokens, so a token of another list is refused, not misread.
constexpr char kPageTokenMark[] = "org1:";

google::protobuf::Timestamp Timestamp(absl::Time time) {
  google::protobuf::Timestamp out;
  const int64_t micros = absl::ToUnixMicros(time);
  out.set_seconds(micros / 1'000'000);
  out.set_nanos(static_cast<int32_t>((micros % 1'000'000) * 1000));
  return out;
}

// Ids are [a-z][a-z0-9-]*, at most 63 characters (a Kubernetes namespace can carry them).
absl::Status CheckId(absl::string_view what, absl::string_view id) {
  bool ok = !id.empty() && id.size() <= 63 && absl::ascii_islower(id[0]);
  for (char c : id) {
    ok = ok && (absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-');
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      what, " id '", id, "' is not valid: use [a-z][a-z0-9-]*, at most 63 characters"));
}

// A role name as the access policy writes it: letters, digits, '-', '_' and '.'.
absl::Status CheckMember(const v1::SquadMember& member) {
  if (member.user().empty()) return absl::InvalidArgumentError("member.user is required");
  if (member.user().find_first_of(" ,:\t\n") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("member.user '", member.user(), "' may not hold spaces, commas or colons"));
  }
  for (const std::string& role : member.roles()) {
    bool ok = !role.empty();
    for (char c : role) {
      ok = ok && (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.');
    }
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "role '", role, "' of member ", member.user(),
          " is not valid: use letters, digits, '-', '_' and '.', e.g. data-scientist"));
    }
  }
  if (member.allocation_percent() < 0 || member.allocation_percent() > 100) {
    return absl::InvalidArgumentError(absl::StrCat("allocation_percent of member ", member.user(),
                                                   " is ", member.allocation_percent(),
                                                   "; use 0..100 (0 = 100)"));
  }
  return absl::OkStatus();
}

absl::Status CheckShareWeight(double weight) {
  if (weight >= 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("share_weight ", weight, " is negative; use a positive weight (0 = 1)"));
}

absl::Status CheckSquad(const v1::Squad& squad) {
  RETURN_IF_ERROR(CheckId("squad", squad.id()));
  RETURN_IF_ERROR(CheckShareWeight(squad.share_weight()));
  absl::flat_hash_set<std::string> users;
  for (const v1::SquadMember& member : squad.members()) {
    RETURN_IF_ERROR(CheckMember(member));
    if (!users.insert(member.user()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("squad ", squad.id(), " names member ", member.user(), " twice"));
    }
  }
  return absl::OkStatus();
}

// The etag after `etag`: a counter, so every write makes a new one.
std::string NextEtag(absl::string_view etag) {
  int64_t generation = 0;
  if (!absl::SimpleAtoi(etag, &generation)) generation = 0;
  return absl::StrCat(generation + 1);
}

// The range of ids strictly after `after`.
kv::KeyRange After(const std::string& after) {
  if (after.empty()) return kv::KeyRange::All();
  return kv::KeyRange::Between(after + std::string(1, '\0'), std::string(1, '\x7f'));
}

bool HasMember(const v1::Squad& squad, absl::string_view user) {
  return std::any_of(squad.members().begin(), squad.members().end(),
                     [user](const v1::SquadMember& m) { return m.user() == user; });
}

absl::Status StaleEtag(absl::string_view id, absl::string_view etag, absl::string_view current) {
  return absl::AbortedError(absl::StrCat("squad ", id, " changed since etag ", etag, " (now ",
                                         current, "); read it again and retry"));
}

absl::StatusOr<bool> Exists(const kv::Store& store, kv::ColumnFamily family, absl::string_view id) {
  absl::StatusOr<std::string> stored = store.Get(family, id);
  if (stored.ok()) return true;
  if (absl::IsNotFound(stored.status())) return false;
  return stored.status();
}

// One page of the records of `family` (entities or squads, keyed by id) after `page_token`,
// those `keep` accepts.
template <typename Record>
absl::StatusOr<OrgPage<Record>> ReadPage(const kv::Store& store, kv::ColumnFamily family,
                                         absl::string_view what, int32_t page_size,
                                         absl::string_view page_token,
                                         const std::function<bool(const Record&)>& keep) {
  ASSIGN_OR_RETURN(int32_t size, PageSize(page_size));
  ASSIGN_OR_RETURN(std::string after,
                   DecodePageToken(kPageTokenMark, page_token, absl::StrCat(what, " list")));
  OrgPage<Record> page;
  absl::Status parse;
  bool more = false;
  RETURN_IF_ERROR(store.Scan(family, After(after), [&](absl::string_view, absl::string_view value) {
    absl::StatusOr<Record> record = core::ParseStored<Record>(value, what);
    if (!record.ok()) {
      parse = record.status();
      return false;
    }
    if (keep && !keep(*record)) return true;
    if (static_cast<int32_t>(page.items.size()) == size) {
      more = true;
      return false;
    }
    page.items.push_back(*std::move(record));
    return true;
  }));
  RETURN_IF_ERROR(parse);
  if (more) page.next_page_token = EncodePageToken(kPageTokenMark, page.items.back().id());
  return page;
}

}  // namespace

// Applies ENTITY_ONBOARDING approvals: the entity and its squads in one write, then the quotas
// and budget through their cores.
class Organisation::OnboardingHandler : public ApprovalHandler {
 public:
  explicit OnboardingHandler(Organisation* org) : org_(org) {}

  absl::Status Validate(const v1::Approval& draft) override {
    if (!draft.has_entity_onboarding()) {
      return absl::InvalidArgumentError("an entity onboarding approval carries its request");
    }
    return org_->ValidateOnboarding(draft.entity_onboarding());
  }
  absl::Status Apply(const v1::Approval& approved) override {
    return org_->ApplyOnboarding(approved);
  }
  void Closed(const v1::Approval& closed) override {
    core::Log(core::LogLevel::kInfo, "entity_onboarding_closed",
              {{"approval", closed.id()},
               {"entity", closed.subject_id()},
               {"reason", closed.close_reason()}});
  }

 private:
  Organisation* org_;
};

std::vector<std::string> Organisation::ColumnFamilies() {
  return {kOrgEntitiesFamily, kOrgSquadsFamily, kOrgMetaFamily};
}

absl::StatusOr<std::unique_ptr<Organisation>> Organisation::Create(Options options) {
  if (options.store == nullptr) return absl::InvalidArgumentError("Organisation needs a store");
  ASSIGN_OR_RETURN(kv::ColumnFamily entities, options.store->Family(kOrgEntitiesFamily));
  ASSIGN_OR_RETURN(kv::ColumnFamily squads, options.store->Family(kOrgSquadsFamily));
  ASSIGN_OR_RETURN(kv::ColumnFamily meta, options.store->Family(kOrgMetaFamily));
  auto org =
      std::unique_ptr<Organisation>(new Organisation(std::move(options), entities, squads, meta));
  RETURN_IF_ERROR(org->LoadBindings());
  return org;
}

Organisation::Organisation(Options options, kv::ColumnFamily entities, kv::ColumnFamily squads,
                           kv::ColumnFamily meta)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : core::Clock::Real()),
      entities_(entities),
      squads_(squads),
      meta_(meta),
      onboarding_(std::make_unique<OnboardingHandler>(this)) {}

Organisation::~Organisation() = default;

ApprovalHandler* Organisation::onboarding_handler() { return onboarding_.get(); }

absl::Status Organisation::LoadBindings() {
  absl::MutexLock lock(&write_mu_);
  int64_t revision = 0;
  absl::StatusOr<std::string> stored = options_.store->Get(meta_, kRevisionKey);
  if (stored.ok()) {
    if (!absl::SimpleAtoi(*stored, &revision)) {
      return absl::DataLossError("the stored role bindings revision is corrupt");
    }
  } else if (!absl::IsNotFound(stored.status())) {
    return stored.status();
  }
  return PublishBindings(revision);
}

absl::Status Organisation::PublishBindings(int64_t revision) {
  using Key = std::tuple<std::string, std::string, std::string>;
  std::set<Key> unique;
  absl::Status parse;
  RETURN_IF_ERROR(options_.store->Scan(
      squads_, kv::KeyRange::All(), [&](absl::string_view, absl::string_view value) {
        absl::StatusOr<v1::Squad> squad = core::ParseStored<v1::Squad>(value, "squad");
        if (!squad.ok()) {
          parse = squad.status();
          return false;
        }
        for (const v1::SquadMember& member : squad->members()) {
          for (const std::string& role : member.roles()) {
            unique.emplace(absl::StrCat("user:", member.user()), role, squad->id());
          }
        }
        return true;
      }));
  RETURN_IF_ERROR(parse);
  v1::RoleBindings bindings;
  bindings.set_revision(revision);
  for (const auto& [subject, role, squad] : unique) {
    v1::RoleBinding* binding = bindings.add_bindings();
    binding->set_subject(subject);
    binding->set_role(role);
    binding->set_squad(squad);
  }
  absl::MutexLock lock(&bindings_mu_);
  bindings_ = std::move(bindings);
  return absl::OkStatus();
}

v1::RoleBindings Organisation::Bindings() const {
  absl::MutexLock lock(&bindings_mu_);
  return bindings_;
}

int64_t Organisation::bindings_revision() const {
  absl::MutexLock lock(&bindings_mu_);
  return bindings_.revision();
}

int64_t Organisation::WaitForBindingsAfter(int64_t after, absl::Duration timeout) const {
  absl::MutexLock lock(&bindings_mu_);
  auto passed = [this, after]() ABSL_SHARED_LOCKS_REQUIRED(bindings_mu_) {
    return interrupted_ || bindings_.revision() > after;
  };
  bindings_mu_.AwaitWithTimeout(absl::Condition(&passed), timeout);
  return bindings_.revision();
}

void Organisation::Interrupt() {
  absl::MutexLock lock(&bindings_mu_);
  interrupted_ = true;
}

bool Organisation::interrupted() const {
  absl::MutexLock lock(&bindings_mu_);
  return interrupted_;
}

// ---- Entities ----

absl::Status Organisation::ValidateOnboarding(const v1::OnboardEntityRequest& request) const {
  const v1::OrgEntity& entity = request.entity();
  RETURN_IF_ERROR(CheckId("entity", entity.id()));
  ASSIGN_OR_RETURN(bool entity_taken, Exists(*options_.store, entities_, entity.id()));
  if (entity_taken) {
    return absl::AlreadyExistsError(
        absl::StrCat("entity ", entity.id(), " exists; choose another id"));
  }
  absl::flat_hash_set<std::string> ids;
  for (const v1::Squad& squad : request.squads()) {
    RETURN_IF_ERROR(CheckSquad(squad));
    if (!squad.entity().empty() && squad.entity() != entity.id()) {
      return absl::InvalidArgumentError(absl::StrCat("squad ", squad.id(), " names entity ",
                                                     squad.entity(), ", not ", entity.id(),
                                                     "; leave it empty"));
    }
    if (!ids.insert(squad.id()).second) {
      return absl::InvalidArgumentError(absl::StrCat("squad ", squad.id(), " is named twice"));
    }
    ASSIGN_OR_RETURN(bool squad_taken, Exists(*options_.store, squads_, squad.id()));
    if (squad_taken) {
      return absl::AlreadyExistsError(
          absl::StrCat("squad ", squad.id(), " exists; choose another id"));
    }
  }
  for (const v1::Quota& quota : request.quotas()) {
    if (!ids.contains(quota.squad())) {
      return absl::InvalidArgumentError(absl::StrCat("a quota names squad '", quota.squad(),
                                                     "', which this onboarding does not create"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Approval> Organisation::OnboardEntity(const v1::OnboardEntityRequest& request,
                                                         const v1::Principal& requester) {
  if (options_.approvals == nullptr) {
    return absl::FailedPreconditionError(
        "onboarding needs the approvals core, which this tower does not run");
  }
  RETURN_IF_ERROR(ValidateOnboarding(request));
  v1::Approval draft;
  draft.set_kind(v1::APPROVAL_KIND_ENTITY_ONBOARDING);
  draft.set_subject_id(request.entity().id());
  std::vector<std::string> squads;
  for (const v1::Squad& squad : request.squads()) squads.push_back(squad.id());
  draft.set_summary(absl::StrCat("onboard entity ", request.entity().id(),
                                 squads.empty() ? "" : " with squads ",
                                 absl::StrJoin(squads, ", ")));
  *draft.mutable_entity_onboarding() = request;
  return options_.approvals->Open(std::move(draft), requester, request.request_id());
}

absl::Status Organisation::ApplyOnboarding(const v1::Approval& approval) {
  if (!approval.has_entity_onboarding()) {
    return absl::InvalidArgumentError(
        absl::StrCat("approval ", approval.id(), " carries no onboarding request"));
  }
  const v1::OnboardEntityRequest& request = approval.entity_onboarding();
  {
    absl::MutexLock lock(&write_mu_);
    absl::StatusOr<v1::OrgEntity> existing = GetEntity(request.entity().id());
    if (existing.ok() && existing->onboarding_approval_id() != approval.id()) {
      return absl::AlreadyExistsError(absl::StrCat("entity ", request.entity().id(),
                                                   " was created meanwhile by approval ",
                                                   existing->onboarding_approval_id()));
    }
    if (!existing.ok() && !absl::IsNotFound(existing.status())) return existing.status();
    if (!existing.ok()) {
      // Not applied yet: the entity, its squads and the bindings' revision in one write.
      const google::protobuf::Timestamp now = Timestamp(clock_->Now());
      v1::OrgEntity entity = request.entity();
      entity.clear_squads();
      *entity.mutable_create_time() = now;
      entity.set_etag("1");
      entity.set_onboarding_approval_id(approval.id());
      kv::WriteBatch batch;
      bool members = false;
      for (v1::Squad squad : request.squads()) {
        ASSIGN_OR_RETURN(bool taken, Exists(*options_.store, squads_, squad.id()));
        if (taken) {
          return absl::AlreadyExistsError(absl::StrCat(
              "squad ", squad.id(), " was created meanwhile; onboard again without it"));
        }
        squad.set_entity(entity.id());
        *squad.mutable_create_time() = now;
        squad.set_etag("1");
        members = members || squad.members_size() > 0;
        entity.add_squads(squad.id());
        batch.Put(squads_, squad.id(), squad.SerializeAsString());
      }
      batch.Put(entities_, entity.id(), entity.SerializeAsString());
      const int64_t revision = bindings_revision() + (members ? 1 : 0);
      if (members) batch.Put(meta_, kRevisionKey, absl::StrCat(revision));
      RETURN_IF_ERROR(options_.store->Write(batch, kv::SyncMode::kSync));
      if (members) RETURN_IF_ERROR(PublishBindings(revision));
    }
  }
  // Whether the write above happened now or before a crash, the quotas and budget may not have
  // been applied: their steps are idempotent, so they run every time.
  if (options_.apply_quotas) RETURN_IF_ERROR(options_.apply_quotas(request));
  if (options_.apply_budget) RETURN_IF_ERROR(options_.apply_budget(request));
  return absl::OkStatus();
}

absl::StatusOr<v1::OrgEntity> Organisation::GetEntity(absl::string_view id) {
  absl::StatusOr<std::string> stored = options_.store->Get(entities_, id);
  if (absl::IsNotFound(stored.status())) {
    return absl::NotFoundError(absl::StrCat("no entity '", id, "'"));
  }
  if (!stored.ok()) return stored.status();
  return core::ParseStored<v1::OrgEntity>(*stored, "entity");
}

absl::StatusOr<OrgPage<v1::OrgEntity>> Organisation::ListEntities(int32_t page_size,
                                                                  absl::string_view page_token) {
  return ReadPage<v1::OrgEntity>(*options_.store, entities_, "entity", page_size, page_token,
                                 nullptr);
}

// ---- Squads ----

absl::StatusOr<v1::Squad> Organisation::ReadSquad(absl::string_view id) const {
  absl::StatusOr<std::string> stored = options_.store->Get(squads_, id);
  if (absl::IsNotFound(stored.status())) {
    return absl::NotFoundError(absl::StrCat("no squad '", id, "'"));
  }
  if (!stored.ok()) return stored.status();
  return core::ParseStored<v1::Squad>(*stored, "squad");
}

absl::StatusOr<v1::Squad> Organisation::GetSquad(absl::string_view id) { return ReadSquad(id); }

absl::StatusOr<v1::Squad> Organisation::CreateSquad(v1::Squad squad) {
  RETURN_IF_ERROR(CheckSquad(squad));
  if (squad.entity().empty()) {
    return absl::InvalidArgumentError("squad.entity is required: the entity the squad belongs to");
  }
  absl::MutexLock lock(&write_mu_);
  ASSIGN_OR_RETURN(v1::OrgEntity entity, GetEntity(squad.entity()));
  ASSIGN_OR_RETURN(bool taken, Exists(*options_.store, squads_, squad.id()));
  if (taken) {
    return absl::AlreadyExistsError(
        absl::StrCat("squad ", squad.id(), " exists; choose another id"));
  }
  *squad.mutable_create_time() = Timestamp(clock_->Now());
  squad.set_etag("1");
  entity.add_squads(squad.id());
  entity.set_etag(NextEtag(entity.etag()));
  const bool members = squad.members_size() > 0;
  const int64_t revision = bindings_revision() + (members ? 1 : 0);
  kv::WriteBatch batch;
  batch.Put(squads_, squad.id(), squad.SerializeAsString());
  batch.Put(entities_, entity.id(), entity.SerializeAsString());
  if (members) batch.Put(meta_, kRevisionKey, absl::StrCat(revision));
  RETURN_IF_ERROR(options_.store->Write(batch, kv::SyncMode::kSync));
  if (members) RETURN_IF_ERROR(PublishBindings(revision));
  return squad;
}

absl::StatusOr<v1::Squad> Organisation::ChangeSquad(
    absl::string_view id, absl::string_view etag, bool members_changed,
    const std::function<absl::Status(v1::Squad&)>& change) {
  absl::MutexLock lock(&write_mu_);
  ASSIGN_OR_RETURN(v1::Squad squad, ReadSquad(id));
  if (!etag.empty() && etag != squad.etag()) return StaleEtag(id, etag, squad.etag());
  RETURN_IF_ERROR(change(squad));
  squad.set_etag(NextEtag(squad.etag()));
  const int64_t revision = bindings_revision() + (members_changed ? 1 : 0);
  kv::WriteBatch batch;
  batch.Put(squads_, squad.id(), squad.SerializeAsString());
  if (members_changed) batch.Put(meta_, kRevisionKey, absl::StrCat(revision));
  RETURN_IF_ERROR(options_.store->Write(batch, kv::SyncMode::kSync));
  if (members_changed) RETURN_IF_ERROR(PublishBindings(revision));
  return squad;
}

absl::StatusOr<v1::Squad> Organisation::UpdateSquad(const v1::Squad& update,
                                                    const std::vector<std::string>& paths) {
  std::vector<std::string> fields = paths;
  if (fields.empty()) fields = {"display_name", "description", "share_weight"};
  for (const std::string& field : fields) {
    if (field != "display_name" && field != "description" && field != "share_weight") {
      return absl::InvalidArgumentError(absl::StrCat(
          "update_mask names '", field,
          "'; a squad's display_name, description and share_weight can be updated (members "
          "through Add/Update/RemoveSquadMember)"));
    }
  }
  RETURN_IF_ERROR(CheckShareWeight(update.share_weight()));
  return ChangeSquad(update.id(), update.etag(), false, [&](v1::Squad& squad) {
    for (const std::string& field : fields) {
      if (field == "display_name") squad.set_display_name(update.display_name());
      if (field == "description") squad.set_description(update.description());
      if (field == "share_weight") squad.set_share_weight(update.share_weight());
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<OrgPage<v1::Squad>> Organisation::ListSquads(const SquadFilter& filter) {
  return ReadPage<v1::Squad>(*options_.store, squads_, "squad", filter.page_size, filter.page_token,
                             [&filter](const v1::Squad& squad) {
                               return (filter.entity.empty() || squad.entity() == filter.entity) &&
                                      (filter.member.empty() || HasMember(squad, filter.member));
                             });
}

absl::StatusOr<std::vector<v1::Squad>> Organisation::ListSquads(absl::string_view entity) {
  std::vector<v1::Squad> squads;
  SquadFilter filter;
  filter.entity = std::string(entity);
  filter.page_size = kMaxPageSize;
  do {
    ASSIGN_OR_RETURN(OrgPage<v1::Squad> page, ListSquads(filter));
    for (v1::Squad& squad : page.items) squads.push_back(std::move(squad));
    filter.page_token = page.next_page_token;
  } while (!filter.page_token.empty());
  return squads;
}

// ---- Members ----

absl::StatusOr<v1::Squad> Organisation::AddMember(absl::string_view squad_id,
                                                  const v1::SquadMember& member,
                                                  absl::string_view etag) {
  RETURN_IF_ERROR(CheckMember(member));
  return ChangeSquad(squad_id, etag, true, [&](v1::Squad& squad) -> absl::Status {
    if (HasMember(squad, member.user())) {
      return absl::AlreadyExistsError(absl::StrCat(member.user(), " is a member of squad ",
                                                   squad.id(), "; use UpdateSquadMember"));
    }
    *squad.add_members() = member;
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::Squad> Organisation::UpdateMember(absl::string_view squad_id,
                                                     const v1::SquadMember& member,
                                                     absl::string_view etag) {
  RETURN_IF_ERROR(CheckMember(member));
  return ChangeSquad(squad_id, etag, true, [&](v1::Squad& squad) -> absl::Status {
    for (v1::SquadMember& held : *squad.mutable_members()) {
      if (held.user() == member.user()) {
        held = member;
        return absl::OkStatus();
      }
    }
    return absl::NotFoundError(absl::StrCat(member.user(), " is not a member of squad ", squad.id(),
                                            "; use AddSquadMember"));
  });
}

absl::StatusOr<v1::Squad> Organisation::RemoveMember(absl::string_view squad_id,
                                                     absl::string_view user,
                                                     absl::string_view etag) {
  if (user.empty()) return absl::InvalidArgumentError("user is required");
  return ChangeSquad(squad_id, etag, true, [&](v1::Squad& squad) -> absl::Status {
    auto* members = squad.mutable_members();
    for (int i = 0; i < members->size(); ++i) {
      if (members->Get(i).user() == user) {
        members->erase(members->begin() + i);
        return absl::OkStatus();
      }
    }
    return absl::NotFoundError(absl::StrCat(user, " is not a member of squad ", squad.id()));
  });
}

}  // namespace fabrique::tower
