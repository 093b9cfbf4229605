#ifndef FABRIQUE_TOOLS_CLI_COMMAND_FLAGS_H_
#define FABRIQUE_TOOLS_CLI_COMMAND_FLAGS_H_

// What every `fabrique` subcommand does with its arguments before its own work: parse them,
// answer --help (exit 0), and refuse bad usage (exit 2) with one line saying why and where the
// help is, rather than the whole help. Commands with subcommands of their own (`fabrique models`,
// `fabrique registry`) dispatch through one table, which suggests the nearest subcommand for a
// typo.
//
// The exit codes of every command (commands.h): 0 success; 1 the operation failed (the service
// refused it, could not be reached, or the work it started did not succeed); 2 bad usage: the
// command line is wrong, or a file it names cannot be read or parsed, so nothing was asked of
// any service.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "libs/core/flags.h"

namespace fabrique::cli {

// The exit codes above.
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Parses `args` with `flags` into `*parsed`. Returns nullopt when the command should go on, or
// the exit code it should return at once (0 after printing the usage, 2 after a bad flag).
std::optional<int> ParseCommandFlags(core::FlagSet& flags, const std::vector<std::string>& args,
                                     core::ParsedArgs* parsed);

// Like ParseCommandFlags, and also refuses (exit 2) fewer than `min_args` or more than
// `max_args` positional arguments; `expected` names them, e.g. "NAME VERSION".
std::optional<int> ParseCommandArgs(core::FlagSet& flags, const std::vector<std::string>& args,
                                    size_t min_args, size_t max_args, absl::string_view expected,
                                    core::ParsedArgs* parsed);

// Prints "<program>: <message>" and "see '<program> --help'" to stderr; returns 2.
int UsageError(absl::string_view program, absl::string_view message);
// UsageError for the program `flags` describes.
int BadUsage(const core::FlagSet& flags, absl::string_view message);

// Prints "<program>: <the status's message>" to stderr; returns 2. For a file named on the
// command line that cannot be read or parsed: the message says which and why, so the help would
// add nothing.
int BadInput(absl::string_view program, const absl::Status& status);

// The flags `flags` declares, without their dashes, as its help lists them.
std::vector<std::string> FlagNames(const core::FlagSet& flags);

// One subcommand of a command: its name, what it does (one line of the command's help) and how
// it runs on the arguments after its name.
struct Subcommand {
  std::string name;
  std::string synopsis;  // e.g. "show NAME[:VERSION|@ALIAS]".
  std::string summary;   // e.g. "Show a model, or one version".
  std::function<int(const std::vector<std::string>&)> run;
};

// Runs the subcommand `args[0]` names with the rest; prints the command's help (built from
// `description` and the table) for help/--help (exit 0). A missing subcommand lists the names;
// an unknown one suggests the nearest (exit 2 for both). `program` is e.g. "fabrique models".
int RunSubcommand(absl::string_view program, absl::string_view description,
                  const std::vector<Subcommand>& subcommands, const std::vector<std::string>& args);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_COMMAND_FLAGS_H_
