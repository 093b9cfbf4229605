// The default policy `fabrique up` writes: it parses, and each role gets what the README says —
// in its own squad, in other squads, and platform-wide.

#include "libs/auth/default_policy.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "libs/auth/permissions.h"
#include "libs/auth/policy.h"

namespace fabrique::auth {
namespace {

using Strings = std::vector<std::string>;

const Policy& Default() {
  static const Policy* const policy = [] {
    absl::StatusOr<Policy> parsed = Policy::Parse(DefaultPolicyText("admin"), PolicyFormat::kCsv);
    REQUIRE(parsed.ok());
    return new Policy(*std::move(parsed));
  }();
  return *policy;
}

// The permissions a member of `role` in squad "risk" holds in `squad`, sorted.
Strings HeldIn(absl::string_view role, absl::string_view squad) {
  const Subject member{"user:member", {"risk:" + std::string(role)}};
  Strings held;
  for (const Permission& permission : AllPermissions()) {
    if (Default().Decide(member, permission.name, squad).allowed) {
      held.emplace_back(permission.name);
    }
  }
  return held;
}

TEST_CASE("the default policy parses, binds the admin and documents itself") {
  const std::string text = DefaultPolicyText("ops-lead");
  CHECK(absl::StrContains(text, "\ng, user:ops-lead, *:platform-admin\n"));
  CHECK(absl::StrContains(text, "\ng, group:{squad}:{role}, {squad}:{role}\n"));
  CHECK(absl::StrContains(text, "# Deny by default"));
  REQUIRE(Policy::Parse(text, PolicyFormat::kCsv).ok());
}

TEST_CASE("default: a data scientist explores, trains, registers and asks for promotion") {
  CHECK(HeldIn("data-scientist", "risk") == Strings{"features.schema.read",
                                                    "features.data.read",
                                                    "datasets.build",
                                                    "datasets.read",
                                                    "models.read",
                                                    "models.write",
                                                    "models.promote",
                                                    "models.reject",
                                                    "models.evaluate",
                                                    "runs.submit",
                                                    "runs.read",
                                                    "runs.cancel",
                                                    "inference.predict",
                                                    "inference.read",
                                                    "outcomes.log",
                                                    "monitoring.read",
                                                    "monitoring.policy.write",
                                                    "alerts.acknowledge",
                                                    "squads.read",
                                                    "usecases.read",
                                                    "jobs.submit",
                                                    "jobs.read",
                                                    "jobs.cancel",
                                                    "approvals.request",
                                                    "approvals.read"});
  CHECK(HeldIn("data-scientist", "fraud").empty());
}

TEST_CASE("default: a data engineer writes schemas and ingests") {
  CHECK(HeldIn("data-engineer", "risk") ==
        Strings{"features.schema.read", "features.schema.write", "features.data.read",
                "features.data.write", "datasets.read", "squads.read", "usecases.read"});
  CHECK(HeldIn("data-engineer", "fraud").empty());
}

TEST_CASE("default: a data steward classifies and reads personal data") {
  CHECK(HeldIn("data-steward", "risk") == Strings{"features.schema.read", "features.data.read",
                                                  "features.personal.read", "features.classify",
                                                  "datasets.read", "audit.read", "squads.read"});
}

TEST_CASE("default: the design authority reads across squads and approves where bound") {
  const Strings reads{
      "features.schema.read", "datasets.read",   "models.read", "audit.read",    "runs.read",
      "inference.read",       "monitoring.read", "squads.read", "usecases.read", "jobs.read",
      "approvals.read",       "budget.read"};
  CHECK(HeldIn("design-authority", "fraud") == reads);
  CHECK(HeldIn("design-authority", "*") == reads);
  CHECK(HeldIn("design-authority", "risk") == Strings{"features.schema.read",
                                                      "datasets.read",
                                                      "models.read",
                                                      "models.approve",
                                                      "models.reject",
                                                      "models.policy.write",
                                                      "models.evaluate",
                                                      "standards.write",
                                                      "audit.read",
                                                      "runs.read",
                                                      "inference.read",
                                                      "monitoring.read",
                                                      "squads.read",
                                                      "capacity.write",
                                                      "templates.write",
                                                      "usecases.read",
                                                      "jobs.read",
                                                      "approvals.read",
                                                      "approvals.decide",
                                                      "budget.read"});
}

TEST_CASE("default: an SRE reads everywhere and runs operations") {
  const Strings sre{"features.schema.read", "datasets.read",   "models.read",
                    "audit.read",           "runs.read",       "runs.cancel",
                    "inference.read",       "monitoring.read", "alerts.acknowledge",
                    "squads.read",          "usecases.read",   "jobs.read",
                    "jobs.cancel",          "approvals.read",  "budget.read"};
  CHECK(HeldIn("sre", "risk") == sre);
  CHECK(HeldIn("sre", "*") == sre);
}

TEST_CASE("default: a product owner reads, owns use cases and signs off") {
  CHECK(HeldIn("product-owner", "risk") ==
        Strings{"features.schema.read", "datasets.read", "models.read", "models.approve",
                "models.reject", "runs.read", "inference.read", "monitoring.read", "squads.read",
                "squads.members.write", "usecases.read", "usecases.write", "jobs.read",
                "approvals.request", "approvals.read", "approvals.decide", "budget.read"});
  CHECK(HeldIn("product-owner", "fraud").empty());
}

TEST_CASE("default: the admin holds everything everywhere; a squad's admin only there") {
  for (const Permission& permission : AllPermissions()) {
    CHECK(Default().Decide({"user:admin", {}}, permission.name, "*").allowed);
  }
  CHECK(HeldIn("platform-admin", "risk").size() == AllPermissions().size());
  CHECK(HeldIn("platform-admin", "fraud").empty());
}

// The permissions `service` holds platform-wide, sorted like the catalog.
Strings ServiceHolds(const std::string& service) {
  Strings held;
  for (const Permission& permission : AllPermissions()) {
    if (Default().Decide({"service:" + service, {}}, permission.name, "*").allowed) {
      held.emplace_back(permission.name);
    }
  }
  return held;
}

TEST_CASE("default: each service holds what its calls need, in every squad") {
  CHECK(ServiceHolds("trainer") ==
        Strings{"features.schema.read", "features.data.read", "features.personal.read",
                "datasets.build", "datasets.record_usage", "models.read", "models.write",
                "models.register_for_run", "bindings.read", "auth.delegate"});
  CHECK(ServiceHolds("inference") == Strings{"features.schema.read", "features.data.read",
                                             "features.personal.read", "models.read",
                                             "models.evaluate", "predictions.log", "bindings.read",
                                             "usage.record"});
  CHECK(ServiceHolds("monitor") ==
        Strings{"models.read", "runs.read", "bindings.read", "usecases.read", "jobs.submit"});
  CHECK(ServiceHolds("tower") == Strings{"models.read", "models.promote", "runs.submit",
                                         "runs.read", "runs.cancel", "auth.delegate"});
  CHECK(ServiceHolds("registry") == Strings{"monitoring.read", "bindings.read"});
  // The feature store calls no one; it follows the tower's bindings.
  CHECK(ServiceHolds("features") == Strings{"bindings.read"});
}

TEST_CASE("default: only the trainer and the inference servers hold their exclusive permissions") {
  const Subject people{"user:someone",
                       {"risk:data-scientist", "risk:data-engineer", "risk:data-steward",
                        "risk:design-authority", "risk:sre", "risk:product-owner"}};
  for (const char* exclusive : {"models.register_for_run", "predictions.log", "auth.delegate"}) {
    CHECK(Default().SquadsWith(people, exclusive).empty());
  }
}

TEST_CASE("default: a group named after a service's role grants nothing") {
  for (const char* service : {"trainer", "inference", "monitor", "tower"}) {
    const Subject member{"user:mallory",
                         {std::string("risk:") + service, std::string("*:") + service}};
    INFO(service);
    CHECK(Default().RolesHeld(member).empty());
    CHECK(HeldIn(service, "risk").empty());
  }
}

TEST_CASE("default: the readers across squads are granted by group only as the policy names them") {
  CHECK(Default().RolesHeld({"user:rita", {"risk:design-authority"}}) ==
        std::vector<std::pair<std::string, std::string>>{{"risk", "design-authority"}});
  CHECK(absl::StrContains(DefaultPolicyText("admin"),
                          "\ng, group:{squad}:design-authority, {squad}:design-authority\n"
                          "g, group:{squad}:sre, {squad}:sre\n"));
}

}  // namespace
}  // namespace fabrique::auth
