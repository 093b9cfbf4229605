// Approvals: opened under their kind's rule, decided by N holders of the role with separation of
// duties, withdrawn by their requester only, expired by the tick; handlers told once; what a
// crash left approved but not applied is applied at the next start.

#include "libs/tower/approvals/approvals.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/tower/approvals/approval_rules.h"
#include "tests/util/test_util.h"

namespace fabrique::tower {
namespace {

// Counts what it was asked; Validate and Apply answer what the test sets.
class RecordingHandler : public ApprovalHandler {
 public:
  absl::Status Validate(const v1::Approval&) override { return validate; }
  absl::Status Apply(const v1::Approval& approved) override {
    applied.push_back(approved.id());
    return apply;
  }
  void Closed(const v1::Approval& closed) override { closed_ids.push_back(closed.id()); }

  absl::Status validate;
  absl::Status apply;
  std::vector<std::string> applied;
  std::vector<std::string> closed_ids;
};

v1::Principal Person(const std::string& subject, std::vector<std::string> roles = {},
                     const std::string& squad = "risk") {
  v1::Principal who;
  who.set_subject(subject);
  who.set_squad(squad);
  for (const std::string& role : roles) who.add_roles(role);
  return who;
}

v1::Approval QuotaDraft(const std::string& squad = "risk") {
  v1::Approval draft;
  draft.set_kind(v1::APPROVAL_KIND_QUOTA_INCREASE);
  draft.set_subject_id(squad);
  draft.set_squad(squad);
  draft.set_summary("8 more GPUs for risk");
  draft.mutable_quota_increase()->mutable_quota()->set_squad(squad);
  return draft;
}

struct Harness {
  explicit Harness(testing::TempDir* dir = nullptr)
      : owned_dir(dir ? nullptr : new testing::TempDir), dir(dir ? dir : owned_dir.get()) {
    Open();
  }
  void Open() {
    approvals.reset();
    store.reset();
    kv::StoreOptions options;
    options.path = dir->Sub("kv");
    options.column_families = {kApprovalsFamily, kApprovalRequestsFamily, kApprovalRulesFamily,
                               kApprovalsToApplyFamily};
    store = *kv::Store::Open(std::move(options));
    Approvals::Options approval_options;
    approval_options.store = store.get();
    approval_options.clock = &clock;
    approvals = *Approvals::Create(approval_options);
    approvals->RegisterHandler(v1::APPROVAL_KIND_QUOTA_INCREASE, &handler);
  }

