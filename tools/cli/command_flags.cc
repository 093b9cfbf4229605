#include "tools/cli/command_flags.h"

#include <iostream>

namespace fabrique::cli {

std::optional<int> ParseCommandFlags(core::FlagSet& flags, const std::vector<std::string>& args,
                                     core::ParsedArgs* parsed) {
  absl::StatusOr<core::ParsedArgs> result = flags.Parse(args);
  if (!result.ok()) {
    std::cerr << result.status().message() << "\n";
    return 2;
  }
  if (result->help) {
    std::cout << flags.Usage();
    return 0;
  }
  *parsed = *std::move(result);
  return std::nullopt;
}

}  // namespace fabrique::cli
