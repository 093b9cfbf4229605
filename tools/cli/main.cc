// fabrique: the command-line interface to the whole factory. One subcommand per area; each has
// --help. Exit codes scripts can trust (command_flags.h): 0 success, 1 the operation failed,
// 2 bad usage.

#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/core/grpc_log.h"
#include "libs/server/signals.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/governance_commands.h"
#include "tools/cli/suggest.h"
#include "tools/cli/tower_commands.h"

namespace {

constexpr char kUsage[] =
    "Usage: fabrique COMMAND [flags]\n"
    "\n"
    "Fabrique, an open AI factory: feature store, model registry, trainer, inference, monitor\n"
    "and control tower, over gRPC.\n"
    "\n"
    "Commands:\n"
    "  up        Start all six services on this machine and stay in the foreground\n"
    "  features  Apply feature definitions, ingest CSV, list groups (see 'features --help')\n"
    "  models    Models, versions, artifacts, aliases and promotion (see 'models --help')\n"
    "  standards The design authority's standards for promotions (see 'standards --help')\n"
    "  train     Submit, follow, list and cancel training runs (see 'train --help')\n"
    "  predict   Score entities with a served model through an inference server\n"
    "  serving   List what an inference server serves: versions, states, traffic\n"
    "  traffic   Play a CSV of entities against a served model, sending their labels as outcomes\n"
    "  monitor   Drift, live performance, alerts, policies and reports of served models\n"
    "  tower     Entities, squads, portfolio, quotas, jobs, approvals and budget\n"
    "  registry  The model registry's audit trail and garbage collection\n"
    "  auth      Tokens, who you are (whoami), what you may do (can-i), the permissions\n"
    "  status    Show the health of every service (exit 1 if any is down)\n"
    "  version   Print the version of fabrique and its libraries\n"
    "  help      Print this help, or 'help COMMAND [SUBCOMMAND]' a command's\n"
    "\n"
    "Commands that call a service take --target HOST:PORT, or --data_dir DIR of a running\n"
    "'fabrique up' (which writes where each service listens to DIR/endpoints.tsv). They speak\n"
    "TLS and prove who you are with a token: --token, $FABRIQUE_TOKEN, the credentials file, or\n"
    "one minted for you with --data_dir of your own 'fabrique up' (see 'fabrique auth --help').\n"
    "\n"
    "Exit codes, for every command:\n"
    "  0  success\n"
    "  1  the operation failed: a service refused it or could not be reached, or the work it\n"
    "     started (an ingest with --fail_on_rejects, a training run) did not succeed\n"
    "  2  bad usage: unknown command or flag, wrong arguments, or a file named on the command\n"
    "     line that cannot be read or parsed; nothing was asked of any service\n"
    "  130  'fabrique up' interrupted while starting services\n"
    "\n"
    "Run 'fabrique COMMAND --help' for a command's flags.\n";

using Command = std::function<int(const std::vector<std::string>&)>;

struct NamedCommand {
  const char* name;
  Command run;
};

const std::vector<NamedCommand>& Commands(const std::string& self_path) {
  static const std::vector<NamedCommand> commands = {
      {"up", [self_path](const auto& args) { return fabrique::cli::RunUp(self_path, args); }},
      {"features", fabrique::cli::RunFeatures},
      {"models", fabrique::cli::RunModels},
      {"standards", fabrique::cli::RunStandards},
      {"train", fabrique::cli::RunTrain},
      {"predict", fabrique::cli::RunPredict},
      {"serving", fabrique::cli::RunServing},
      {"traffic", fabrique::cli::RunTraffic},
      {"monitor", fabrique::cli::RunMonitor},
      {"tower", fabrique::cli::RunTower},
      {"registry", fabrique::cli::RunRegistry},
      {"auth", fabrique::cli::RunAuth},
      {"status", fabrique::cli::RunStatus},
      {"version", fabrique::cli::RunVersion},
  };
  return commands;
}

std::vector<std::string> CommandNames(const std::vector<NamedCommand>& commands) {
  std::vector<std::string> names;
  for (const NamedCommand& c : commands) names.push_back(c.name);
  names.push_back("help");
  return names;
}

int PrintUsage() {
  std::cout << kUsage;
  return 0;
}

int Dispatch(const std::vector<NamedCommand>& commands, std::vector<std::string> args);

// `fabrique help [COMMAND [SUBCOMMAND]]`: the overview, or `fabrique COMMAND [SUBCOMMAND] --help`.
// Help about help ("help help", "help --help") is the overview too, as `fabrique models help help`
// is the models overview.
int RunHelp(const std::vector<NamedCommand>& commands, std::vector<std::string> args) {
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    return PrintUsage();
  }
  args.push_back("--help");
  return Dispatch(commands, std::move(args));
}

// Runs `args[0]` with the rest; a name that is no command is a usage error suggesting the
// nearest one.
int Dispatch(const std::vector<NamedCommand>& commands, std::vector<std::string> args) {
  const std::string name = args[0];
  args.erase(args.begin());
  if (name == "--help" || name == "-h") return PrintUsage();
  if (name == "help") return RunHelp(commands, std::move(args));
  if (name == "--version") return fabrique::cli::RunVersion(args);
  for (const NamedCommand& c : commands) {
    if (name == c.name) return c.run(args);
  }
  return fabrique::cli::UsageError(
      "fabrique", absl::StrCat("unknown command '", name, "'",
                               fabrique::cli::DidYouMean(name, CommandNames(commands))));
}

}  // namespace

int main(int argc, char** argv) {
  // Blocked before any thread starts, so Ctrl-C reaches `up` as an ordinary event.
  fabrique::server::BlockTerminationSignals();
  fabrique::core::RouteGrpcLogsToJson();
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  const auto& commands = Commands(error ? argv[0] : self.string());
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    return fabrique::cli::UsageError(
        "fabrique",
        absl::StrCat("expected a command: ", absl::StrJoin(CommandNames(commands), ", ")));
  }
  return Dispatch(commands, std::move(args));
}
