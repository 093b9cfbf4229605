// `fabrique train submit | watch | show | list | cancel`: training runs on the trainer. `submit`
// sends a RunSpec (protobuf JSON) and follows the run to its end with a live progress line
// (epoch, loss, validation metric, samples/s, ETA); exit 0 when the run succeeded, 1 otherwise.

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "fabrique/v1/trainer.grpc.pb.h"
#include "google/protobuf/util/time_util.h"
#include "libs/client/typed_clients.h"
#include "libs/core/ids.h"
#include "libs/core/status_macros.h"
#include "tools/cli/command_flags.h"
#include "tools/cli/commands.h"
#include "tools/cli/connection.h"
#include "tools/cli/json_file.h"
#include "tools/cli/registry_args.h"
#include "tools/cli/registry_print.h"
#include "tools/cli/rpc_call.h"

namespace fabrique::cli {
namespace {

using google::protobuf::util::TimeUtil;

using TrainerFlags = ConnectionFlags;
using Trainer = client::TrainerClient;
using TrainerStub = v1::Trainer::Stub;

void AddTrainerFlags(core::FlagSet* flags, TrainerFlags* trainer) {
  AddConnectionFlags(flags, trainer, "trainer", "the trainer (fabrique-trainer)");
}

absl::StatusOr<Trainer> Connect(const TrainerFlags& flags) {
  return ConnectClient<Trainer>(flags, "trainer");
}

std::string State(v1::RunState state) {
  return ShortEnumName(v1::RunState_Name(state), "RUN_STATE_");
}

void PrintRun(const v1::Run& run, std::ostream& out) {
  out << absl::StrFormat("%-15s %s\n", "run:", run.run_id());
  out << absl::StrFormat("%-15s %s\n", "state:", State(run.state()));
  if (!run.failure_reason().empty()) {
    out << absl::StrFormat("%-15s %s\n", "failure:", run.failure_reason());
  }
  out << absl::StrFormat("%-15s %s (use case %s)\n", "model:", run.spec().model_name(),
                         run.spec().use_case_id().empty() ? "-" : run.spec().use_case_id());
  out << absl::StrFormat("%-15s %s by %s\n", "submitted:", FormatTimestamp(run.create_time()),
                         FormatPrincipal(run.submitted_by()));
  if (!run.dataset_id().empty()) {
    out << absl::StrFormat("%-15s %s: %d rows for training, %d for validation\n",
                           "dataset:", run.dataset_id(), run.split_counts().train_rows(),
                           run.split_counts().validation_rows());
  }
  if (!run.device().empty()) out << absl::StrFormat("%-15s %s\n", "device:", run.device());
  for (const v1::Metric& m : run.metrics()) {
    out << absl::StrFormat("  %-12s %.4f   (baseline %.4f, %s is better)\n", m.name(), m.value(),
                           m.baseline().value(), m.higher_is_better() ? "higher" : "lower");
  }
  if (run.has_registered_version()) {
    out << absl::StrFormat("%-15s %s:%d\n", "registered:", run.registered_version().model(),
                           run.registered_version().version());
  }
  // Where the time went, state by state: the dataset's share is the figure to watch.
  for (int i = 1; i < run.history_size(); ++i) {
    const int64_t ms =
        TimeUtil::DurationToMilliseconds(run.history(i).time() - run.history(i - 1).time());
    out << absl::StrFormat("  %-18s %8.2f s\n", State(run.history(i - 1).to_state()), ms / 1000.0);
  }
}

// Follows `run_id` to its end, drawing progress on stderr; returns the final record.
absl::StatusOr<v1::Run> Follow(const Trainer& trainer, const std::string& run_id) {
  const bool terminal = ::isatty(STDERR_FILENO) == 1;
  v1::WatchRunRequest request;
  request.set_run_id(run_id);
  ASSIGN_OR_RETURN(std::unique_ptr<grpc::ClientContext> context,
                   trainer.NewContext(absl::Hours(24)));
  auto reader = trainer.stub()->WatchRun(context.get(), request);
  v1::RunEvent event;
  v1::Run final;
  while (reader->Read(&event)) {
    if (event.has_final_run()) final = event.final_run();
    if (event.has_state_change()) {
      if (terminal) std::cerr << "\r\033[K";
      std::cerr << State(event.state_change().to_state())
                << (event.state_change().reason().empty() ? ""
                                                          : ": " + event.state_change().reason())
                << "\n";
    } else if (event.has_progress() && event.progress().epochs_total() > 0) {
      const v1::RunProgress& p = event.progress();
      const std::string line = absl::StrFormat(
          "epoch %d/%d  batch %d/%d  loss %.4f  %s %.4f  %.0f samples/s  ETA %ds", p.epoch(),
          p.epochs_total(), p.batch(), p.batches_per_epoch(), p.train_loss(),
          p.validation_metric().name().empty() ? "val" : p.validation_metric().name(),
          p.validation_metric().value(), p.samples_per_second(),
          static_cast<int>(TimeUtil::DurationToSeconds(p.eta())));
      if (terminal) {
        std::cerr << "\r\033[K" << line << std::flush;
        if (event.epoch_end()) std::cerr << "\n";
      } else if (event.epoch_end()) {
        std::cerr << line << "\n";
      }
    } else if (event.has_log()) {
      std::cerr << event.log().severity() << ": " << event.log().message() << "\n";
    }
  }
  RETURN_IF_ERROR(trainer.Error(reader->Finish(), "WatchRun " + run_id));
  return final;
}

// Follows the run to its end, prints it; exit 0 when it succeeded, 1 otherwise.
int FollowAndReport(const Trainer& trainer, const std::string& run_id, const std::string& program) {
  absl::StatusOr<v1::Run> final = Follow(trainer, run_id);
  if (!final.ok()) return Fail(program, final.status());
  PrintRun(*final, std::cout);
  return final->state() == v1::RUN_STATE_SUCCEEDED ? 0 : 1;
}

int RunTrainSubmit(const std::vector<std::string>& args) {
  TrainerFlags flags;
  std::string request_id;
  std::string squad;
  bool watch = true, validate_only = false;
  core::FlagSet flag_set(
      "fabrique train submit",
      "Submits a training run from SPEC.json (a fabrique.v1.RunSpec in protobuf JSON: model_name, "
      "features, label, task, family, optimizer, epochs, ...) and follows it to the end with a "
      "live progress line. Exit 0 when the run succeeded (its registered version is printed), 1 "
      "when it failed or was cancelled.");
  flag_set.set_usage_args("[flags] SPEC.json");
  AddTrainerFlags(&flag_set, &flags);
  flag_set.Add("squad", &squad,
               "Squad the run trains for: it owns the run and a model the run creates (you need "
               "runs.submit there); empty = the one squad where you hold runs.submit");
  flag_set.Add("request_id", &request_id,
               "Idempotency key: submitting again with it returns the same run");
  flag_set.Add("watch", &watch, "Follow the run to its end (--nowatch: print its id and return)");
  flag_set.Add("validate_only", &validate_only, "Check the spec with the trainer; queue nothing");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flag_set, args, 1, 1, "one SPEC.json", &parsed)) return *code;
  v1::SubmitRunRequest request;
  if (absl::Status read = ReadJsonFile(parsed.positional[0], request.mutable_spec()); !read.ok()) {
    return BadInput(flag_set.program(), read);
  }
  request.set_request_id(request_id.empty() ? core::IdGenerator::Default().Next() : request_id);
  request.set_validate_only(validate_only);
  request.set_squad(squad);
  absl::StatusOr<Trainer> trainer = Connect(flags);
  if (!trainer.ok()) return Fail(flag_set.program(), trainer.status());
  absl::StatusOr<v1::Run> run = trainer->Call(&TrainerStub::SubmitRun, request, "SubmitRun");
  if (!run.ok()) return Fail(flag_set.program(), run.status());
  if (validate_only) {
    std::cout << "the spec is valid: the run would train " << run->spec().model_name() << "\n";
    return 0;
  }
  std::cout << "submitted run " << run->run_id() << "\n";
  if (!watch) return 0;
  return FollowAndReport(*trainer, run->run_id(), flag_set.program());
}

