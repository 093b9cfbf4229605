// `fabrique models`: the model registry from the command line. Dispatches to its subcommands
// (each has --help); create and list live here, the others in models_*.cc.

#include <iostream>
#include <sstream>

#include "absl/strings/str_format.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/governance_commands.h"
#include "tools/cli/registry_args.h"
#include "tools/cli/registry_client.h"
#include "tools/cli/registry_print.h"

namespace fabrique::cli {
namespace {

constexpr char kDescription[] =
    "Works with the model registry (fabrique-registry): models, versions and their artifacts,\n"
    "aliases, governed promotion and the audit trail. Every subcommand takes --target HOST:PORT\n"
    "or --data_dir DIR of a running 'fabrique up', and calls as the token --token, "
    "$FABRIQUE_TOKEN\n"
    "or the credentials file gives (with --data_dir, one minted for you when you may read its\n"
    "signing key): the registry records and authorizes whom the token names ('fabrique auth').\n"
    "Exit codes: 0 success, 1 failure (the gRPC code and the server's message on stderr), 2 bad\n"
    "usage.";

int RunModelsCreate(const std::vector<std::string>& args) {
  RegistryFlags registry;
  std::string owner_squad;
  std::string use_case;
  std::string task = "binary_classification";
  std::string description;
  std::vector<std::string> tags;
  core::FlagSet flags("fabrique models create",
                      "Creates a model: a named line of versions owned by a squad for a use case. "
                      "The name is a lower-case letter, then a-z, 0-9, _ or -.");
  flags.set_usage_args("NAME --squad SQUAD --use_case USE_CASE [flags]");
  AddRegistryFlags(&flags, &registry);
  flags.Add("squad", &owner_squad, "Squad that owns the model (you need models.write there)");
  flags.Add("use_case", &use_case, "Control-tower use case the model serves");
  flags.Add("task", &task, "binary_classification, multiclass or regression");
  flags.Add("description", &description, "Free text");
  flags.Add("tag", &tags, "KEY=VALUE, repeatable");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one NAME", &parsed)) return *code;
  if (owner_squad.empty()) return BadUsage(flags, "--squad is required");
  if (use_case.empty()) return BadUsage(flags, "--use_case is required");
  v1::CreateModelRequest request;
  v1::Model* model = request.mutable_model();
  model->set_name(parsed.positional[0]);
  model->set_owner_squad(owner_squad);
  model->set_use_case_id(use_case);
  model->set_description(description);
  absl::StatusOr<v1::Task> parsed_task = ParseTask(task);
  if (!parsed_task.ok()) return BadUsage(flags, parsed_task.status().message());
  model->set_task(*parsed_task);
  if (absl::Status s = AddKeyValues(tags, "tag", model->mutable_tags()); !s.ok()) {
    return BadUsage(flags, s.message());
  }
  absl::StatusOr<RegistryClient> client = RegistryClient::Connect(registry);
  if (!client.ok()) return Fail(flags.program(), client.status());
  absl::StatusOr<v1::Model> created =
      client->Call(&RegistryStub::CreateModel, request, "CreateModel " + model->name());
  if (!created.ok()) return Fail(flags.program(), created.status());
  std::cout << "created model " << created->name() << "\n";
  PrintModel(*created, {}, std::cout);
  return 0;
}

int RunModelsList(const std::vector<std::string>& args) {
  RegistryFlags registry;
  v1::ListModelsRequest request;
  std::string squad;
  std::string use_case;
  std::string prefix;
  std::vector<std::string> tags;
  core::FlagSet flags("fabrique models list",
                      "Lists models by name: squad, use case, task, latest version and aliases. "
                      "Follows every page.");
  AddRegistryFlags(&flags, &registry);
  flags.Add("squad", &squad, "Only models this squad owns; empty = any");
  flags.Add("use_case", &use_case, "Only models of this use case; empty = any");
  flags.Add("tag", &tags, "KEY or KEY=VALUE the model must carry, repeatable");
  flags.Add("prefix", &prefix, "Only names that start with this");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 0, "", &parsed)) return *code;
  request.set_owner_squad(squad);
  request.set_use_case_id(use_case);
  request.set_name_prefix(prefix);
  for (const std::string& tag : tags) request.add_tags(tag);
  absl::StatusOr<RegistryClient> client = RegistryClient::Connect(registry);
  if (!client.ok()) return Fail(flags.program(), client.status());
  // Printed once every page has come: a failed call prints only the error.
  std::ostringstream table;
  table << absl::StrFormat("%-24s %-14s %-16s %-22s %-7s %s\n", "NAME", "SQUAD", "USE CASE", "TASK",
                           "LATEST", "ALIASES");
  const absl::Status listed = client->CallPages(
      &RegistryStub::ListModels, request, "ListModels", [&](const v1::ListModelsResponse& page) {
        for (const v1::Model& m : page.models()) {
          table << absl::StrFormat("%-24s %-14s %-16s %-22s %-7d %s\n", m.name(), m.owner_squad(),
                                   m.use_case_id(), TaskName(m.task()), m.latest_version(),
                                   AliasesSummary(m));
        }
      });
  if (!listed.ok()) return Fail(flags.program(), listed);
  std::cout << table.str();
  return 0;
}

}  // namespace

