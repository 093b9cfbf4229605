// `fabrique tower portfolio [gaps]` and `fabrique tower templates put | show | list`: the
// portfolio ranked by WSJF with the funnel, the factory's capacity gaps (skills short, people
// over-allocated), and the design authority's templates.

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/tower_args.h"
#include "tools/cli/tower_client.h"
#include "tools/cli/tower_commands.h"
#include "tools/cli/tower_print.h"

namespace fabrique::cli {
namespace {

int PortfolioGaps(const core::FlagSet& flags, const ConnectionFlags& connection,
                  const std::string& entity, bool json) {
  v1::GetCapacityGapsRequest request;
  request.set_entity(entity);
  return CallTower<v1::GetCapacityGapsRequest, v1::CapacityGaps>(
      flags.program(), connection, &TowerStub::GetCapacityGaps, request, "GetCapacityGaps", true,
      json, [](const v1::CapacityGaps& gaps) { PrintCapacityGaps(gaps, std::cout); });
}

int TemplatesPut(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  core::FlagSet flags(
      "fabrique tower templates put",
      "Publishes or replaces a design-authority template from FILE (a Template in YAML or "
      "JSON: name, description, run_spec, monitoring_policy, promotion_policy, retraining, "
      "skills_needed, standards). New use cases start from it with 'usecases create "
      "--template NAME'.");
  flags.set_usage_args("[flags] FILE.yaml|FILE.json");
  flags.set_epilog(
      "Example:\n  fabrique tower templates put tabular-classifier.yaml\n"
      "  where the file holds e.g.\n"
      "    name: tabular-classifier\n"
      "    description: Gradient-free MLP on tabular features\n"
      "    skills_needed: [{skill: data-science, fte: 1}, {skill: mlops, fte: 0.5}]\n"
      "    retraining: {canary_percent: 10}\n"
      "    standards: [model-card, fairness-review]\n");
  AddTowerFlags(&flags, &connection);
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one FILE", &parsed)) return *code;
  v1::PutTemplateRequest request;
  if (absl::Status read = ReadRecordFile(parsed.positional[0], request.mutable_template_());
      !read.ok()) {
    return BadInput(flags.program(), read);
  }
  if (request.template_().name().empty()) {
    return BadInput(flags.program(),
                    absl::InvalidArgumentError(absl::StrCat(
                        parsed.positional[0], ": the template has no name; add 'name: ...'")));
  }
  return CallTower<v1::PutTemplateRequest, v1::Template>(
      flags.program(), connection, &TowerStub::PutTemplate, request,
      "PutTemplate " + request.template_().name(), false, true);
}

int TemplatesShow(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  core::FlagSet flags("fabrique tower templates show",
                      "Shows a template as JSON, as 'templates put' reads it back.");
  flags.set_usage_args("[flags] NAME");
  flags.set_epilog("Example:\n  fabrique tower templates show tabular-classifier > t.json\n");
  AddTowerFlags(&flags, &connection);
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one template NAME", &parsed)) return *code;
  v1::GetTemplateRequest request;
  request.set_name(parsed.positional[0]);
  return CallTower<v1::GetTemplateRequest, v1::Template>(
      flags.program(), connection, &TowerStub::GetTemplate, request,
      "GetTemplate " + request.name(), true, true);
}

int TemplatesList(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  bool json = false;
  core::FlagSet flags("fabrique tower templates list",
                      "Lists the templates with the skills they ask for.");
  flags.set_epilog("Example:\n  fabrique tower templates list\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("json", &json, "Print the templates as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 0, "", &parsed)) return *code;
  return CallTower<v1::ListTemplatesRequest, v1::ListTemplatesResponse>(
      flags.program(), connection, &TowerStub::ListTemplates, v1::ListTemplatesRequest(),
      "ListTemplates", true, json,
      [](const v1::ListTemplatesResponse& all) { PrintTemplates(all, std::cout); });
}

}  // namespace

