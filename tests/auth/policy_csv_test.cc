// The CSV policy reader: the design's example, comments and layout, wildcards, and every error
// with its line and what is wrong.

#include "absl/status/status.h"
#include "catch2/catch.hpp"
#include "libs/auth/permissions.h"
#include "libs/auth/policy.h"

namespace fabrique::auth {
namespace {

absl::Status CsvError(absl::string_view text) {
  return Policy::Parse(text, PolicyFormat::kCsv).status();
}

void RequireCsvError(absl::string_view text, absl::string_view message) {
  const absl::Status status = CsvError(text);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.message() == message);
}

TEST_CASE("the design's CSV example parses, rule by rule, with lines") {
  const absl::StatusOr<Policy> policy = Policy::Parse(
      "# p, ROLE, PERMISSION, SCOPE\n"
      "p, data-scientist, models.read, squad\n"
      "p, design-authority, models.read, *\n"
      "\n"
      "   # indented comment\n"
      "g, group:risk-ds, risk:data-scientist\r\n"
      "g,user:alice,*:platform-admin\n"
      "g, service:trainer, *:trainer\n"
      "g, group:{squad}:{role}, {squad}:{role}\n",
      PolicyFormat::kCsv);
  REQUIRE(policy.ok());
  REQUIRE(policy->grants().size() == 2);
  CHECK(policy->grants()[0].role == "data-scientist");
  CHECK(policy->grants()[0].permission == "models.read");
  CHECK(policy->grants()[0].scope == Scope::kSquad);
  CHECK(policy->grants()[0].where == "line 2");
  CHECK(policy->grants()[1].scope == Scope::kAllSquads);
  CHECK(policy->grants()[1].rule == "p, design-authority, models.read, *");
  REQUIRE(policy->bindings().size() == 4);
  CHECK(policy->bindings()[0].subject == "group:risk-ds");
  CHECK(policy->bindings()[0].squad == "risk");
  CHECK(policy->bindings()[0].role == "data-scientist");
  CHECK(policy->bindings()[0].where == "line 6");
  CHECK_FALSE(policy->bindings()[0].pattern);
  CHECK(policy->bindings()[1].rule == "g, user:alice, *:platform-admin");
  CHECK(policy->bindings()[1].squad == "*");
  CHECK(policy->bindings()[3].pattern);
  CHECK(policy->bindings()[3].where == "line 9");
}

TEST_CASE("an empty or comment-only CSV is a policy granting nothing") {
  const absl::StatusOr<Policy> policy = Policy::Parse("# nothing yet\n\n", PolicyFormat::kCsv);
  REQUIRE(policy.ok());
  CHECK(policy->grants().empty());
  CHECK(policy->bindings().empty());
}

TEST_CASE("permission wildcards expand to the catalog at parse") {
  const absl::StatusOr<Policy> policy =
      Policy::Parse("p, admin, *, squad\np, da, models.*, *\n", PolicyFormat::kCsv);
  REQUIRE(policy.ok());
  size_t models = 0;
  for (const Permission& permission : AllPermissions()) {
    if (permission.name.substr(0, 7) == "models.") ++models;
  }
  REQUIRE(models > 5);
  CHECK(policy->grants().size() == AllPermissions().size() + models);
  const Grant& last = policy->grants().back();
  CHECK(last.role == "da");
  CHECK(last.permission.substr(0, 7) == "models.");
  CHECK(last.rule == "p, da, models.*, *");
  CHECK(last.where == "line 2");
}

TEST_CASE("CSV errors name the line and what is wrong") {
  RequireCsvError("p, ds, models.read, squad\nq, ds, models.read, squad\n",
                  "line 2: unknown line kind 'q' (expected p or g)");
  RequireCsvError("p, ds, models.reed, squad\n", "line 1: unknown permission 'models.reed'");
  RequireCsvError("p, ds, nothing.*, squad\n", "line 1: unknown permission 'nothing.*'");
  RequireCsvError("p, ds, models.read, team\n", "line 1: bad scope 'team' (expected squad or *)");
  RequireCsvError("p, ds, models.read\n",
                  "line 1: a p rule is p, ROLE, PERMISSION, SCOPE (got 3 fields)");
  RequireCsvError("p, d s, models.read, squad\n",
                  "line 1: bad role 'd s' (a role is letters, digits, '-', '_' and '.')");
  RequireCsvError("g, group:risk-ds, risk:ds, extra\n",
                  "line 1: a g rule is g, SUBJECT, SQUAD:ROLE (got 4 fields)");
}

TEST_CASE("CSV errors on malformed SQUAD:ROLE") {
  for (const char* bad : {"risk", "risk:", ":ds", "a:b:c"}) {
    RequireCsvError(std::string("\ng, user:bob, ") + bad + "\n",
                    std::string("line 2: malformed SQUAD:ROLE '") + bad +
                        "' (expected SQUAD:ROLE, e.g. risk:data-scientist)");
  }
  RequireCsvError("g, user:bob, ri sk:ds\n",
                  "line 1: bad squad 'ri sk' (expected a squad name, * or {squad})");
  RequireCsvError("g, user:bob, risk:*\n", "line 1: bad role '*' (expected a role name or {role})");
}

TEST_CASE("CSV errors on subjects") {
  for (const char* bad : {"bob", "team:risk", "user:", "user:bo b"}) {
    RequireCsvError(std::string("g, ") + bad + ", risk:ds\n",
                    std::string("line 1: malformed subject '") + bad +
                        "' (expected user:NAME, group:NAME or service:NAME)");
  }
}

TEST_CASE("CSV errors on placeholders") {
  RequireCsvError("g, group:{team}:{role}, risk:{role}\n",
                  "line 1: unknown placeholder '{team}' (only {squad} and {role} exist)");
  RequireCsvError("g, group:{squad}:{role}, {team}:{role}\n",
                  "line 1: unknown placeholder '{team}' (only {squad} and {role} exist)");
  RequireCsvError("g, group:{squad}, {squad}:{role}\n",
                  "line 1: placeholder '{role}' has nothing to match: it is not in the "
                  "subject 'group:{squad}'");
  RequireCsvError("g, group:{squad}{role}, {squad}:{role}\n",
                  "line 1: placeholders must be separated by text in '{squad}{role}'");
  RequireCsvError("g, group:{squad, risk:ds\n",
                  "line 1: malformed placeholder in '{squad' (a '{' without '}')");
  RequireCsvError("g, group:squad}, risk:ds\n",
                  "line 1: malformed placeholder in 'squad}' (a '}' without '{')");
  RequireCsvError("g, group:{squad}:x, {role}:x\n",
                  "line 1: bad squad '{role}' (expected a squad name, * or {squad})");
}

}  // namespace
}  // namespace fabrique::auth
