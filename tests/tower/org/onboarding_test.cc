// Onboarding an entity: checked when asked (ids free), nothing created until approved, then the
// entity and its squads in one write with the quotas and budget applied; applying again after a
// crash creates nothing new.

#include <string>

#include "catch2/catch.hpp"
#include "org_test_util.h"

namespace fabrique::tower {
namespace {

using org_test::OrgHarness;

v1::OnboardEntityRequest Request() {
  v1::OnboardEntityRequest request;
  request.mutable_entity()->set_id("retail");
  request.mutable_entity()->set_display_name("Retail bank");
  v1::Squad* risk = request.add_squads();
  risk->set_id("risk");
  *risk->add_members() = OrgHarness::Member("alice", {"product-owner"});
  request.add_squads()->set_id("pricing");
  request.set_request_id("req-1");
  return request;
}

TEST_CASE("Onboarding opens an approval and creates nothing until it is applied",
          "[org][onboarding]") {
  OrgHarness h;
  v1::Principal requester;
  requester.set_subject("user:carol");
  absl::StatusOr<v1::Approval> approval = h.org->OnboardEntity(Request(), requester);
  REQUIRE(approval.ok());
  CHECK(approval->kind() == v1::APPROVAL_KIND_ENTITY_ONBOARDING);
  CHECK(approval->subject_id() == "retail");
  CHECK(approval->entity_onboarding().squads_size() == 2);
  CHECK(h.opener.opened.size() == 1);
  CHECK(h.opener.opened[0].first == "req-1");
  CHECK(h.org->GetEntity("retail").status().code() == absl::StatusCode::kNotFound);
  CHECK(h.org->GetSquad("risk").status().code() == absl::StatusCode::kNotFound);
  CHECK(h.org->onboarding_handler()->Validate(*approval).ok());

  const int64_t before = h.org->bindings_revision();
  REQUIRE(h.org->onboarding_handler()->Apply(*approval).ok());
  absl::StatusOr<v1::OrgEntity> entity = h.org->GetEntity("retail");
  REQUIRE(entity.ok());
  CHECK(entity->onboarding_approval_id() == approval->id());
  CHECK(entity->squads_size() == 2);
  CHECK(h.org->GetSquad("risk")->entity() == "retail");
  CHECK(h.org->GetSquad("pricing").ok());
  CHECK(h.org->bindings_revision() == before + 1);
  CHECK(h.org->Bindings().bindings(0).subject() == "user:alice");
  CHECK(h.quotas_applied == std::vector<std::string>{"retail"});
  CHECK(h.budgets_applied == std::vector<std::string>{"retail"});

  SECTION("applied again (after a crash), nothing new is written") {
    const std::string squad_etag = h.org->GetSquad("risk")->etag();
    REQUIRE(h.org->AddMember("risk", OrgHarness::Member("bob", {}), "").ok());
    h.Open();
    const int64_t revision = h.org->bindings_revision();
    REQUIRE(h.org->onboarding_handler()->Apply(*approval).ok());
    CHECK(h.org->GetSquad("risk")->members_size() == 2);
    CHECK(h.org->bindings_revision() == revision);
    // The quota and budget steps run again: they are idempotent in their cores.
    CHECK(h.quotas_applied.size() == 2);
  }
  SECTION("asked again, the ids are taken") {
    v1::OnboardEntityRequest again = Request();
    again.clear_request_id();
    CHECK(h.org->OnboardEntity(again, requester).status().code() ==
          absl::StatusCode::kAlreadyExists);
    again.mutable_entity()->set_id("retail-2");
    absl::Status squad_taken = h.org->OnboardEntity(again, requester).status();
    CHECK(squad_taken.code() == absl::StatusCode::kAlreadyExists);
    CHECK(std::string(squad_taken.message()).find("squad risk") != std::string::npos);
    CHECK(h.org->onboarding_handler()->Validate(*approval).code() ==
          absl::StatusCode::kAlreadyExists);
  }
  SECTION("another approval for the same entity does not overwrite it") {
    v1::Approval other = *approval;
    other.set_id("appr-other");
    CHECK(h.org->onboarding_handler()->Apply(other).code() == absl::StatusCode::kAlreadyExists);
  }
}

TEST_CASE("A bad onboarding request is refused with what to fix", "[org][onboarding]") {
  OrgHarness h;
  v1::OnboardEntityRequest request = Request();
  request.mutable_entity()->set_id("Retail");
  CHECK(h.org->OnboardEntity(request, {}).status().code() == absl::StatusCode::kInvalidArgument);
  request = Request();
  request.mutable_squads(1)->set_id("risk");
  CHECK(h.org->OnboardEntity(request, {}).status().code() == absl::StatusCode::kInvalidArgument);
  request = Request();
  request.add_quotas()->set_squad("elsewhere");
  CHECK(h.org->OnboardEntity(request, {}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(h.opener.opened.empty());
}

TEST_CASE("A squad created while onboarding waited makes its approval fail to apply",
          "[org][onboarding]") {
  OrgHarness h;
  absl::StatusOr<v1::Approval> approval = h.org->OnboardEntity(Request(), {});
  REQUIRE(approval.ok());
  h.Onboard("bank", {"pricing"});
  CHECK(h.org->onboarding_handler()->Apply(*approval).code() == absl::StatusCode::kAlreadyExists);
  CHECK(h.org->GetEntity("retail").status().code() == absl::StatusCode::kNotFound);
  CHECK(h.quotas_applied == std::vector<std::string>{"bank"});
}

}  // namespace
}  // namespace fabrique::tower
