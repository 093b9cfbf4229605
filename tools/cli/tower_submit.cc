// `fabrique tower submit SPEC`: queues a job with the tower and follows it to its end: every
// change of state with its reason, and while it trains, the trainer run's progress. Exit 0 when
// it succeeded, 1 with the reason otherwise.

#include "tools/cli/tower_submit.h"

#include <iostream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "libs/core/ids.h"
#include "libs/core/status_macros.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/connection.h"
#include "tools/cli/input_file.h"
#include "tools/cli/tower_args.h"
#include "tools/cli/tower_client.h"
#include "tools/cli/tower_commands.h"
#include "tools/cli/tower_follow.h"
#include "tools/cli/tower_print.h"

namespace fabrique::cli {

absl::Status ReadJobSpecFile(const std::string& path, v1::JobSpec* spec) {
  ASSIGN_OR_RETURN(std::string text, ReadInputFile(path));
  if (!absl::EndsWith(path, ".json")) {
    absl::StatusOr<std::string> json = YamlToJson(text);
    if (!json.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", json.status().message()));
    }
    text = *std::move(json);
  }
  const auto as_job = google::protobuf::util::JsonStringToMessage(text, spec);
  if (as_job.ok()) return absl::OkStatus();
  spec->Clear();
  v1::RunSpec run;
  const auto as_run = google::protobuf::util::JsonStringToMessage(text, &run);
  if (as_run.ok()) {
    *spec->mutable_training() = std::move(run);
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": neither a fabrique.v1.JobSpec (", std::string(as_job.message()),
                   ") nor a fabrique.v1.RunSpec (", std::string(as_run.message()), ")"));
}

absl::Status BuildSubmitRequest(const SubmitFlags& flags, const v1::JobSpec& spec,
                                v1::SubmitJobRequest* request) {
  *request->mutable_spec() = spec;
  v1::JobSpec* job = request->mutable_spec();
  if (flags.squad.empty()) {
    return absl::InvalidArgumentError("--squad is required: the squad whose quota runs the job");
  }
  request->set_squad(flags.squad);
  request->set_use_case_id(flags.use_case.empty() ? spec.training().use_case_id() : flags.use_case);
  if (job->has_training() && job->training().use_case_id().empty()) {
    job->mutable_training()->set_use_case_id(request->use_case_id());
  }
  v1::ResourceRequest* resources = job->mutable_resources();
  if (!flags.cpu.empty()) {
    ASSIGN_OR_RETURN(int64_t millicores, ParseMillicores("cpu", flags.cpu));
    if (millicores == 0) return absl::InvalidArgumentError("--cpu must be above 0");
    resources->set_cpu_cores(millicores / 1000.0);
  }
  if (!flags.memory.empty()) {
    ASSIGN_OR_RETURN(int64_t bytes, ParseBytes("memory", flags.memory));
    resources->set_memory_bytes(bytes);
  }
  if (flags.gpu != -1) {
    if (flags.gpu < 0) return absl::InvalidArgumentError("--gpu must not be negative");
    resources->set_gpus(flags.gpu);
  }
  if (!flags.flavor.empty()) resources->set_flavor(flags.flavor);
  if (!flags.priority.empty()) {
    int32_t priority = 0;
    if (!absl::SimpleAtoi(flags.priority, &priority)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--priority '", flags.priority, "': a whole number, e.g. 100"));
    }
    job->mutable_priority()->set_value(priority);
  }
  if (!flags.executor.empty()) {
    ASSIGN_OR_RETURN(
        v1::Executor executor,
        ParseTowerEnum<v1::Executor>(v1::Executor_descriptor(), "executor", flags.executor));
    job->set_executor(executor);
  }
  if (!flags.kind.empty()) {
    ASSIGN_OR_RETURN(v1::JobKind kind,
                     ParseTowerEnum<v1::JobKind>(v1::JobKind_descriptor(), "kind", flags.kind));
    job->set_kind(kind);
  }
  if (flags.max_runtime < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--max_runtime must not be negative");
  }
  if (flags.max_runtime > absl::ZeroDuration()) {
    job->mutable_max_runtime()->set_seconds(absl::ToInt64Seconds(flags.max_runtime));
  }
  if (!flags.image.empty()) job->set_image(flags.image);
  request->set_trigger(v1::JOB_TRIGGER_MANUAL);
  request->set_reason(flags.reason);
  request->set_request_id(flags.request_id.empty() ? core::IdGenerator::Default().Next()
                                                   : flags.request_id);
  request->set_wait_for_approval(flags.wait_for_approval);
  return absl::OkStatus();
}

std::optional<client::TrainerClient> TrainerFor(const ConnectionFlags& tower,
                                                const std::string& trainer_target) {
  ConnectionFlags trainer = tower;
  if (!trainer_target.empty()) {
    trainer.target = trainer_target;
    trainer.data_dir.clear();
  } else if (tower.data_dir.empty() && !tower.target.empty()) {
    return std::nullopt;  // The tower was named by address: the trainer's is unknown.
  }
  absl::StatusOr<client::TrainerClient> client =
      ConnectClient<client::TrainerClient>(trainer, "trainer");
  if (!client.ok()) return std::nullopt;
  return *std::move(client);
}

