// fabrique: the command-line interface to the whole factory. One subcommand per area; each has
// --help. Exit codes scripts can trust: 0 success, 1 failure, 2 bad usage.

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "libs/core/grpc_log.h"
#include "libs/server/signals.h"
#include "tools/cli/commands.h"

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
    "  train     Submit, follow, list and cancel training runs (see 'train --help')\n"
    "  registry  The model registry's audit trail and garbage collection\n"
    "  status    Show the health of every service (exit 1 if any is down)\n"
    "  version   Print the version of fabrique and its libraries\n"
    "  help      Print this help\n"
    "\n"
    "Run 'fabrique COMMAND --help' for a command's flags.\n";

}  // namespace

int main(int argc, char** argv) {
  // Blocked before any thread starts, so Ctrl-C reaches `up` as an ordinary event.
  fabrique::server::BlockTerminationSignals();
  fabrique::core::RouteGrpcLogsToJson();
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "up") {
    std::error_code error;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
    return fabrique::cli::RunUp(error ? argv[0] : self.string(), args);
  }
  if (command == "features") return fabrique::cli::RunFeatures(args);
  if (command == "models") return fabrique::cli::RunModels(args);
  if (command == "train") return fabrique::cli::RunTrain(args);
  if (command == "registry") return fabrique::cli::RunRegistry(args);
  if (command == "status") return fabrique::cli::RunStatus(args);
  if (command == "version" || command == "--version") return fabrique::cli::RunVersion(args);
  std::cerr << "fabrique: unknown command '" << command << "'\n\n" << kUsage;
  return 2;
}