  std::unique_ptr<testing::TempDir> owned_dir;
  testing::TempDir* dir;
  core::FakeClock clock{absl::FromUnixSeconds(1'796'000'000)};
  RecordingHandler handler;
  std::unique_ptr<kv::Store> store;
  std::unique_ptr<Approvals> approvals;
};

TEST_CASE("An approval opens under its kind's default rule", "[approvals]") {
  Harness h;
  absl::StatusOr<v1::Approval> opened = h.approvals->Open(QuotaDraft(), Person("ana"), "r1");
  REQUIRE(opened.ok());
  CHECK(opened->state() == v1::APPROVAL_STATE_PENDING);
  CHECK(opened->required_role() == "design-authority");
  CHECK(opened->required_approvals() == 1);
  CHECK(opened->requested_by().subject() == "ana");
  CHECK(opened->squad() == "risk");
  CHECK(opened->expire_time().seconds() - opened->create_time().seconds() == 7 * 24 * 3600);

  SECTION("the same request id returns the first approval") {
    absl::StatusOr<v1::Approval> again = h.approvals->Open(QuotaDraft(), Person("ana"), "r1");
    REQUIRE(again.ok());
    CHECK(again->id() == opened->id());
    CHECK(h.approvals->List({}, 0, "")->approvals.size() == 1);
  }
  SECTION("Get finds it and an unknown id is NOT_FOUND") {
    CHECK(h.approvals->Get(opened->id())->summary() == "8 more GPUs for risk");
    CHECK(h.approvals->Get("nope").status().code() == absl::StatusCode::kNotFound);
  }
}

TEST_CASE("Opening checks the payload and asks the handler first", "[approvals]") {
  Harness h;
  v1::Approval wrong = QuotaDraft();
  wrong.mutable_use_case()->set_use_case_id("fraud");
  CHECK(h.approvals->Open(wrong, Person("ana"), "").status().code() ==
        absl::StatusCode::kInvalidArgument);

  h.handler.validate = absl::NotFoundError("no squad 'ghost'");
  CHECK(h.approvals->Open(QuotaDraft("ghost"), Person("ana"), "").status().code() ==
        absl::StatusCode::kNotFound);

  v1::Approval onboarding;
  onboarding.set_kind(v1::APPROVAL_KIND_ENTITY_ONBOARDING);
  onboarding.mutable_entity_onboarding()->mutable_entity()->set_id("retail");
  CHECK(h.approvals->Open(onboarding, Person("ana"), "").status().code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("N approvals of the role close it APPROVED and apply it once", "[approvals]") {
  Harness h;
  v1::ApprovalRule rule = DefaultApprovalRule(v1::APPROVAL_KIND_QUOTA_INCREASE);
  rule.set_required_approvals(2);
  REQUIRE(h.approvals->SetRule(rule).ok());
  const v1::Approval opened = *h.approvals->Open(QuotaDraft(), Person("ana"), "");
  CHECK(opened.required_approvals() == 2);

  // Without the role in the squad: refused.
  CHECK(h.approvals->Decide(opened.id(), true, "", Person("bob", {"data-scientist"}))
            .status()
            .code() == absl::StatusCode::kPermissionDenied);
  absl::StatusOr<v1::Approval> first =
      h.approvals->Decide(opened.id(), true, "fine", Person("carl", {"design-authority"}));
  REQUIRE(first.ok());
  CHECK(first->state() == v1::APPROVAL_STATE_PENDING);
  CHECK(first->decisions_size() == 1);
  CHECK(h.handler.applied.empty());
  // One decision per person.
  CHECK(h.approvals->Decide(opened.id(), true, "", Person("carl", {"design-authority"}))
            .status()
            .code() == absl::StatusCode::kAlreadyExists);

  absl::StatusOr<v1::Approval> second =
      h.approvals->Decide(opened.id(), true, "", Person("dana", {"design-authority"}));
  REQUIRE(second.ok());
  CHECK(second->state() == v1::APPROVAL_STATE_APPROVED);
  CHECK(second->close_reason().empty());
  CHECK(h.handler.applied == std::vector<std::string>{opened.id()});
  CHECK(h.handler.closed_ids.empty());

  // Closed: nothing more to decide.
  CHECK(h.approvals->Decide(opened.id(), false, "", Person("eve", {"design-authority"}))
            .status()
            .code() == absl::StatusCode::kFailedPrecondition);
  CHECK(h.handler.applied.size() == 1);
}

TEST_CASE("The requester cannot decide their own approval", "[approvals]") {
  Harness h;
  const v1::Approval opened = *h.approvals->Open(QuotaDraft(), Person("ana"), "");
  absl::StatusOr<v1::Approval> own =
      h.approvals->Decide(opened.id(), true, "", Person("ana", {"design-authority"}));
  REQUIRE(own.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(own.status().message().find("separation of duties") != std::string::npos);
}

TEST_CASE("Without identity, the one anonymous caller may decide", "[approvals]") {
  testing::TempDir dir;
  kv::StoreOptions options;
  options.path = dir.Sub("kv");
  options.column_families = {kApprovalsFamily, kApprovalRequestsFamily, kApprovalRulesFamily,
                             kApprovalsToApplyFamily};
  std::unique_ptr<kv::Store> store = *kv::Store::Open(std::move(options));
  core::FakeClock clock;
  RecordingHandler handler;
  Approvals::Options approval_options;
  approval_options.store = store.get();
  approval_options.clock = &clock;
  approval_options.without_identity = true;
  std::unique_ptr<Approvals> approvals = *Approvals::Create(approval_options);
  approvals->RegisterHandler(v1::APPROVAL_KIND_QUOTA_INCREASE, &handler);
  v1::ApprovalRule rule = DefaultApprovalRule(v1::APPROVAL_KIND_QUOTA_INCREASE);
  rule.set_required_approvals(2);
  REQUIRE(approvals->SetRule(rule).ok());
  const v1::Approval opened = *approvals->Open(QuotaDraft(), Person("anonymous"), "");
  const v1::Principal anonymous = Person("anonymous", {"design-authority"});
  CHECK(approvals->Decide(opened.id(), true, "", anonymous)->state() == v1::APPROVAL_STATE_PENDING);
  CHECK(approvals->Decide(opened.id(), true, "", anonymous)->state() ==
        v1::APPROVAL_STATE_APPROVED);
  CHECK(handler.applied.size() == 1);
}

TEST_CASE("One rejection closes it REJECTED and tells the handler", "[approvals]") {
  Harness h;
  const v1::Approval opened = *h.approvals->Open(QuotaDraft(), Person("ana"), "");
  absl::StatusOr<v1::Approval> rejected = h.approvals->Decide(
      opened.id(), false, "capacity is short", Person("carl", {"design-authority"}));
  REQUIRE(rejected.ok());
  CHECK(rejected->state() == v1::APPROVAL_STATE_REJECTED);
  CHECK(rejected->close_reason() == "capacity is short");
  CHECK(h.handler.closed_ids == std::vector<std::string>{opened.id()});
  CHECK(h.handler.applied.empty());
}

TEST_CASE("Only the requester withdraws, and only a pending approval", "[approvals]") {
  Harness h;
  const v1::Approval opened = *h.approvals->Open(QuotaDraft(), Person("ana"), "");
  CHECK(h.approvals->Withdraw(opened.id(), "", Person("bob")).status().code() ==
        absl::StatusCode::kPermissionDenied);
  absl::StatusOr<v1::Approval> withdrawn =
      h.approvals->Withdraw(opened.id(), "not needed", Person("ana"));
  REQUIRE(withdrawn.ok());
  CHECK(withdrawn->state() == v1::APPROVAL_STATE_WITHDRAWN);
  CHECK(withdrawn->close_reason() == "withdrawn: not needed");
  CHECK(h.handler.closed_ids.size() == 1);
  CHECK(h.approvals->Withdraw(opened.id(), "", Person("ana")).status().code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("Pending approvals expire past their ttl, once", "[approvals]") {
  Harness h;
  const v1::Approval opened = *h.approvals->Open(QuotaDraft(), Person("ana"), "");
  h.clock.Advance(absl::Hours(24 * 7) - absl::Seconds(1));
  CHECK(*h.approvals->ExpireDue() == 0);
  CHECK(h.approvals->PendingByKind()[v1::APPROVAL_KIND_QUOTA_INCREASE] == 1);
  h.clock.Advance(absl::Seconds(1));
  CHECK(*h.approvals->ExpireDue() == 1);
  CHECK(*h.approvals->ExpireDue() == 0);
  const v1::Approval expired = *h.approvals->Get(opened.id());
  CHECK(expired.state() == v1::APPROVAL_STATE_EXPIRED);
  CHECK(expired.close_reason() == "expired");
  CHECK(h.handler.closed_ids == std::vector<std::string>{opened.id()});
  CHECK(h.approvals->PendingByKind()[v1::APPROVAL_KIND_QUOTA_INCREASE] == 0);
  CHECK(h.approvals->Decide(opened.id(), true, "", Person("carl", {"design-authority"}))
            .status()
            .code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("A rule with ttl 0 never expires; bad rules are refused", "[approvals]") {
  Harness h;
  v1::ApprovalRule rule = DefaultApprovalRule(v1::APPROVAL_KIND_QUOTA_INCREASE);
  rule.clear_ttl();
  REQUIRE(h.approvals->SetRule(rule).ok());
  const v1::Approval opened = *h.approvals->Open(QuotaDraft(), Person("ana"), "");
  CHECK_FALSE(opened.has_expire_time());
  h.clock.Advance(absl::Hours(24 * 365));
  CHECK(*h.approvals->ExpireDue() == 0);

  v1::ApprovalRule no_role;
  no_role.set_kind(v1::APPROVAL_KIND_USE_CASE);
  CHECK(h.approvals->SetRule(no_role).status().code() == absl::StatusCode::kInvalidArgument);
  v1::ApprovalRule no_kind = DefaultApprovalRule(v1::APPROVAL_KIND_USE_CASE);
  no_kind.set_kind(v1::APPROVAL_KIND_UNSPECIFIED);
  CHECK(h.approvals->SetRule(no_kind).status().code() == absl::StatusCode::kInvalidArgument);
  const std::vector<v1::ApprovalRule> rules = h.approvals->ListRules();
  REQUIRE(rules.size() == 4);
  CHECK(rules[0].required_role() == "design-authority");
  CHECK(rules[2].required_role() == "platform-admin");
}

TEST_CASE("Lists filter by state, kind, role and squad, in pages", "[approvals]") {
  Harness h;
  for (int i = 0; i < 5; ++i) {
    REQUIRE(h.approvals->Open(QuotaDraft(i % 2 ? "risk" : "pricing"), Person("ana"), "").ok());
  }
  ApprovalFilter risk;
  risk.squad = "risk";
  CHECK(h.approvals->List(risk, 0, "")->approvals.size() == 2);
  ApprovalFilter approved;
  approved.state = v1::APPROVAL_STATE_APPROVED;
  CHECK(h.approvals->List(approved, 0, "")->approvals.empty());
  ApprovalFilter other_role;
  other_role.required_role = "platform-admin";
  CHECK(h.approvals->List(other_role, 0, "")->approvals.empty());

  absl::StatusOr<ApprovalPage> first = h.approvals->List({}, 2, "");
  REQUIRE(first->approvals.size() == 2);
  REQUIRE_FALSE(first->next_page_token.empty());
  absl::StatusOr<ApprovalPage> second = h.approvals->List({}, 2, first->next_page_token);
  REQUIRE(second->approvals.size() == 2);
  CHECK(second->approvals[0].id() > first->approvals[1].id());
  absl::StatusOr<ApprovalPage> last = h.approvals->List({}, 2, second->next_page_token);
  CHECK(last->approvals.size() == 1);
  CHECK(last->next_page_token.empty());
  CHECK(h.approvals->List({}, 2, "garbage").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("A restart keeps approvals and applies what was approved but not applied",
          "[approvals][restart]") {
  testing::TempDir dir;
  std::string id;
  {
    Harness h(&dir);
    // Applying fails (as a crash mid-apply would leave it): the approval stays "to apply".
    h.handler.apply = absl::UnavailableError("the store is away");
    id = h.approvals->Open(QuotaDraft(), Person("ana"), "r1")->id();
    const v1::Approval approved =
        *h.approvals->Decide(id, true, "", Person("carl", {"design-authority"}));
    CHECK(approved.state() == v1::APPROVAL_STATE_APPROVED);
    CHECK(approved.close_reason().find("applying it failed") != std::string::npos);
    CHECK(h.handler.applied.size() == 1);
  }
  Harness h(&dir);
  CHECK(h.approvals->Get(id)->state() == v1::APPROVAL_STATE_APPROVED);
  CHECK(h.approvals->Open(QuotaDraft(), Person("ana"), "r1")->id() == id);
  CHECK(h.approvals->ApplyPending() == 1);
  CHECK(h.handler.applied == std::vector<std::string>{id});
  CHECK(h.approvals->Get(id)->close_reason().empty());
  // Applied: not again.
  CHECK(h.approvals->ApplyPending() == 0);
  CHECK(h.handler.applied.size() == 1);
}

}  // namespace
}  // namespace fabrique::tower
