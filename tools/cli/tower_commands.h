#ifndef FABRIQUE_TOOLS_CLI_TOWER_COMMANDS_H_
#define FABRIQUE_TOOLS_CLI_TOWER_COMMANDS_H_

// `fabrique tower` and its areas. Each takes the arguments after its name and returns the exit code
// every command returns: 0 success, 1 the tower refused or could not be reached (or a submitted job
// did not succeed), 2 bad usage.

#include <string>
#include <vector>

namespace fabrique::cli {

// `fabrique tower SUBCOMMAND`: the control tower (tower_command.cc dispatches to the areas).
int RunTower(const std::vector<std::string>& args);

// Organisation: entities, squads and their members (tower_org.cc, tower_squads.cc).
int RunTowerEntities(const std::vector<std::string>& args);
int RunTowerSquads(const std::vector<std::string>& args);
// Portfolio: use cases, the ranked portfolio and its gaps, templates (tower_portfolio.cc,
// tower_usecases.cc).
int RunTowerUseCases(const std::vector<std::string>& args);
int RunTowerPortfolio(const std::vector<std::string>& args);
int RunTowerTemplates(const std::vector<std::string>& args);
// Quotas and the cluster's declared capacity (tower_quota.cc).
int RunTowerQuota(const std::vector<std::string>& args);
// Jobs, and submitting one to follow it (tower_jobs.cc, tower_submit.cc).
int RunTowerJobs(const std::vector<std::string>& args);
int RunTowerSubmit(const std::vector<std::string>& args);
// Approvals and their rules (tower_approvals.cc).
int RunTowerApprovals(const std::vector<std::string>& args);
// Budgets, the rate card, usage and the showback report (tower_budget.cc).
int RunTowerBudget(const std::vector<std::string>& args);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_TOWER_COMMANDS_H_
