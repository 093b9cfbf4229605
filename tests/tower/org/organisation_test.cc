// Squads and members: codes for unknown and duplicate ids, etags that refuse stale writes, lists
// filtered and paged, and role bindings whose revision grows with every change and survives a
// restart.

#include <string>
#include <thread>
#include <vector>

#include "catch2/catch.hpp"
#include "org_test_util.h"

namespace fabrique::tower {
namespace {

using org_test::OrgHarness;

v1::Squad SquadIn(const std::string& entity, const std::string& id) {
  v1::Squad squad;
  squad.set_id(id);
  squad.set_entity(entity);
  return squad;
}

TEST_CASE("A squad needs an existing entity and a free id", "[org]") {
  OrgHarness h;
  CHECK(h.org->CreateSquad(SquadIn("retail", "risk")).status().code() ==
        absl::StatusCode::kNotFound);
  h.Onboard("retail", {});
  absl::StatusOr<v1::Squad> created = h.org->CreateSquad(SquadIn("retail", "risk"));
  REQUIRE(created.ok());
  CHECK(created->etag() == "1");
  CHECK(h.org->CreateSquad(SquadIn("retail", "risk")).status().code() ==
        absl::StatusCode::kAlreadyExists);
  CHECK(h.org->CreateSquad(SquadIn("retail", "Risk!")).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(h.org->GetSquad("nope").status().code() == absl::StatusCode::kNotFound);
  CHECK(h.org->GetEntity("retail")->squads(0) == "risk");
}

TEST_CASE("Members are added, changed and removed one at a time with etags", "[org]") {
  OrgHarness h;
  h.Onboard("retail", {"risk"});
  const std::string etag = h.org->GetSquad("risk")->etag();

  absl::StatusOr<v1::Squad> added =
      h.org->AddMember("risk", OrgHarness::Member("alice", {"data-scientist"}), etag);
  REQUIRE(added.ok());
  CHECK(added->etag() != etag);
  CHECK(added->members_size() == 1);

  SECTION("a stale etag is ABORTED and changes nothing") {
    absl::Status stale =
        h.org->AddMember("risk", OrgHarness::Member("bob", {"data-engineer"}), etag).status();
    CHECK(stale.code() == absl::StatusCode::kAborted);
    CHECK(h.org->GetSquad("risk")->members_size() == 1);
    CHECK(h.org->RemoveMember("risk", "alice", etag).status().code() == absl::StatusCode::kAborted);
  }
  SECTION("a member twice is ALREADY_EXISTS; an absent one NOT_FOUND") {
    CHECK(h.org->AddMember("risk", OrgHarness::Member("alice", {}), "").status().code() ==
          absl::StatusCode::kAlreadyExists);
    CHECK(h.org->UpdateMember("risk", OrgHarness::Member("zoe", {}), "").status().code() ==
          absl::StatusCode::kNotFound);
    CHECK(h.org->RemoveMember("risk", "zoe", "").status().code() == absl::StatusCode::kNotFound);
    CHECK(h.org->AddMember("nope", OrgHarness::Member("zoe", {}), "").status().code() ==
          absl::StatusCode::kNotFound);
  }
  SECTION("skills, allocation and roles change; removal takes the member out") {
    v1::SquadMember changed = OrgHarness::Member("alice", {"data-steward"});
    changed.add_skills(v1::SKILL_DATA_QUALITY);
    changed.set_allocation_percent(40);
    absl::StatusOr<v1::Squad> updated = h.org->UpdateMember("risk", changed, added->etag());
    REQUIRE(updated.ok());
    CHECK(updated->members(0).roles(0) == "data-steward");
    CHECK(updated->members(0).skills(0) == v1::SKILL_DATA_QUALITY);
    CHECK(updated->members(0).allocation_percent() == 40);
    changed.set_allocation_percent(140);
    CHECK(h.org->UpdateMember("risk", changed, "").status().code() ==
          absl::StatusCode::kInvalidArgument);
    absl::StatusOr<v1::Squad> removed = h.org->RemoveMember("risk", "alice", updated->etag());
    REQUIRE(removed.ok());
    CHECK(removed->members_size() == 0);
  }
}

TEST_CASE("UpdateSquad changes the masked fields and checks the etag", "[org]") {
  OrgHarness h;
  h.Onboard("retail", {"risk"});
  v1::Squad update;
  update.set_id("risk");
  update.set_display_name("Risk");
  update.set_share_weight(2);
  update.set_etag("1");
  absl::StatusOr<v1::Squad> updated = h.org->UpdateSquad(update, {"display_name"});
  REQUIRE(updated.ok());
  CHECK(updated->display_name() == "Risk");
  CHECK(updated->share_weight() == 0);
  CHECK(h.org->UpdateSquad(update, {"share_weight"}).status().code() == absl::StatusCode::kAborted);
  update.clear_etag();
  CHECK(h.org->UpdateSquad(update, {"members"}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(h.org->UpdateSquad(update, {"share_weight"})->share_weight() == 2);
  // A squad's members do not change through UpdateSquad, and the bindings stay where they were.
  CHECK(h.org->bindings_revision() == 0);
}

TEST_CASE("Squads are listed by entity and member, in pages", "[org]") {
  OrgHarness h;
  h.Onboard("retail", {"a1", "a2", "a3"});
  h.Onboard("bank", {"b1"});
  REQUIRE(h.org->AddMember("a2", OrgHarness::Member("alice", {}), "").ok());
  REQUIRE(h.org->AddMember("b1", OrgHarness::Member("alice", {}), "").ok());

  SquadFilter filter;
  filter.entity = "retail";
  filter.page_size = 2;
  absl::StatusOr<OrgPage<v1::Squad>> first = h.org->ListSquads(filter);
  REQUIRE(first.ok());
  REQUIRE(first->items.size() == 2);
  CHECK(first->items[0].id() == "a1");
  REQUIRE(!first->next_page_token.empty());
  filter.page_token = first->next_page_token;
  absl::StatusOr<OrgPage<v1::Squad>> second = h.org->ListSquads(filter);
  REQUIRE(second.ok());
  REQUIRE(second->items.size() == 1);
  CHECK(second->items[0].id() == "a3");
  CHECK(second->next_page_token.empty());

  SquadFilter by_member;
  by_member.member = "alice";
  absl::StatusOr<OrgPage<v1::Squad>> alice = h.org->ListSquads(by_member);
  REQUIRE(alice.ok());
  REQUIRE(alice->items.size() == 2);
  CHECK(alice->items[0].id() == "a2");
  CHECK(alice->items[1].id() == "b1");

  by_member.page_token = "garbage";
  CHECK(h.org->ListSquads(by_member).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(h.org->ListSquads("bank")->size() == 1);
  absl::StatusOr<OrgPage<v1::OrgEntity>> entities = h.org->ListEntities(1, "");
  REQUIRE(entities.ok());
  CHECK(entities->items[0].id() == "bank");
  CHECK(h.org->ListEntities(1, entities->next_page_token)->items[0].id() == "retail");
}

TEST_CASE("Role bindings follow members, with a revision that grows and persists", "[org]") {
  OrgHarness h;
  h.Onboard("retail", {"risk"});
  CHECK(h.org->Bindings().bindings_size() == 0);
  const int64_t start = h.org->bindings_revision();

  REQUIRE(
      h.org->AddMember("risk", OrgHarness::Member("alice", {"data-scientist", "data-steward"}), "")
          .ok());
  v1::RoleBindings bindings = h.org->Bindings();
  CHECK(bindings.revision() == start + 1);
  REQUIRE(bindings.bindings_size() == 2);
  CHECK(bindings.bindings(0).subject() == "user:alice");
  CHECK(bindings.bindings(0).role() == "data-scientist");
  CHECK(bindings.bindings(0).squad() == "risk");

  REQUIRE(h.org->RemoveMember("risk", "alice", "").ok());
  CHECK(h.org->bindings_revision() == start + 2);
  CHECK(h.org->Bindings().bindings_size() == 0);
  REQUIRE(h.org->AddMember("risk", OrgHarness::Member("bob", {"product-owner"}), "").ok());

  h.Open();
  CHECK(h.org->bindings_revision() == start + 3);
  REQUIRE(h.org->Bindings().bindings_size() == 1);
  CHECK(h.org->Bindings().bindings(0).subject() == "user:bob");
}

TEST_CASE("A waiter wakes when the bindings change, or at Interrupt", "[org]") {
  OrgHarness h;
  h.Onboard("retail", {"risk"});
  const int64_t now = h.org->bindings_revision();
  CHECK(h.org->WaitForBindingsAfter(now, absl::Milliseconds(10)) == now);
  std::thread writer([&] {
    absl::SleepFor(absl::Milliseconds(50));
    (void)h.org->AddMember("risk", OrgHarness::Member("alice", {"data-scientist"}), "");
  });
  CHECK(h.org->WaitForBindingsAfter(now, absl::Seconds(10)) == now + 1);
  writer.join();
  h.org->Interrupt();
  CHECK(h.org->interrupted());
  CHECK(h.org->WaitForBindingsAfter(now + 1, absl::Seconds(10)) == now + 1);
}

}  // namespace
}  // namespace fabrique::tower
