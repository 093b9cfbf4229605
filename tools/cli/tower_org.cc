// `fabrique tower entities onboard | show | list`: entities (subsidiaries, business units).
// Onboarding asks for the entity with its budget, default quotas and first squads in one
// ENTITY_ONBOARDING approval; everything is created when it is approved.

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/core/ids.h"
#include "libs/core/status_macros.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/tower_args.h"
#include "tools/cli/tower_client.h"
#include "tools/cli/tower_commands.h"
#include "tools/cli/tower_print.h"

namespace fabrique::cli {
namespace {

struct OnboardFlags {
  std::string id;
  std::string name;
  std::string description;
  std::string budget;
  double soft = 0;
  double hard = 0;
  std::vector<std::string> squads;
  std::string cohort;
  QuotaFlags quotas;
  std::string request_id;
};

// Lays the flags over what the file gave: a flag given wins.
absl::Status ApplyOnboardFlags(const OnboardFlags& flags, v1::OnboardEntityRequest* request) {
  v1::OrgEntity* entity = request->mutable_entity();
  if (!flags.id.empty()) entity->set_id(flags.id);
  if (!flags.name.empty()) entity->set_display_name(flags.name);
  if (!flags.description.empty()) entity->set_description(flags.description);
  if (!flags.cohort.empty()) entity->set_default_cohort(flags.cohort);
  if (entity->id().empty()) {
    return absl::InvalidArgumentError("give the entity's id: --id or 'entity: {id: ...}' in FILE");
  }
  if (flags.quotas.any()) {
    v1::Quota defaults;
    for (const v1::ResourceQuota& q : entity->default_quotas()) *defaults.add_resources() = q;
    defaults.set_squad(entity->id());
    RETURN_IF_ERROR(ApplyQuotaFlags(flags.quotas, &defaults));
    *entity->mutable_default_quotas() = defaults.resources();
  }
  // --squad ID or ID=Display name.
  for (const std::string& text : flags.squads) {
    const std::pair<std::string, std::string> parts = absl::StrSplit(text, absl::MaxSplits('=', 1));
    v1::Squad* squad = request->add_squads();
    squad->set_id(parts.first);
    squad->set_display_name(parts.second);
  }
  for (v1::Squad& squad : *request->mutable_squads()) squad.set_entity(entity->id());
  if (!flags.budget.empty()) {
    ASSIGN_OR_RETURN(*request->mutable_budget()->mutable_monthly(),
                     ParseMoney("budget", flags.budget));
  }
  if (request->has_budget()) {
    v1::Budget* budget = request->mutable_budget();
    budget->set_scope(v1::BUDGET_SCOPE_ENTITY);
    budget->set_id(entity->id());
    if (flags.soft > 0) budget->set_soft_threshold_percent(flags.soft);
    if (flags.hard > 0) budget->set_hard_threshold_percent(flags.hard);
  }
  if (!flags.request_id.empty()) request->set_request_id(flags.request_id);
  if (request->request_id().empty()) request->set_request_id(core::IdGenerator::Default().Next());
  return absl::OkStatus();
}

int EntitiesOnboard(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  OnboardFlags onboard;
  bool json = false;
  core::FlagSet flags(
      "fabrique tower entities onboard",
      "Asks to onboard an entity (a subsidiary or business unit) with its monthly budget, the "
      "quotas its squads start with, and its first squads, from FILE (an OnboardEntityRequest "
      "in YAML or JSON: entity, squads, quotas, budget) or from flags; flags given win over the "
      "file. The tower answers an entity-onboarding approval: its id is printed, and the entity "
      "is created, in one write, when the approval is approved.");
  flags.set_usage_args("[flags] [FILE.yaml|FILE.json]");
  flags.set_epilog(
      "Example:\n"
      "  fabrique tower entities onboard --id retail --name 'Retail banking' \\\n"
      "      --budget '50000 EUR' --squad risk='Credit risk' --squad churn --cpu 16 --memory 64Gi\n"
      "  fabrique tower approvals approve APPROVAL_ID   (as a holder of the rule's role)\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("id", &onboard.id, "The entity's id, [a-z][a-z0-9-]*");
  flags.Add("name", &onboard.name, "Its display name");
  flags.Add("description", &onboard.description, "What it is");
  flags.Add("budget", &onboard.budget, "Monthly budget, e.g. '50000 EUR' (default currency EUR)");
  flags.Add("soft", &onboard.soft, "With --budget: percent at which an alert is raised (0 = 80)");
  flags.Add("hard", &onboard.hard,
            "With --budget: percent at which admissions are refused (0 = 100)");
  flags.Add("squad", &onboard.squads, "A first squad: ID or ID=Display name (repeatable)");
  flags.Add("cohort", &onboard.cohort, "Cohort its squads join; default the entity's id");
  flags.Add("cpu", &onboard.quotas.cpu, "Default CPU quota of its squads: 4, 500m");
  flags.Add("memory", &onboard.quotas.memory, "Default memory quota: 8Gi, 512Mi");
  flags.Add("gpu", &onboard.quotas.gpu, "Default GPU quota, in devices");
  flags.Add("flavor", &onboard.quotas.flavor, "Resource flavour of the default quotas");
  flags.Add("request_id", &onboard.request_id,
            "Idempotency key: asking again with it answers the same approval");
  flags.Add("json", &json, "Print the approval as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 1, "[FILE]", &parsed)) return *code;
  v1::OnboardEntityRequest request;
  if (!parsed.positional.empty()) {
    if (absl::Status read = ReadRecordFile(parsed.positional[0], &request); !read.ok()) {
      return BadInput(flags.program(), read);
    }
  }
  if (absl::Status applied = ApplyOnboardFlags(onboard, &request); !applied.ok()) {
    return BadUsage(flags, applied.message());
  }
  return CallTower<v1::OnboardEntityRequest, v1::Approval>(
      flags.program(), connection, &TowerStub::OnboardEntity, request,
      "OnboardEntity " + request.entity().id(), true, json, [&request](const v1::Approval& a) {
        std::cout << "onboarding of entity " << request.entity().id() << " waits for approval "
                  << a.id() << " (" << (a.required_approvals() == 0 ? 1 : a.required_approvals())
                  << " of role " << (a.required_role().empty() ? "-" : a.required_role()) << ")\n"
                  << "approval: " << a.id() << "\n"
                  << "decide with: fabrique tower approvals approve " << a.id() << "\n";
      });
}

int EntitiesShow(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  core::FlagSet flags("fabrique tower entities show",
                      "Shows an entity as JSON: its default quotas and cohort, its squads and "
                      "the approval that onboarded it.");
  flags.set_usage_args("[flags] ENTITY");
  flags.set_epilog("Example:\n  fabrique tower entities show retail\n");
  AddTowerFlags(&flags, &connection);
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one ENTITY", &parsed)) return *code;
  v1::GetOrgEntityRequest request;
  request.set_id(parsed.positional[0]);
  return CallTower<v1::GetOrgEntityRequest, v1::OrgEntity>(flags.program(), connection,
                                                           &TowerStub::GetEntity, request,
                                                           "GetEntity " + request.id(), true, true);
}

int EntitiesList(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  bool json = false;
  core::FlagSet flags("fabrique tower entities list",
                      "Lists the entities with their cohort and squads.");
  flags.set_epilog("Example:\n  fabrique tower entities list\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("json", &json, "Print the entities as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 0, "", &parsed)) return *code;
  return ListTower<v1::ListOrgEntitiesRequest, v1::ListOrgEntitiesResponse>(
      flags.program(), connection, &TowerStub::ListEntities, v1::ListOrgEntitiesRequest(),
      "ListEntities", json,
      [](const v1::ListOrgEntitiesResponse& all) { PrintEntities(all, std::cout); });
}

}  // namespace

int RunTowerEntities(const std::vector<std::string>& args) {
  static const std::vector<Subcommand> kSubcommands = {
      {"onboard", "onboard [FILE] [--id --name --budget --squad ...]",
       "Ask to onboard an entity; prints the approval to decide", EntitiesOnboard},
      {"show", "show ENTITY", "Show an entity", EntitiesShow},
      {"list", "list", "List the entities", EntitiesList},
  };
  return RunSubcommand("fabrique tower entities",
                       "Entities are subsidiaries or business units; each has squads, a "
                       "monthly budget and the quotas its squads start with.",
                       kSubcommands, args);
}

}  // namespace fabrique::cli
