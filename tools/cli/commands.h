#ifndef FABRIQUE_TOOLS_CLI_COMMANDS_H_
#define FABRIQUE_TOOLS_CLI_COMMANDS_H_

// The `fabrique` CLI's subcommands. Each takes the arguments after its name and returns the
// process exit code, by the rule every command follows (command_flags.h): 0 success, 1 the
// operation failed, 2 bad usage (a file named on the command line that cannot be read included).

#include <string>
#include <vector>

namespace fabrique::cli {

int RunUp(const std::string& self_path, const std::vector<std::string>& args);
int RunStatus(const std::vector<std::string>& args);
int RunVersion(const std::vector<std::string>& args);
// `fabrique auth SUBCOMMAND`: tokens, whoami, can-i, permissions.
int RunAuth(const std::vector<std::string>& args);
// `fabrique features SUBCOMMAND`, and its subcommands.
int RunFeatures(const std::vector<std::string>& args);
int RunFeaturesApply(const std::vector<std::string>& args);
int RunFeaturesIngest(const std::vector<std::string>& args);
int RunFeaturesLookup(const std::vector<std::string>& args);
// `fabrique models SUBCOMMAND`, and its subcommands (models_*.cc).
int RunModels(const std::vector<std::string>& args);
// `fabrique train SUBCOMMAND`.
int RunTrain(const std::vector<std::string>& args);
int RunModelsShow(const std::vector<std::string>& args);
int RunModelsVersions(const std::vector<std::string>& args);
int RunModelsUpload(const std::vector<std::string>& args);
int RunModelsDownload(const std::vector<std::string>& args);
int RunModelsPromote(const std::vector<std::string>& args);
int RunModelsApprove(const std::vector<std::string>& args);
int RunModelsReject(const std::vector<std::string>& args);
int RunModelsPromotion(const std::vector<std::string>& args);
int RunModelsPolicy(const std::vector<std::string>& args);
int RunModelsRequests(const std::vector<std::string>& args);
int RunModelsTraffic(const std::vector<std::string>& args);
int RunModelsAlias(const std::vector<std::string>& args);
int RunModelsArchive(const std::vector<std::string>& args);
int RunModelsAudit(const std::vector<std::string>& args);
// `fabrique registry SUBCOMMAND` (audit, gc); `fabrique models audit` is the same audit.
int RunRegistry(const std::vector<std::string>& args);
int RunRegistryAudit(const std::vector<std::string>& args);
// `fabrique predict MODEL`: scores entities through an inference server.
int RunPredict(const std::vector<std::string>& args);
// `fabrique serving`: what an inference server serves.
int RunServing(const std::vector<std::string>& args);
// `fabrique traffic MODEL`: plays entities against a served model and logs their outcomes.
int RunTraffic(const std::vector<std::string>& args);

int RunMonitor(const std::vector<std::string>& args);
int RunMonitorDrift(const std::vector<std::string>& args);
int RunMonitorPerformance(const std::vector<std::string>& args);
int RunMonitorAlerts(const std::vector<std::string>& args);
int RunMonitorPolicy(const std::vector<std::string>& args);
int RunMonitorReport(const std::vector<std::string>& args);

}  // namespace fabrique::cli

#endif  // FABRIQUE_TOOLS_CLI_COMMANDS_H_
