// The YAML policy reader: the design's example, and errors naming the path (or the line, for a
// document that is not YAML at all).

#include "absl/status/status.h"
#include "catch2/catch.hpp"
#include "libs/auth/policy.h"

namespace fabrique::auth {
namespace {

void RequireYamlError(absl::string_view text, absl::string_view message) {
  const absl::Status status = Policy::Parse(text, PolicyFormat::kYaml).status();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.message() == message);
}

TEST_CASE("the design's YAML example parses as the CSV one does") {
  const absl::StatusOr<Policy> policy = Policy::Parse(R"(
roles:
  data-scientist:
    - {permission: models.read, scope: squad}
  design-authority:
    - permission: models.read
      scope: "*"
bindings:
  - {subject: "group:risk-ds", squad: risk, role: data-scientist}
  - {subject: "group:{squad}:{role}", squad: "{squad}", role: "{role}"}
)",
                                                      PolicyFormat::kYaml);
  REQUIRE(policy.ok());
  REQUIRE(policy->grants().size() == 2);
  CHECK(policy->grants()[0].where == "roles.data-scientist[0]");
  CHECK(policy->grants()[0].rule == "p, data-scientist, models.read, squad");
  CHECK(policy->grants()[1].scope == Scope::kAllSquads);
  REQUIRE(policy->bindings().size() == 2);
  CHECK(policy->bindings()[0].where == "bindings[0]");
  CHECK(policy->bindings()[0].rule == "g, group:risk-ds, risk:data-scientist");
  CHECK(policy->bindings()[1].pattern);
  const Decision decision =
      policy->Decide({"user:carol", {"fraud:data-scientist"}}, "models.read", "fraud");
  CHECK(decision.allowed);
}

TEST_CASE("an empty YAML document is a policy granting nothing") {
  const absl::StatusOr<Policy> policy = Policy::Parse("", PolicyFormat::kYaml);
  REQUIRE(policy.ok());
  CHECK(policy->grants().empty());
}

TEST_CASE("YAML errors name the path and what is wrong") {
  RequireYamlError("roles:\n  ds:\n    - {permission: models.reed, scope: squad}\n",
                   "roles.ds[0]: unknown permission 'models.reed'");
  RequireYamlError("roles:\n  ds:\n    - {permission: models.read, scope: team}\n",
                   "roles.ds[0]: bad scope 'team' (expected squad or *)");
  RequireYamlError("roles:\n  ds:\n    - {permission: models.read}\n",
                   "roles.ds[0]: missing scope");
  RequireYamlError("roles:\n  ds:\n    - {permission: models.read, scope: squad, x: 1}\n",
                   "roles.ds[0].x: unknown key (expected {permission, scope})");
  RequireYamlError("roles:\n  ds: models.read\n",
                   "roles.ds: expected a list of {permission, scope}");
  RequireYamlError("roles:\n  ds:\n    - models.read\n",
                   "roles.ds[0]: expected a map {permission, scope}");
  RequireYamlError("roles:\n  ds:\n    - {permission: [a], scope: squad}\n",
                   "roles.ds[0].permission: expected a string");
  RequireYamlError("roles: [a]\n", "roles: expected a map of role -> list of permissions");
  RequireYamlError("bindings:\n  - {subject: bob, squad: risk, role: ds}\n",
                   "bindings[0]: malformed subject 'bob' (expected user:NAME, group:NAME or "
                   "service:NAME)");
  RequireYamlError("bindings:\n  - {subject: 'user:bob', squad: 'ri sk', role: ds}\n",
                   "bindings[0]: bad squad 'ri sk' (expected a squad name, * or {squad})");
  RequireYamlError(
      "bindings:\n  - {subject: 'user:bob', squad: risk, role: ds}\n"
      "  - {subject: 'group:{team}', squad: risk, role: ds}\n",
      "bindings[1]: unknown placeholder '{team}' (only {squad} and {role} exist)");
  RequireYamlError("bindings:\n  - {subject: 'user:bob', role: ds}\n",
                   "bindings[0]: missing squad");
  RequireYamlError("bindings: {subject: 'user:bob'}\n",
                   "bindings: expected a list of {subject, squad, role}");
  RequireYamlError("rules: []\n", "rules: unknown key (expected roles or bindings)");
  RequireYamlError("- a\n- b\n", "top level: expected a map with roles and bindings");
}

TEST_CASE("a document that is not YAML names its line and column") {
  const absl::Status status =
      Policy::Parse("roles:\n  ds: [models.read\n", PolicyFormat::kYaml).status();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.message().substr(0, 5) == "line ");
  CHECK(status.message().find("column") != absl::string_view::npos);
}

}  // namespace
}  // namespace fabrique::auth
