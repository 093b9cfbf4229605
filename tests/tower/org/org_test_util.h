#ifndef FABRIQUE_TESTS_TOWER_ORG_ORG_TEST_UTIL_H_
#define FABRIQUE_TESTS_TOWER_ORG_ORG_TEST_UTIL_H_

// An organisation over a store in a temp dir, with a recording approval opener, reopenable to
// prove what survives a restart.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "libs/core/clock.h"
#include "libs/kv/store.h"
#include "libs/tower/org/organisation.h"
#include "tests/util/test_util.h"

namespace fabrique::tower::org_test {

// Opens approvals as the approvals core would: one per request id, PENDING.
class RecordingOpener : public ApprovalOpener {
 public:
  absl::StatusOr<v1::Approval> Open(v1::Approval draft, const v1::Principal& requester,
                                    absl::string_view request_id) override {
    for (const auto& [id, approval] : opened) {
      if (!request_id.empty() && id == request_id) return approval;
    }
    draft.set_id(absl::StrCat("appr-", opened.size() + 1));
    draft.set_state(v1::APPROVAL_STATE_PENDING);
    *draft.mutable_requested_by() = requester;
    opened.emplace_back(std::string(request_id), draft);
    return draft;
  }
  std::vector<std::pair<std::string, v1::Approval>> opened;
};

struct OrgHarness {
  OrgHarness() { Open(); }

  void Open() {
    org.reset();
    store.reset();
    kv::StoreOptions options;
    options.path = dir.Sub("kv");
    options.column_families = Organisation::ColumnFamilies();
    store = *kv::Store::Open(std::move(options));
    Organisation::Options org_options;
    org_options.store = store.get();
    org_options.clock = &clock;
    org_options.approvals = &opener;
    org_options.apply_quotas = [this](const v1::OnboardEntityRequest& r) {
      quotas_applied.push_back(r.entity().id());
      return absl::OkStatus();
    };
    org_options.apply_budget = [this](const v1::OnboardEntityRequest& r) {
      budgets_applied.push_back(r.entity().id());
      return absl::OkStatus();
    };
    org = *Organisation::Create(std::move(org_options));
  }

  // Onboards `entity` with `squads` and applies the approval, as an approver would.
  void Onboard(const std::string& entity, const std::vector<std::string>& squads) {
    v1::OnboardEntityRequest request;
    request.mutable_entity()->set_id(entity);
    for (const std::string& id : squads) request.add_squads()->set_id(id);
    v1::Approval approval = *org->OnboardEntity(request, v1::Principal());
    approval.set_state(v1::APPROVAL_STATE_APPROVED);
    REQUIRE(org->onboarding_handler()->Apply(approval).ok());
  }

  static v1::SquadMember Member(const std::string& user, std::vector<std::string> roles) {
    v1::SquadMember member;
    member.set_user(user);
    for (std::string& role : roles) member.add_roles(std::move(role));
    return member;
  }

  testing::TempDir dir;
  core::FakeClock clock;
  RecordingOpener opener;
  std::vector<std::string> quotas_applied;
  std::vector<std::string> budgets_applied;
  std::unique_ptr<kv::Store> store;
  std::unique_ptr<Organisation> org;
};

}  // namespace fabrique::tower::org_test

#endif  // FABRIQUE_TESTS_TOWER_ORG_ORG_TEST_UTIL_H_
