#ifndef FABRIQUE_TOOLS_CLI_COMMAND_FLAGS_H_
#define FABRIQUE_TOOLS_CLI_COMMAND_FLAGS_H_

// What every `fabrique` subcommand does with its arguments before its own work: parse them,
// answer --help (exit 0), and refuse bad flags with the parser's message (exit 2). Commands with
// subcommands of their own (`fabrique models`, `fabrique registry`) dispatch through one table.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "libs/core/flags.h"

namespace fabrique::cli {

// Parses `args` with `flags` into `*parsed`. Returns nullopt when the command should go on, or
// the exit code it should return at once (0 after printing the usage, 2 after a bad flag, whose
// message and the usage go to stderr).
std::optional<int> ParseCommandFlags(core::FlagSet& flags, const std::vector<std::string>& args,
                                     core::ParsedArgs* parsed);

// Like ParseCommandFlags, and also refuses (exit 2, with the usage) fewer than `min_args` or more
// than `max_args` positional arguments; `expected` names them, e.g. "NAME VERSION".
std::optional<int> ParseCommandArgs(core::FlagSet& flags, const std::vector<std::string>& args,
                                    size_t min_args, size_t max_args, absl::string_view expected,
                                    core::ParsedArgs* parsed);

// Prints "<program>: <message>", a blank line and the usage to stderr; returns 2.
int BadUsage(const core::FlagSet& flags, absl::string_view message);

// One subcommand of a command: its name, what it does (one line of the command's help) and how
// it runs on the arguments after its name.
struct Subcommand {
  std::string name;
  std::string synopsis;  // e.g. "show NAME[:VERSION|@ALIAS]".
  std::string summary;   // e.g. "Show a model, or one version".
  std::function<int(const std::vector<std::string>&)> run;
};

// Runs the subcommand `args[0]` names with the rest; prints the command's help (built from
// `description` and the table) for help/--help (exit 0), and with an error for a missing or
// unknown subcommand (exit 2). `program` is e.g. "fabrique models".
int RunSubcommand(absl::string_view program, absl::string_view description,
                  const std::vector<Subcommand>& subcommands, const std::vector<std::string>& args);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_COMMAND_FLAGS_H_
