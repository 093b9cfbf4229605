#include "tools/cli/command_flags.h"

#include <algorithm>
#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tools/cli/suggest.h"

namespace fabrique::cli {
namespace {

// The parser says "unknown flag --x for PROGRAM; run 'PROGRAM --help'": the program already
// heads the line and the help is pointed to after it, so both are dropped, and the nearest flag
// is suggested instead.
std::string FlagError(const core::FlagSet& flags, absl::string_view message) {
  absl::string_view text = message;
  if (!absl::ConsumePrefix(&text, "unknown flag --")) return std::string(message);
  const std::string name(text.substr(0, text.find(' ')));
  return absl::StrCat("unknown flag --", name, DidYouMean(name, FlagNames(flags), "--"));
}

}  // namespace

std::optional<int> ParseCommandFlags(core::FlagSet& flags, const std::vector<std::string>& args,
                                     core::ParsedArgs* parsed) {
  absl::StatusOr<core::ParsedArgs> result = flags.Parse(args);
  if (!result.ok()) return BadUsage(flags, FlagError(flags, result.status().message()));
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
    if (max_args == 0) {
      return BadUsage(flags,
                      absl::StrCat("takes no arguments (got '", parsed->positional[0], "')"));
    }
    return BadUsage(flags, absl::StrCat("expected ", expected, ", got ", count,
                                        count == 1 ? " argument" : " arguments"));
  }
  return std::nullopt;
}

int UsageError(absl::string_view program, absl::string_view message) {
  std::cerr << program << ": " << message << "\nsee '" << program << " --help'\n";
  return kExitUsage;
}

int BadUsage(const core::FlagSet& flags, absl::string_view message) {
  return UsageError(flags.program(), message);
}

int BadInput(absl::string_view program, const absl::Status& status) {
  std::cerr << program << ": " << status.message() << "\n";
  return kExitUsage;
}

std::vector<std::string> FlagNames(const core::FlagSet& flags) {
  std::vector<std::string> names;
  for (absl::string_view line : absl::StrSplit(flags.Usage(), '\n')) {
    if (!absl::ConsumePrefix(&line, "  --")) continue;
    names.emplace_back(line.substr(0, line.find_first_of(" (")));
  }
  return names;
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
  std::vector<std::string> names;
  for (const Subcommand& s : subcommands) names.push_back(s.name);
  if (args.empty()) {
    return UsageError(program, absl::StrCat("expected a subcommand: ", absl::StrJoin(names, ", ")));
  }
  const std::string& name = args[0];
  if (name == "--help" || name == "-h" || name == "help") {
    // `fabrique models help promote` is `fabrique models promote --help`.
    if (name == "help" && args.size() > 1) {
      return RunSubcommand(program, description, subcommands, {args[1], "--help"});
    }
    std::cout << SubcommandUsage(program, description, subcommands);
    return 0;
  }
  for (const Subcommand& s : subcommands) {
    if (s.name == name) return s.run(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  return UsageError(program,
                    absl::StrCat("unknown subcommand '", name, "'", DidYouMean(name, names)));
}

}  // namespace fabrique::cli
