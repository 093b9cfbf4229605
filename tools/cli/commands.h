#ifndef FABRIQUE_TOOLS_CLI_COMMANDS_H_
#define FABRIQUE_TOOLS_CLI_COMMANDS_H_

// The `fabrique` CLI's subcommands. Each takes the arguments after its name and returns the
// process exit code: 0 success, 1 failure, 2 bad usage.

#include <string>
#include <vector>

namespace fabrique::cli {

int RunUp(const std::string& self_path, const std::vector<std::string>& args);
int RunStatus(const std::vector<std::string>& args);
int RunVersion(const std::vector<std::string>& args);
// `fabrique features SUBCOMMAND`, and its subcommands.
int RunFeatures(const std::vector<std::string>& args);
int RunFeaturesApply(const std::vector<std::string>& args);
int RunFeaturesIngest(const std::vector<std::string>& args);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_COMMANDS_H_
