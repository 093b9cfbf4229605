// `fabrique monitor`: what the monitor says of served models: drift per feature, live
// performance against training, alerts, the monitoring policy, and the report for business
// users.

#include <string>
#include <vector>

#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"

namespace fabrique::cli {

int RunMonitor(const std::vector<std::string>& args) {
  static const std::vector<Subcommand> kSubcommands = {
      {"drift", "drift MODEL[:VERSION|@ALIAS] [--from T --to T]",
       "Drift per feature: test, statistic, p-value, threshold, verdict", RunMonitorDrift},
      {"performance", "performance MODEL[:VERSION|@ALIAS] [--from T --to T --bucket D]",
       "Live performance from late outcomes, beside the training figures", RunMonitorPerformance},
      {"alerts", "alerts [MODEL] [--state S] [--ack ID [--comment C] [--silence D]]",
       "List alerts, or acknowledge (and silence) one", RunMonitorAlerts},
      {"policy", "policy set MODEL FILE.json | show MODEL | list | delete MODEL",
       "Set, show, list or delete monitoring policies", RunMonitorPolicy},
      {"report", "report MODEL [--from T --to T] --html FILE",
       "Write the model's report for business users as one self-contained HTML page",
       RunMonitorReport},
  };
  return RunSubcommand("fabrique monitor",
                       "Asks the monitor how served models behave: drift of their inputs and "
                       "outputs against training, performance on outcomes that arrived later, "
                       "the alerts raised, and the policy that decides them.",
                       kSubcommands, args);
}

}  // namespace fabrique::cli
