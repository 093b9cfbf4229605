#ifndef FABRIQUE_TOOLS_CLI_COMMAND_FLAGS_H_
#define FABRIQUE_TOOLS_CLI_COMMAND_FLAGS_H_

// What every `fabrique` subcommand does with its arguments before its own work: parse them,
// answer --help (exit 0), and refuse bad flags with the parser's message (exit 2).

#include <optional>
#include <string>
#include <vector>

#include "libs/core/flags.h"

namespace fabrique::cli {

// Parses `args` with `flags` into `*parsed`. Returns nullopt when the command should go on, or
// the exit code it should return at once (0 after printing the usage, 2 after a bad flag).
std::optional<int> ParseCommandFlags(core::FlagSet& flags, const std::vector<std::string>& args,
                                     core::ParsedArgs* parsed);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_COMMAND_FLAGS_H_