int RunTrainWatch(const std::vector<std::string>& args) {
  TrainerFlags flags;
  core::FlagSet flag_set("fabrique train watch",
                         "Follows a run to its end with a live progress line, then prints it. "
                         "Exit 0 when it succeeded, 1 otherwise.");
  flag_set.set_usage_args("[flags] RUN_ID");
  AddTrainerFlags(&flag_set, &flags);
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flag_set, args, 1, 1, "one RUN_ID", &parsed)) return *code;
  absl::StatusOr<Trainer> trainer = Connect(flags);
  if (!trainer.ok()) return Fail(flag_set.program(), trainer.status());
  return FollowAndReport(*trainer, parsed.positional[0], flag_set.program());
}

int RunTrainShow(const std::vector<std::string>& args) {
  TrainerFlags flags;
  core::FlagSet flag_set("fabrique train show",
                         "Shows a run: state, dataset, metrics beside their baselines, the version "
                         "registered, and the time spent in each state.");
  flag_set.set_usage_args("[flags] RUN_ID");
  AddTrainerFlags(&flag_set, &flags);
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flag_set, args, 1, 1, "one RUN_ID", &parsed)) return *code;
  absl::StatusOr<Trainer> trainer = Connect(flags);
  if (!trainer.ok()) return Fail(flag_set.program(), trainer.status());
  v1::GetRunRequest request;
  request.set_run_id(parsed.positional[0]);
  absl::StatusOr<v1::Run> run =
      trainer->Call(&TrainerStub::GetRun, request, "GetRun " + request.run_id());
  if (!run.ok()) return Fail(flag_set.program(), run.status());
  PrintRun(*run, std::cout);
  return 0;
}