int ReportEnded(const std::string& program, const std::map<std::string, v1::Job>& ended) {
  int code = 0;
  for (const auto& [id, job] : ended) {
    PrintJob(job, std::cout);
    if (job.state() == v1::JOB_STATE_SUCCEEDED) continue;
    code = kExitFailure;
    std::string why = job.failure_reason().empty() ? job.state_reason() : job.failure_reason();
    std::cerr << program << ": job " << id << " " << JobStateText(job.state())
              << (why.empty() ? "" : absl::StrCat(": ", why)) << "\n";
  }
  return code;
}

int RunTowerSubmit(const std::vector<std::string>& args) {
  ConnectionFlags connection;
  SubmitFlags submit;
  bool wait = true, progress = true, json = false;
  std::string trainer_target;
  core::FlagSet flags(
      "fabrique tower submit",
      "Queues a job with the tower from SPEC (a fabrique.v1.JobSpec, or a trainer RunSpec that "
      "becomes its training, in JSON or YAML), under the squad's quota, and follows it to its "
      "end: each change of state with its reason (what it waits for, why it was preempted), "
      "and while it trains, the trainer run's progress (epoch, loss, validation metric, ETA). "
      "Exit 0 when it succeeded, 1 with the reason when it failed, was cancelled or was refused "
      "(FAILED_PRECONDITION when no quota could ever admit it, RESOURCE_EXHAUSTED past a hard "
      "budget threshold, NOT_FOUND for an unknown squad or use case).");
  flags.set_usage_args("[flags] SPEC.json|SPEC.yaml");
  flags.set_epilog(
      "Example:\n"
      "  fabrique tower submit fraud-run.json --squad risk --use_case fraud-scoring \\\n"
      "      --cpu 2 --memory 4Gi --priority 100\n"
      "Past a hard budget threshold, --wait_for_approval waits on a budget-overrun approval.\n");
  AddTowerFlags(&flags, &connection);
  flags.Add("squad", &submit.squad, "The squad whose quota runs it (required)");
  flags.Add("use_case", &submit.use_case, "The use case it serves; default the RunSpec's");
  flags.Add("cpu", &submit.cpu, "CPU it asks for: cores (2) or millicores (500m); default 1");
  flags.Add("memory", &submit.memory, "Memory it asks for: 4Gi, 512Mi; default 1Gi");
  flags.Add("gpu", &submit.gpu, "GPUs it asks for");
  flags.Add("flavor", &submit.flavor, "Resource flavour, e.g. a100; default 'default'");
  flags.Add("priority", &submit.priority,
            "Priority overriding the one from the use case's WSJF (a whole number)");
  flags.Add("executor", &submit.executor,
            "Where it runs: local (the trainer) or kubernetes; default the tower's");
  flags.Add("kind", &submit.kind, "training, search or retraining; default from the spec");
  flags.Add("max_runtime", &submit.max_runtime, "Killed and failed after this long, e.g. 2h");
  flags.Add("image", &submit.image, "Kubernetes only: the container image");
  flags.Add("reason", &submit.reason, "Why it is submitted, recorded on the job");
  flags.Add("request_id", &submit.request_id,
            "Idempotency key: submitting again with it answers the same job");
  flags.Add("wait_for_approval", &submit.wait_for_approval,
            "Past a hard budget threshold, wait for a budget-overrun approval instead of failing");
  flags.Add("wait", &wait, "Follow the job to its end (--nowait: print its id and return)");
  flags.Add("progress", &progress, "Show the trainer run's progress (--noprogress: not)");
  flags.Add("trainer_target", &trainer_target,
            "Where the trainer is, for progress; default: as the tower is found (--data_dir)");
  flags.Add("json", &json, "Print the job as JSON");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flags, args, 1, 1, "one SPEC file", &parsed)) return *code;
  v1::JobSpec spec;
  if (absl::Status read = ReadJobSpecFile(parsed.positional[0], &spec); !read.ok()) {
    return BadInput(flags.program(), read);
  }
  v1::SubmitJobRequest request;
  if (absl::Status built = BuildSubmitRequest(submit, spec, &request); !built.ok()) {
    return BadUsage(flags, built.message());
  }
  absl::StatusOr<client::TowerClient> tower = ConnectTower(connection);
  if (!tower.ok()) return Fail(flags.program(), tower.status());
  // Safe to retry: the request id makes a second submit answer the first job.
  absl::StatusOr<v1::Job> job =
      tower->CallIdempotent(&TowerStub::SubmitJob, request, "SubmitJob in squad " + submit.squad);
  if (!job.ok()) return Fail(flags.program(), job.status());
  std::cout << "submitted job " << job->id() << " (squad " << job->squad() << ", priority "
            << job->priority() << ")" << std::endl;
  if (!wait) {
    if (json) PrintJson(*job);
    return 0;
  }
  FollowOptions options;
  if (progress) options.trainer = TrainerFor(connection, trainer_target);
  absl::StatusOr<std::map<std::string, v1::Job>> ended = FollowJobs(*tower, {job->id()}, options);
  if (!ended.ok()) return Fail(flags.program(), ended.status());
  if (json) {
    for (const auto& [id, final] : *ended) PrintJson(final);
    return ended->begin()->second.state() == v1::JOB_STATE_SUCCEEDED ? 0 : kExitFailure;
  }
  return ReportEnded(flags.program(), *ended);
}

}  // namespace fabrique::cli
