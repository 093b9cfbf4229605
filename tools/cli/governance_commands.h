#ifndef FABRIQUE_TOOLS_CLI_GOVERNANCE_COMMANDS_H_
#define FABRIQUE_TOOLS_CLI_GOVERNANCE_COMMANDS_H_

// The CLI's governance and bring-your-own-model commands: `fabrique models register` (a
// TorchScript file and its signature as a new version), `fabrique models evaluate` (an evaluation
// appended to a version) and `fabrique standards` (the design authority's standards). Each returns
// the process exit code: 0 success, 1 failure, 2 bad usage.

#include <ostream>
#include <string>
#include <vector>

#include "fabrique/v1/registry.pb.h"

namespace fabrique::cli {

int RunModelsRegister(const std::vector<std::string>& args);
int RunModelsEvaluate(const std::vector<std::string>& args);
// `fabrique models validate-capacity`: measured by an inference server, recorded as an evaluation.
int RunModelsValidateCapacity(const std::vector<std::string>& args);
int RunStandards(const std::vector<std::string>& args);

// The version's appended evaluations, one per line with who made them and when; nothing when it
// has none.
void PrintEvaluations(const v1::ModelVersion& version, std::ostream& out);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_GOVERNANCE_COMMANDS_H_