int RunModels(const std::vector<std::string>& args) {
  static const std::vector<Subcommand> kSubcommands = {
      {"create", "create NAME --squad S --use_case U", "Create a model", RunModelsCreate},
      {"list", "list", "List models (--squad, --use_case, --tag, --prefix)", RunModelsList},
      {"show", "show NAME[:VERSION|@ALIAS]", "Show a model and its latest version, or one version",
       RunModelsShow},
      {"versions", "versions [NAME...]", "List versions, newest first (--all, --metric 'auc>=0.8')",
       RunModelsVersions},
      {"upload", "upload FILE... [--register NAME]",
       "Upload files as artifacts; register a new version", RunModelsUpload},
      {"register", "register NAME --torchscript FILE --signature SIG.json",
       "Register a TorchScript module as a new version (creates NAME with --squad)",
       RunModelsRegister},
      {"evaluate", "evaluate NAME VERSION --kind K --metric N=V",
       "Append an evaluation (e.g. capacity) to a version", RunModelsEvaluate},
      {"validate-capacity", "validate-capacity NAME VERSION --qps Q",
       "Measure a version's latency and max qps on an inference server; record them",
       RunModelsValidateCapacity},
      {"download", "download REF -o PATH", "Download an artifact, verified (--resume continues)",
       RunModelsDownload},
      {"promote", "promote NAME VERSION --alias A",
       "Ask to move an alias through its gates (--dry_run)", RunModelsPromote},
      {"approve", "approve REQUEST_ID", "Approve a pending promotion", RunModelsApprove},
      {"reject", "reject REQUEST_ID", "Reject a pending promotion", RunModelsReject},
      {"promotion", "promotion REQUEST_ID", "Show a promotion request and its gates",
       RunModelsPromotion},
      {"requests", "requests [NAME]",
       "List promotion requests: the pending ones, or --state, --alias", RunModelsRequests},
      {"traffic", "traffic NAME [--canary P] [--routing entity|random] [--shadow]",
       "Show or set the canary share and shadow of the candidate alias", RunModelsTraffic},
      {"policy", "policy NAME ALIAS [--set FILE.json]",
       "Show or set the promotion policy of an alias", RunModelsPolicy},
      {"alias", "alias NAME [ALIAS [VERSION]]", "List, show, set (--expect N) or --delete aliases",
       RunModelsAlias},
      {"archive", "archive NAME VERSION", "Archive a version (it leaves every alias)",
       RunModelsArchive},
      {"audit", "audit [--model M] [--verify]", "Print the audit trail; --verify checks its chain",
       RunModelsAudit},
  };
  return RunSubcommand("fabrique models", kDescription, kSubcommands, args);
}

}  // namespace fabrique::cli