int RunTowerPortfolio(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  std::string entity, squad, page_token;
  std::vector<std::string> statuses;
  int64_t limit = 0;
  bool json = false;
  core::FlagSet flags(
      "fabrique tower portfolio",
      "Shows the portfolio: use cases ranked by WSJF (cost of delay over job size) with their "
      "ROI, status, compute spent against the estimate, whether their squad covers the skills "
      "they need, and their models in production; then the totals and the funnel with each "
      "stage's count and median lead time. 'portfolio gaps' shows the skills the factory is "
      "short of and the people allocated beyond 100%.");
  flags.set_usage_args("[flags] [gaps]");
  flags.set_epilog(
      "Examples:\n  fabrique tower portfolio --entity retail --status approved,building\n"
      "  fabrique tower portfolio gaps\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("entity", &entity, "Only use cases of this entity");
  flags.Add("squad", &squad, "Only this squad's use cases");
  flags.Add("status", &statuses,
            absl::StrCat("Only these statuses (comma-separated or repeated): ",
                         EnumChoices(v1::UseCaseStatus_descriptor())));
  flags.Add("limit", &limit, "At most this many use cases (one page); 0 = all");
  flags.Add("page_token", &page_token, "With --limit: the page after this token");
  flags.Add("json", &json, "Print the portfolio as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 1, "nothing or 'gaps'", &parsed)) return *code;
  if (!parsed.positional.empty()) {
    if (parsed.positional[0] != "gaps") {
      return BadUsage(flags, absl::StrCat("unknown subcommand '", parsed.positional[0],
                                          "': the only one is 'gaps'"));
    }
    if (!squad.empty() || !statuses.empty()) {
      return BadUsage(flags, "'portfolio gaps' takes only --entity");
    }
    return PortfolioGaps(flags, connection, entity, json);
  }
  if (limit < 0) return BadUsage(flags, "--limit must not be negative");
  v1::GetPortfolioRequest request;
  request.set_entity(entity);
  request.set_squad(squad);
  for (const std::string& list : statuses) {
    for (const std::string& text : SplitList(list)) {
      absl::StatusOr<v1::UseCaseStatus> status =
          ParseTowerEnum<v1::UseCaseStatus>(v1::UseCaseStatus_descriptor(), "status", text);
      if (!status.ok()) return BadUsage(flags, status.status().message());
      request.add_statuses(*status);
    }
  }
  const auto print = [](const v1::Portfolio& portfolio) { PrintPortfolio(portfolio, std::cout); };
  if (limit > 0) {
    request.set_page_size(static_cast<int32_t>(limit));
    request.set_page_token(page_token);
    return CallTower<v1::GetPortfolioRequest, v1::Portfolio>(flags.program(), connection,
                                                             &TowerStub::GetPortfolio, request,
                                                             "GetPortfolio", true, json, print);
  }
  // Every page, merged: the funnel and totals are the same on each, so the first page's stand.
  absl::StatusOr<client::TowerClient> tower = ConnectTower(connection);
  if (!tower.ok()) return Fail(flags.program(), tower.status());
  v1::Portfolio all;
  bool first = true;
  const absl::Status listed = tower->CallPages(
      &TowerStub::GetPortfolio, request, "GetPortfolio", [&](const v1::Portfolio& page) {
        if (first) {
          all = page;
          first = false;
        } else {
          for (const v1::PortfolioEntry& entry : page.entries()) *all.add_entries() = entry;
        }
      });
  if (!listed.ok()) return Fail(flags.program(), listed);
  all.clear_next_page_token();
  return ShowAnswer<v1::Portfolio>(all, json, print);
}

int RunTowerTemplates(const std::vector<std::string>& args) {
  static const std::vector<Subcommand> kSubcommands = {
      {"put", "put FILE", "Publish or replace a template", TemplatesPut},
      {"show", "show NAME", "Show a template as JSON", TemplatesShow},
      {"list", "list", "List the templates", TemplatesList},
  };
  return RunSubcommand("fabrique tower templates",
                       "The design authority's reference assets: a run spec, a monitoring "
                       "policy and a promotion policy with their defaults, the skills and "
                       "standards a use case built from it needs.",
                       kSubcommands, args);
}

}  // namespace fabrique::cli
