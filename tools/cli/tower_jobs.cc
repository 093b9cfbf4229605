// `fabrique tower jobs list | show | cancel | watch`: the tower's jobs (training runs, searches,
// retraining requests), their states and why they are in them.

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/registry_print.h"
#include "tools/cli/tower_args.h"
#include "tools/cli/tower_client.h"
#include "tools/cli/tower_commands.h"
#include "tools/cli/tower_follow.h"
#include "tools/cli/tower_print.h"
#include "tools/cli/tower_submit.h"

namespace fabrique::cli {
namespace {

void PrintJobOut(const v1::Job& job) { PrintJob(job, std::cout); }

int JobsList(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  std::string squad, use_case;
  std::vector<std::string> states;
  bool json = false;
  core::FlagSet flags("fabrique tower jobs list",
                      "Lists jobs, newest first, with their state and why they are in it.");
  flags.set_epilog("Example:\n  fabrique tower jobs list --squad risk --state queued,running\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("squad", &squad, "Only this squad's jobs");
  flags.Add("use_case", &use_case, "Only this use case's jobs");
  flags.Add("state", &states,
            absl::StrCat("Only these states (comma-separated or repeated): ",
                         EnumChoices(v1::JobState_descriptor())));
  flags.Add("json", &json, "Print the jobs as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 0, 0, "", &parsed)) return *code;
  v1::ListJobsRequest request;
  request.set_squad(squad);
  request.set_use_case_id(use_case);
  for (const std::string& list : states) {
    for (const std::string& text : SplitList(list)) {
      absl::StatusOr<v1::JobState> state =
          ParseTowerEnum<v1::JobState>(v1::JobState_descriptor(), "state", text);
      if (!state.ok()) return BadUsage(flags, state.status().message());
      request.add_states(*state);
    }
  }
  return ListTower<v1::ListJobsRequest, v1::ListJobsResponse>(
      flags.program(), connection, &TowerStub::ListJobs, request, "ListJobs", json,
      [](const v1::ListJobsResponse& all) { PrintJobs(all, std::cout); });
}

int JobsShow(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  bool json = false;
  core::FlagSet flags("fabrique tower jobs show",
                      "Shows a job: state and why, requests, priority and queue position, where "
                      "it runs, preemptions, usage, cost and the version it registered.");
  flags.set_usage_args("[flags] JOB");
  flags.set_epilog("Example:\n  fabrique tower jobs show job-01JD...\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("json", &json, "Print the job as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one JOB", &parsed)) return *code;
  v1::GetJobRequest request;
  request.set_id(parsed.positional[0]);
  return CallTower<v1::GetJobRequest, v1::Job>(flags.program(), connection, &TowerStub::GetJob,
                                               request, "GetJob " + request.id(), true, json,
                                               PrintJobOut);
}

int JobsCancel(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  std::string reason;
  bool json = false;
  core::FlagSet flags("fabrique tower jobs cancel",
                      "Cancels a job, and its trainer run or Kubernetes Job. Cancelling a job "
                      "that ended changes nothing (exit 0, saying how it ended).");
  flags.set_usage_args("[flags] JOB");
  flags.set_epilog("Example:\n  fabrique tower jobs cancel job-01JD... --reason 'wrong spec'\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("reason", &reason, "Why, recorded on the job");
  flags.Add("json", &json, "Print the job as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one JOB", &parsed)) return *code;
  v1::CancelJobRequest request;
  request.set_id(parsed.positional[0]);
  request.set_reason(reason);
  return CallTower<v1::CancelJobRequest, v1::Job>(
      flags.program(), connection, &TowerStub::CancelJob, request, "CancelJob " + request.id(),
      true, json, [](const v1::Job& job) {
        if (job.state() == v1::JOB_STATE_CANCELLED) {
          std::cout << "job " << job.id() << ": cancelled\n";
        } else {
          std::cout << "job " << job.id() << " already " << JobStateText(job.state())
                    << ": nothing to cancel\n";
        }
      });
}

// Prints every change of the jobs the request selects until interrupted.
int StreamJobs(const core::FlagSet& flags, const ConnectionFlags& connection,
               const std::string& squad) {
  absl::StatusOr<client::TowerClient> tower = ConnectTower(connection);
  if (!tower.ok()) return Fail(flags.program(), tower.status());
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context =
      tower->NewContext(absl::Hours(24 * 365));
  if (!context.ok()) return Fail(flags.program(), context.status());
  v1::WatchJobsRequest request;
  request.set_squad(squad);
  request.set_include_snapshot(true);
  auto reader = tower->stub()->WatchJobs(context->get(), request);
  v1::JobEvent event;
  while (reader->Read(&event)) {
    std::cout << FormatTimestamp(event.time()) << " " << JobChangeLine(event.job(), true)
              << std::endl;
  }
  const absl::Status status = tower->Error(reader->Finish(), "WatchJobs");
  if (!status.ok()) return Fail(flags.program(), status);
  return 0;
}

int JobsWatch(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  std::string squad, trainer_target;
  bool progress = true;
  core::FlagSet flags(
      "fabrique tower jobs watch",
      "Follows jobs. With JOB ids, prints each change of state with its reason (and a running "
      "training's progress) until every one has ended, then the jobs; exit 0 when all "
      "succeeded, 1 otherwise. Without, prints every change of every job (of --squad) until "
      "interrupted.");
  flags.set_usage_args("[flags] [JOB...]");
  flags.set_epilog(
      "Examples:\n  fabrique tower jobs watch job-01JD...\n"
      "  fabrique tower jobs watch --squad risk\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("squad", &squad, "Without JOB: only this squad's jobs");
  flags.Add("progress", &progress,
            "Show a running training's progress from the trainer (--noprogress: not)");
  flags.Add("trainer_target", &trainer_target,
            "Where the trainer is, for progress; default: as the tower is found (--data_dir)");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandFlags(flags, args, &parsed)) return *code;
  if (parsed.positional.empty()) return StreamJobs(flags, connection, squad);
  if (!squad.empty()) return BadUsage(flags, "--squad goes without JOB ids");
  absl::StatusOr<client::TowerClient> tower = ConnectTower(connection);
  if (!tower.ok()) return Fail(flags.program(), tower.status());
  FollowOptions options;
  if (progress) options.trainer = TrainerFor(connection, trainer_target);
  absl::StatusOr<std::map<std::string, v1::Job>> ended =
      FollowJobs(*tower, parsed.positional, options);
  if (!ended.ok()) return Fail(flags.program(), ended.status());
  return ReportEnded(flags.program(), *ended);
}

}  // namespace

int RunTowerJobs(const std::vector<std::string>& args) {
  static const std::vector<Subcommand> kSubcommands = {
      {"list", "list [--squad --use_case --state]", "List jobs, newest first", JobsList},
      {"show", "show JOB", "Show a job", JobsShow},
      {"cancel", "cancel JOB [--reason R]", "Cancel a job", JobsCancel},
      {"watch", "watch [JOB...] [--squad S]", "Follow jobs to their end, or every change",
       JobsWatch},
  };
  return RunSubcommand("fabrique tower jobs",
                       "Jobs are training runs, searches and retraining requests the tower "
                       "admits under quotas, by priority and fair share, and runs on the trainer "
                       "or as Kubernetes Jobs. Submit one with 'fabrique tower submit'.",
                       kSubcommands, args);
}

}  // namespace fabrique::cli
