#include "tools/cli/command_flags.h"

#include <algorithm>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace fabrique::cli {

std::optional<int> ParseCommandFlags(core::FlagSet& flags, const std::vector<std::string>& args,
                                     core::ParsedArgs* parsed) {
  absl::StatusOr<core::ParsedArgs> result = flags.Parse(args);
  if (!result.ok()) {
    std::cerr << result.status().message() << "\n\n" << flags.Usage();
    return 2;
  }
  if (result->help) {
    std::cout << flags.Usage();
    return 0;
  }
  *parsed = *std::move(result);
  return std::nullopt;
}

std::optional<int> ParseCommandArgs(core::FlagSet& flags, const std::vector<std::string>& args,
                                    size_t min_args, size_t max_args, absl::string_view expected,
                                    core::ParsedArgs* parsed) {
  if (std::optional<int> exit_code = ParseCommandFlags(flags, args, parsed)) return exit_code;
  const size_t count = parsed->positional.size();
  if (count < min_args || count > max_args) {
    return BadUsage(flags,
                    max_args == 0 ? "takes no arguments" : absl::StrCat("expected ", expected));
  }
  return std::nullopt;
}

int BadUsage(const core::FlagSet& flags, absl::string_view message) {
  std::cerr << flags.program() << ": " << message << "\n\n" << flags.Usage();
  return 2;
}

namespace {

std::string SubcommandUsage(absl::string_view program, absl::string_view description,
                            const std::vector<Subcommand>& subcommands) {
  size_t width = 0;
  for (const Subcommand& s : subcommands) width = std::max(width, s.synopsis.size());
  std::string usage = absl::StrCat("Usage: ", program, " SUBCOMMAND [flags]\n\n", description,
                                   "\n\nSubcommands:\n");
  for (const Subcommand& s : subcommands) {
    absl::StrAppend(&usage, absl::StrFormat("  %-*s  %s\n", width, s.synopsis, s.summary));
  }
  absl::StrAppend(&usage, "\nRun '", program, " SUBCOMMAND --help' for its flags.\n");
  return usage;
}

}  // namespace

int RunSubcommand(absl::string_view program, absl::string_view description,
                  const std::vector<Subcommand>& subcommands,
                  const std::vector<std::string>& args) {
  const std::string usage = SubcommandUsage(program, description, subcommands);
  if (args.empty()) {
    std::cerr << usage;
    return 2;
  }
  const std::string& name = args[0];
  if (name == "--help" || name == "-h" || name == "help") {
    std::cout << usage;
    return 0;
  }
  for (const Subcommand& s : subcommands) {
    if (s.name == name) return s.run(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  std::cerr << program << ": unknown subcommand '" << name << "'\n\n" << usage;
  return 2;
}

}  // namespace fabrique::cli
