// `fabrique tower`: the control tower, where the company steers its AI factory: entities and
// squads, the portfolio of use cases ranked by value, quotas and the jobs they admit, approvals,
// and the budget.

#include <string>
#include <vector>

#include "tools/cli/command_flags.h"
#include "tools/cli/tower_commands.h"

namespace fabrique::cli {

int RunTower(const std::vector<std::string>& args) {
  static const std::vector<Subcommand> kSubcommands = {
      {"entities", "entities onboard|show|list",
       "Onboard an entity (subsidiary, business unit) through an approval; show, list",
       RunTowerEntities},
      {"squads", "squads create|show|list|update|members",
       "Squads of an entity and their members: roles, skills, allocation", RunTowerSquads},
      {"usecases", "usecases create|show|list|update|move",
       "Use cases: value, cost, WSJF inputs, skills needed; move them through the funnel",
       RunTowerUseCases},
      {"portfolio", "portfolio [gaps] [--entity E --squad S --status S]",
       "Use cases ranked by WSJF with ROI, spend, skills and models; the funnel; the gaps",
       RunTowerPortfolio},
      {"templates", "templates put|show|list",
       "The design authority's templates new use cases start from", RunTowerTemplates},
      {"quota", "quota set|show|list SQUAD | quota capacity set|show",
       "Squads' quotas by flavour and cohort, with usage; the cluster's capacity", RunTowerQuota},
      {"jobs", "jobs list|show|cancel|watch", "Queued, running and finished jobs", RunTowerJobs},
      {"submit", "submit SPEC.json --squad S",
       "Submit a training job and follow it to its end with progress", RunTowerSubmit},
      {"approvals", "approvals list|show|request|approve|reject|withdraw|rules",
       "Approvals of use cases, quota increases, budget overruns and onboardings",
       RunTowerApprovals},
      {"budget", "budget report|set|rates|usage",
       "Monthly budgets, the rate card, recorded usage and the showback report", RunTowerBudget},
  };
  return RunSubcommand(
      "fabrique tower",
      "Steers the AI factory through the control tower (fabrique-tower): the organisation "
      "(entities, squads, members and their skills), the portfolio of use cases ranked by value, "
      "quotas with fair share and the jobs they admit, approvals, and the budget. Every "
      "subcommand takes --target HOST:PORT or --data_dir DIR of a running 'fabrique up', calls "
      "with the credentials 'fabrique auth --help' describes, and has --help with an example.",
      kSubcommands, args);
}

}  // namespace fabrique::cli
