#include "services/trainer/one_shot_run.h"

#include <atomic>
#include <cstdio>
#include <iostream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"
#include "libs/core/file_io.h"
#include "libs/core/log.h"
#include "libs/core/status_macros.h"
#include "libs/server/signals.h"

namespace fabrique::services {
namespace {

// The principal the run is recorded for: the user it acts for, or the trainer itself, whose
// calls to its peers then carry no on-behalf-of (remote_ports.cc).
v1::Principal Submitter(const OneShotOptions& options) {
  v1::Principal principal;
  principal.set_subject(options.submitted_by.empty() ? "service:trainer" : options.submitted_by);
  principal.set_squad(options.squad);
  return principal;
}

// One line of progress per state change, epoch, trial and log line; nothing for the throttled
// progress within an epoch.
void PrintEvent(const v1::RunEvent& event) {
  const std::string& run = event.run_id();
  if (event.has_state_change()) {
    const v1::RunStateChange& change = event.state_change();
    std::cout << "run " << run << ": " << v1::RunState_Name(change.to_state())
              << (change.reason().empty() ? "" : absl::StrCat(" (", change.reason(), ")")) << "\n";
  } else if (event.has_progress() && event.epoch_end()) {
    const v1::RunProgress& p = event.progress();
    std::cout << absl::StrFormat("run %s: epoch %d/%d train_loss %.4f validation_loss %.4f %s %.4f",
                                 run, p.epoch(), p.epochs_total(), p.train_loss(),
                                 p.validation_loss(), p.validation_metric().name(),
                                 p.validation_metric().value())
              << "\n";
  } else if (event.has_trial_completed()) {
    const v1::Trial& trial = event.trial_completed();
    std::cout << "run " << run << ": trial " << trial.index() << " "
              << v1::RunState_Name(trial.state()) << "\n";
  } else if (event.has_log()) {
    std::cout << "run " << run << ": " << event.log().severity() << " " << event.log().message()
              << "\n";
  }
  std::cout.flush();
}

std::string Reason(const v1::Run& run) {
  if (!run.failure_reason().empty()) return run.failure_reason();
  // A cancel's reason is in its state change.
  for (int i = run.history_size() - 1; i >= 0; --i) {
    if (run.history(i).to_state() == run.state()) return run.history(i).reason();
  }
  return "";
}

void WriteTerminationLog(const OneShotOptions& options, const v1::Run& run) {
  if (options.termination_log.empty()) return;
  if (absl::Status written =
          core::WriteFileAtomically(options.termination_log, TerminationLine(run) + "\n", 0644);
      !written.ok()) {
    core::Log(core::LogLevel::kWarning, "termination_log_unwritten",
              {{"error", std::string(written.message())}});
  }
}

}  // namespace

absl::StatusOr<v1::RunSpec> ReadRunSpec(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string bytes, core::ReadSmallFile(path));
  v1::RunSpec spec;
  if (absl::EndsWith(path, ".pb")) {
    if (!spec.ParseFromString(bytes)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, " is not a binary fabrique.v1.RunSpec (name JSON files .json)"));
    }
    return spec;
  }
  const auto parsed = google::protobuf::util::JsonStringToMessage(bytes, &spec);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, " is not a fabrique.v1.RunSpec in JSON: ", std::string(parsed.message())));
  }
  return spec;
}

std::string TerminationLine(const v1::Run& run) {
  const bool succeeded = run.state() == v1::RUN_STATE_SUCCEEDED;
  return absl::StrCat("{\"model\":\"", core::JsonEscape(run.spec().model_name()),
                      "\",\"version\":", run.registered_version().version(),
                      ",\"checkpoint_epoch\":", run.checkpoint_epoch(), ",\"state\":\"",
                      succeeded ? "SUCCEEDED" : "FAILED", "\",\"reason\":\"",
                      core::JsonEscape(Reason(run)), "\"}");
}

absl::Status RunOneShot(const OneShotOptions& options, training::RunQueue* queue,
                        training::RunStore* runs) {
  if (options.squad.empty()) {
    return absl::InvalidArgumentError("--squad is required with --run_spec: the run's squad");
  }
  ASSIGN_OR_RETURN(const v1::RunSpec spec, ReadRunSpec(options.run_spec_path));
  v1::SubmitRunRequest request;
  *request.mutable_spec() = spec;
  request.set_squad(options.squad);
  request.set_tower_job_id(options.tower_job_id);
  request.set_resume_from_epoch(options.resume_from_epoch);
  const v1::Principal submitter = Submitter(options);
  absl::StatusOr<v1::Run> submitted = queue->Submit(request, submitter);
  if (!submitted.ok()) {
    // Refused before any work: the termination log says why all the same.
    v1::Run refused;
    *refused.mutable_spec() = spec;
    refused.set_state(v1::RUN_STATE_FAILED);
    refused.set_failure_reason(std::string(submitted.status().message()));
    WriteTerminationLog(options, refused);
    return submitted.status();
  }
  const std::string run_id = submitted->run_id();
  std::cout << "run " << run_id << ": submitted for " << options.squad
            << (options.resume_from_epoch > 0
                    ? absl::StrCat(", resuming after epoch ", options.resume_from_epoch)
                    : "")
            << "\n";
  queue->Start();

  // SIGTERM (the Job deleted, the work preempted) or SIGINT cancels the run; the watch below
  // then sees it end as CANCELLED, with the last epoch checkpointed.
  std::atomic<bool> ended{false};
  std::thread signals([&] {
    const int signal = server::WaitForTerminationSignal(&ended);
    if (signal == 0) return;
    v1::Principal trainer;
    trainer.set_subject("service:trainer");
    (void)queue->Cancel(run_id, trainer, absl::StrCat("stopped by signal ", signal));
  });
  const absl::Status watched = queue->Watch(
      run_id, 0,
      [](const v1::RunEvent& event) {
        PrintEvent(event);
        return true;
      },
      [] { return false; });
  ended = true;
  signals.join();
  RETURN_IF_ERROR(watched);

  ASSIGN_OR_RETURN(const v1::Run run, runs->Get(run_id));
  WriteTerminationLog(options, run);
  if (run.state() == v1::RUN_STATE_SUCCEEDED) {
    std::cout << "run " << run_id << ": registered " << run.registered_version().model() << ":"
              << run.registered_version().version() << "\n";
    return absl::OkStatus();
  }
  const std::string reason = Reason(run);
  std::cerr << "fabrique-trainer: run " << run_id << " " << v1::RunState_Name(run.state()) << ": "
            << reason << " (last epoch checkpointed: " << run.checkpoint_epoch() << ")\n";
  return absl::AbortedError(
      absl::StrCat("run ", run_id, " ", v1::RunState_Name(run.state()), ": ", reason));
}

}  // namespace fabrique::services