int RunTrainList(const std::vector<std::string>& args) {
  TrainerFlags flags;
  std::string model, state;
  core::FlagSet flag_set("fabrique train list", "Lists runs, newest first. Follows every page.");
  AddTrainerFlags(&flag_set, &flags);
  flag_set.Add("model", &model, "Only runs of this model");
  flag_set.Add("state", &state, "Only runs in this state (queued, training, succeeded, ...)");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flag_set, args, 0, 0, "", &parsed)) return *code;
  v1::ListRunsRequest request;
  request.set_model_name(model);
  if (!state.empty()) {
    v1::RunState parsed_state;
    if (!v1::RunState_Parse("RUN_STATE_" + absl::AsciiStrToUpper(state), &parsed_state)) {
      return BadUsage(flag_set, "--state '" + state + "' is not a run state");
    }
    request.set_state(parsed_state);
  }
  absl::StatusOr<Trainer> trainer = Connect(flags);
  if (!trainer.ok()) return Fail(flag_set.program(), trainer.status());
  // Printed once every page has come: a failed call prints only the error.
  std::ostringstream table;
  table << absl::StrFormat("%-28s %-20s %-18s %-22s %s\n", "RUN", "MODEL", "STATE", "SUBMITTED",
                           "REGISTERED");
  const absl::Status listed = trainer->CallPages(
      &TrainerStub::ListRuns, request, "ListRuns", [&table](const v1::ListRunsResponse& page) {
        for (const v1::Run& run : page.runs()) {
          table << absl::StrFormat(
              "%-28s %-20s %-18s %-22s %s\n", run.run_id(), run.spec().model_name(),
              State(run.state()), FormatTimestamp(run.create_time()),
              run.has_registered_version() ? absl::StrCat(run.registered_version().model(), ":",
                                                          run.registered_version().version())
                                           : "-");
        }
      });
  if (!listed.ok()) return Fail(flag_set.program(), listed);
  std::cout << table.str();
  return 0;
}

// Says what a cancel did: the trainer answers with the run as it stands, which may have ended
// before the cancel arrived. Cancelling is idempotent (the run is not running afterwards, as
// asked), so every answer exits 0; what matters is that a run that ended otherwise says how,
// rather than seeming to be cancelled.
int ReportCancel(const v1::Run& run) {
  switch (run.state()) {
    case v1::RUN_STATE_CANCELLED:
      std::cout << "run " << run.run_id() << ": cancelled\n";
      break;
    case v1::RUN_STATE_SUCCEEDED:
    case v1::RUN_STATE_FAILED:
      std::cout << "run " << run.run_id() << " already " << State(run.state())
                << ": nothing to cancel\n";
      break;
    default:
      std::cout << "run " << run.run_id() << ": " << State(run.state())
                << ", cancelling: it stops within one batch\n";
  }
  return 0;
}

int RunTrainCancel(const std::vector<std::string>& args) {
  TrainerFlags flags;
  std::string reason;
  core::FlagSet flag_set("fabrique train cancel",
                         "Cancels a run: a queued one at once, a running one within one batch; "
                         "it registers nothing. Cancelling an ended run changes nothing.");
  flag_set.set_usage_args("[flags] RUN_ID");
  flag_set.set_epilog(
      "Exit codes: 0 the run is cancelled, stops within one batch, or had already ended (then\n"
      "it says how: 'run R already succeeded: nothing to cancel'), 1 the trainer refused (an\n"
      "unknown run, one registering its version) or could not be reached, 2 bad usage.");
  AddTrainerFlags(&flag_set, &flags);
  flag_set.Add("reason", &reason, "Why, recorded on the run");
  core::ParsedArgs parsed;
  if (auto code = ParseCommandArgs(flag_set, args, 1, 1, "one RUN_ID", &parsed)) return *code;
  absl::StatusOr<Trainer> trainer = Connect(flags);
  if (!trainer.ok()) return Fail(flag_set.program(), trainer.status());
  v1::CancelRunRequest request;
  request.set_run_id(parsed.positional[0]);
  request.set_reason(reason);
  absl::StatusOr<v1::Run> run =
      trainer->Call(&TrainerStub::CancelRun, request, "CancelRun " + request.run_id());
  if (!run.ok()) return Fail(flag_set.program(), run.status());
  return ReportCancel(*run);
}

}  // namespace

int RunTrain(const std::vector<std::string>& args) {
  static const std::vector<Subcommand> kSubcommands = {
      {"submit", "submit SPEC.json", "Submit a run and follow it with a progress line",
       RunTrainSubmit},
      {"watch", "watch RUN_ID", "Follow a run to its end", RunTrainWatch},
      {"show", "show RUN_ID", "Show a run, its metrics and where the time went", RunTrainShow},
      {"list", "list", "List runs, newest first (--model, --state)", RunTrainList},
      {"cancel", "cancel RUN_ID", "Cancel a run; it registers nothing", RunTrainCancel},
  };
  return RunSubcommand("fabrique train",
                       "Trains models on the trainer (fabrique-trainer), from the feature store's "
                       "training sets to registered versions. Every subcommand takes --target "
                       "HOST:PORT or --data_dir DIR of a running 'fabrique up', and calls with "
                       "the credentials 'fabrique auth --help' describes.",
                       kSubcommands, args);
}

}  // namespace fabrique::cli
