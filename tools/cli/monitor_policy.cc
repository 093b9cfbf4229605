// `fabrique monitor policy`: a model's monitoring policy as JSON (the MonitoringPolicy message
// of monitor.proto): set from a file, shown, listed, deleted. MODEL '' is the platform's
// default policy, which applies to models without their own. A policy the monitor refuses
// (impossible thresholds) is exit 1 with its words, naming the field.

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/client/typed_clients.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/connection.h"
#include "tools/cli/json_file.h"
#include "tools/cli/rpc_call.h"

namespace fabrique::cli {
namespace {

using MonitorStub = client::MonitorClient::Stub;

std::string PolicyName(const std::string& model) {
  return model.empty() ? std::string("the default policy") : model;
}

}  // namespace

int RunMonitorPolicy(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  core::FlagSet flags(
      "fabrique monitor policy",
      "Sets, shows, lists or deletes monitoring policies. 'set MODEL FILE.json' stores the "
      "MonitoringPolicy in FILE (protobuf JSON: window, evaluation_interval, min_samples, drift "
      "thresholds, performance floors, max_missing_rate_increase, no_traffic_after, retrain) as "
      "MODEL's; 'show MODEL' prints the policy in force for it (its own, else the default); "
      "'list' prints every stored policy; 'delete MODEL' removes MODEL's own policy. MODEL '' "
      "is the platform's default policy.");
  flags.set_usage_args("[flags] set MODEL FILE.json | show MODEL | list | delete MODEL");
  AddConnectionFlags(&flags, &connection, "monitor", "the monitor (fabrique-monitor)");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 3,
                                   "set MODEL FILE | show MODEL | list | "
                                   "delete MODEL",
                                   &parsed)) {
    return *code;
  }
  const std::vector<std::string>& p = parsed.positional;
  const std::string& action = p[0];
  const size_t wanted = action == "set" ? 3 : action == "list" ? 1 : 2;
  if (action != "set" && action != "show" && action != "list" && action != "delete") {
    return BadUsage(flags,
                    absl::StrCat("unknown action '", action, "': set, show, list or delete"));
  }
  if (p.size() != wanted) {
    return BadUsage(flags, absl::StrCat(action, " takes ",
                                        action == "set"    ? "MODEL FILE.json"
                                        : action == "list" ? "nothing more"
                                                           : "MODEL"));
  }
  v1::SetMonitoringPolicyRequest set;
  if (action == "set") {
    if (absl::Status read = ReadJsonFile(p[2], set.mutable_policy()); !read.ok()) {
      return BadInput(flags.program(), read);
    }
    if (!set.policy().model().empty() && set.policy().model() != p[1]) {
      return BadUsage(flags, absl::StrCat(p[2], " is the policy of '", set.policy().model(),
                                          "', not of '", p[1], "'"));
    }
    set.mutable_policy()->set_model(p[1]);
  }
  absl::StatusOr<client::MonitorClient> monitor =
      ConnectClient<client::MonitorClient>(connection, "monitor");
  if (!monitor.ok()) return Fail(flags.program(), monitor.status());
  if (action == "set") {
    absl::StatusOr<v1::MonitoringPolicy> stored = monitor->Call(
        &MonitorStub::SetMonitoringPolicy, set, "SetMonitoringPolicy " + PolicyName(p[1]));
    if (!stored.ok()) return Fail(flags.program(), stored.status());
    PrintJson(*stored);
    return 0;
  }
  if (action == "show") {
    v1::GetMonitoringPolicyRequest request;
    request.set_model(p[1]);
    absl::StatusOr<v1::MonitoringPolicy> policy = monitor->CallIdempotent(
        &MonitorStub::GetMonitoringPolicy, request, "GetMonitoringPolicy " + PolicyName(p[1]));
    if (!policy.ok()) return Fail(flags.program(), policy.status());
    if (policy->model() != p[1]) {
      std::cerr << PolicyName(p[1]) << " has no policy of its own; "
                << (policy->has_update_time() ? "the default policy applies"
                                              : "the built-in defaults apply")
                << ":\n";
    }
    PrintJson(*policy);
    return 0;
  }
  if (action == "list") {
    v1::ListMonitoringPoliciesResponse all;
    absl::Status listed = monitor->CallPages(
        &MonitorStub::ListMonitoringPolicies, v1::ListMonitoringPoliciesRequest(),
        "ListMonitoringPolicies", [&all](const v1::ListMonitoringPoliciesResponse& page) {
          for (const v1::MonitoringPolicy& policy : page.policies()) *all.add_policies() = policy;
        });
    if (!listed.ok()) return Fail(flags.program(), listed);
    PrintJson(all);
    return 0;
  }
  v1::DeleteMonitoringPolicyRequest request;
  request.set_model(p[1]);
  absl::StatusOr<v1::DeleteMonitoringPolicyResponse> deleted = monitor->Call(
      &MonitorStub::DeleteMonitoringPolicy, request, "DeleteMonitoringPolicy " + PolicyName(p[1]));
  if (!deleted.ok()) return Fail(flags.program(), deleted.status());
  std::cout << "deleted the policy of " << PolicyName(p[1]) << "\n";
  return 0;
}

}  // namespace fabrique::cli
