// Decisions: own-squad and "*" scopes, roles held in one squad or every squad, users, groups,
// services and pattern bindings, and the reasons a caller and `fabrique auth can-i` see.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "libs/auth/policy.h"

namespace fabrique::auth {
namespace {

using Strings = std::vector<std::string>;

Policy TestPolicy() {
  absl::StatusOr<Policy> policy = Policy::Parse(
      "p, data-scientist, models.read, squad\n"           // line 1
      "p, data-scientist, models.promote, squad\n"        // line 2
      "p, design-authority, models.read, *\n"             // line 3
      "p, design-authority, models.approve, squad\n"      // line 4
      "p, platform-admin, *, squad\n"                     // line 5
      "p, trainer, models.register_for_run, squad\n"      // line 6
      "p, product-owner, models.approve, squad\n"         // line 7
      "g, user:bob, risk:data-scientist\n"                // line 8
      "g, group:risk-ds, risk:data-scientist\n"           // line 9
      "g, user:dana, risk:design-authority\n"             // line 10
      "g, user:alice, *:platform-admin\n"                 // line 11
      "g, service:trainer, *:trainer\n"                   // line 12
      "g, group:{squad}:{role}, {squad}:{role}\n"         // line 13
      "g, group:{squad}-leads, {squad}:product-owner\n",  // line 14
      PolicyFormat::kCsv);
  REQUIRE(policy.ok());
  return *std::move(policy);
}

TEST_CASE("a squad-scoped grant holds only in the squad where the role is held") {
  const Policy policy = TestPolicy();
  const Subject bob{"user:bob", {}};
  const Decision in_risk = policy.Decide(bob, "models.read", "risk");
  CHECK(in_risk.allowed);
  CHECK(in_risk.roles == Strings{"data-scientist"});
  CHECK(in_risk.reason ==
        "user:bob holds models.read in squad risk: role data-scientist in squad risk (line 8: g, "
        "user:bob, risk:data-scientist), granted by line 1: p, data-scientist, models.read, squad");
  const Decision in_fraud = policy.Decide(bob, "models.read", "fraud");
  CHECK_FALSE(in_fraud.allowed);
  CHECK(in_fraud.roles.empty());
  CHECK(in_fraud.reason == "user:bob lacks models.read in squad fraud (holds: no role)");
}

TEST_CASE("a denial names the permission, the squad and the roles held there") {
  const Decision decision = TestPolicy().Decide({"user:bob", {}}, "models.approve", "risk");
  CHECK_FALSE(decision.allowed);
  CHECK(decision.reason == "user:bob lacks models.approve in squad risk (holds: data-scientist)");
}

TEST_CASE("a *-scoped grant holds in every squad, wherever the role is held") {
  const Policy policy = TestPolicy();
  const Subject dana{"user:dana", {}};
  CHECK(policy.Decide(dana, "models.read", "fraud").allowed);
  CHECK(policy.Decide(dana, "models.read", "*").allowed);
  CHECK(policy.Decide(dana, "models.approve", "risk").allowed);
  const Decision approve_fraud = policy.Decide(dana, "models.approve", "fraud");
  CHECK_FALSE(approve_fraud.allowed);
  CHECK(approve_fraud.reason == "user:dana lacks models.approve in squad fraud (holds: no role)");
  CHECK(policy.Decide(dana, "models.read", "fraud").reason ==
        "user:dana holds models.read in squad fraud: role design-authority in squad risk (line "
        "10: g, user:dana, risk:design-authority), granted by line 3: p, design-authority, "
        "models.read, *");
}

TEST_CASE("a role held in every squad grants its squad-scoped permissions everywhere") {
  const Policy policy = TestPolicy();
  const Subject alice{"user:alice", {}};
  for (const char* squad : {"risk", "fraud", "*"}) {
    const Decision decision = policy.Decide(alice, "models.admin", squad);
    CHECK(decision.allowed);
    CHECK(decision.roles == Strings{"platform-admin"});
  }
}

TEST_CASE("a platform-wide question needs a grant that holds in every squad") {
  const Policy policy = TestPolicy();
  const Decision decision = policy.Decide({"user:bob", {}}, "models.read", "*");
  CHECK_FALSE(decision.allowed);
  CHECK(decision.reason == "user:bob lacks models.read in every squad (holds: no role)");
  CHECK(policy.Decide({"service:trainer", {}}, "models.register_for_run", "*").allowed);
}

TEST_CASE("groups bind through their group: subject") {
  const Policy policy = TestPolicy();
  CHECK(policy.Decide({"user:carol", {"risk-ds"}}, "models.read", "risk").allowed);
  CHECK_FALSE(policy.Decide({"user:carol", {"fraud-ds"}}, "models.read", "risk").allowed);
  // A user named like a group is not in it.
  CHECK_FALSE(policy.Decide({"user:risk-ds", {}}, "models.read", "risk").allowed);
}

TEST_CASE("services bind through their service: subject only") {
  const Policy policy = TestPolicy();
  CHECK(policy.Decide({"service:trainer", {}}, "models.register_for_run", "fraud").allowed);
  CHECK_FALSE(policy.Decide({"user:trainer", {}}, "models.register_for_run", "fraud").allowed);
  CHECK_FALSE(policy.Decide({"service:monitor", {}}, "models.register_for_run", "fraud").allowed);
}

TEST_CASE("a pattern binding grants the role its group names in the squad it names") {
  const Policy policy = TestPolicy();
  const Decision decision =
      policy.Decide({"user:erin", {"fraud:data-scientist"}}, "models.promote", "fraud");
  CHECK(decision.allowed);
  CHECK(decision.reason ==
        "user:erin holds models.promote in squad fraud: role data-scientist in squad fraud (line "
        "13: g, group:{squad}:{role}, {squad}:{role}), granted by line 2: p, data-scientist, "
        "models.promote, squad");
  CHECK_FALSE(
      policy.Decide({"user:erin", {"fraud:data-scientist"}}, "models.promote", "risk").allowed);
  CHECK(policy.Decide({"user:fay", {"fraud-leads"}}, "models.approve", "fraud").allowed);
  CHECK(policy.RolesIn({"user:fay", {"fraud-leads"}}, "fraud") == Strings{"product-owner"});
}

TEST_CASE("a pattern matches plain names only, never * or text with a colon") {
  const Policy policy = TestPolicy();
  // "*:platform-admin" as a group must not make its holder an admin everywhere.
  CHECK_FALSE(
      policy.Decide({"user:mallory", {"*:platform-admin"}}, "models.admin", "risk").allowed);
  CHECK(policy.RolesIn({"user:mallory", {"*:platform-admin"}}, "*").empty());
  CHECK(policy.RolesIn({"user:mallory", {"risk:data:scientist"}}, "risk").empty());
  CHECK(policy.RolesIn({"user:mallory", {":data-scientist", "risk:"}}, "risk").empty());
  // A group a pattern binds in one squad only reaches that squad, even for platform-admin.
  CHECK(policy.Decide({"user:pat", {"risk:platform-admin"}}, "models.admin", "risk").allowed);
  CHECK_FALSE(policy.Decide({"user:pat", {"risk:platform-admin"}}, "models.admin", "*").allowed);
}

TEST_CASE("a pattern grants no service role, and its {role} no role reaching every squad") {
  const Policy policy = TestPolicy();
  // Anyone able to make a group could otherwise vouch for runs as the trainer...
  const Subject trainer{"user:mallory", {"risk:trainer"}};
  CHECK(policy.RolesHeld(trainer).empty());
  CHECK_FALSE(policy.Decide(trainer, "models.register_for_run", "risk").allowed);
  // ... or read every squad as a design authority (whose approvals in risk go too).
  const Subject authority{"user:mallory", {"risk:design-authority"}};
  CHECK(policy.RolesHeld(authority).empty());
  CHECK_FALSE(policy.Decide(authority, "models.read", "fraud").allowed);
  CHECK_FALSE(policy.Decide(authority, "models.approve", "risk").allowed);
  CHECK(policy.Decide(authority, "models.read", "risk").reason ==
        "user:mallory lacks models.read in squad risk (holds: no role)");
  // Roles of one squad still come by group, and explicit bindings still grant the others.
  CHECK(policy.Decide({"user:erin", {"risk:data-scientist"}}, "models.read", "risk").allowed);
  CHECK(policy.Decide({"user:pat", {"risk:platform-admin"}}, "models.admin", "risk").allowed);
  CHECK(policy.Decide({"user:dana", {}}, "models.read", "fraud").allowed);
  CHECK(policy.Decide({"service:trainer", {}}, "models.register_for_run", "risk").allowed);
}

TEST_CASE("a pattern naming a cross-squad role grants it; no pattern grants a service role") {
  absl::StatusOr<Policy> policy = Policy::Parse(
      "p, design-authority, models.read, *\n"                          // line 1
      "p, trainer, models.register_for_run, squad\n"                   // line 2
      "g, group:{squad}:{role}, {squad}:{role}\n"                      // line 3
      "g, group:{squad}:design-authority, {squad}:design-authority\n"  // line 4
      "g, group:{squad}-bots, {squad}:trainer\n"                       // line 5
      "g, service:trainer, *:trainer\n",                               // line 6
      PolicyFormat::kCsv);
  REQUIRE(policy.ok());
  const Decision read =
      policy->Decide({"user:ada", {"risk:design-authority"}}, "models.read", "fraud");
  CHECK(read.allowed);
  CHECK(absl::StrContains(read.reason, "line 4: g, group:{squad}:design-authority"));
  // Bound to a service after the patterns, the trainer's role is still out of their reach.
  CHECK(policy->RolesHeld({"user:mallory", {"risk-bots", "risk:trainer"}}).empty());
  CHECK_FALSE(
      policy->Decide({"user:mallory", {"risk-bots"}}, "models.register_for_run", "risk").allowed);
}

TEST_CASE("a decision without a squad is denied") {
  const Decision decision = TestPolicy().Decide({"user:alice", {}}, "models.read", "");
  CHECK_FALSE(decision.allowed);
  CHECK(decision.reason == "user:alice lacks models.read: the call names no squad to check it in");
}

TEST_CASE("RolesIn lists the roles held in a squad, including those held everywhere") {
  const Policy policy = TestPolicy();
  const Subject many{"user:bob", {"risk:product-owner", "risk-ds", "fraud:sre"}};
  CHECK(policy.RolesIn(many, "risk") == Strings{"data-scientist", "product-owner"});
  CHECK(policy.RolesIn(many, "fraud") == Strings{"sre"});
  CHECK(policy.RolesIn({"user:alice", {"risk:sre"}}, "risk") == Strings{"platform-admin", "sre"});
  CHECK(policy.RolesIn({"user:nobody", {}}, "risk").empty());
}

TEST_CASE("SquadsWith lists where a permission is held, or * when everywhere") {
  const Policy policy = TestPolicy();
  CHECK(policy.SquadsWith({"user:bob", {"fraud:data-scientist", "risk-ds"}}, "models.read") ==
        Strings{"fraud", "risk"});
  CHECK(policy.SquadsWith({"user:dana", {}}, "models.read") == Strings{"*"});
  CHECK(policy.SquadsWith({"user:dana", {}}, "models.approve") == Strings{"risk"});
  CHECK(policy.SquadsWith({"user:alice", {}}, "runs.submit") == Strings{"*"});
  CHECK(policy.SquadsWith({"user:bob", {}}, "models.admin").empty());
}

TEST_CASE("nothing is implicit: an empty policy denies everyone everything") {
  const absl::StatusOr<Policy> policy = Policy::Parse("", PolicyFormat::kCsv);
  REQUIRE(policy.ok());
  CHECK_FALSE(policy->Decide({"user:root", {"admin"}}, "models.read", "risk").allowed);
  CHECK(policy->SquadsWith({"user:root", {}}, "models.read").empty());
}

}  // namespace
}  // namespace fabrique::auth
