#ifndef FABRIQUE_SERVICES_TRAINER_ONE_SHOT_RUN_H_
#define FABRIQUE_SERVICES_TRAINER_ONE_SHOT_RUN_H_

// `fabrique-trainer --run_spec FILE`: one run of one spec, in the process, to its end, through
// the same core as a queued run (libs/training/run_queue.h: the spec checked, the training set
// built from the feature store, trained, evaluated, registered), then exit. This is what a
// Kubernetes Job runs: progress goes to stdout as lines, the outcome to the exit code, the
// reason to stderr, and one JSON line to the termination log the pod's termination message is
// read from. SIGTERM or SIGINT (the Job deleted, the work preempted) cancels the run within one
// batch; the termination log then says the last epoch checkpointed, to resume from.

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fabrique/v1/trainer.pb.h"
#include "libs/training/run_queue.h"

namespace fabrique::services {

struct OneShotOptions {
  std::string run_spec_path;  // JSON (protobuf's JSON mapping) or, ending in .pb, binary.
  std::string tower_job_id;   // SubmitRunRequest.tower_job_id: names the checkpoints too.
  int resume_from_epoch = 0;  // SubmitRunRequest.resume_from_epoch.
  std::string squad;          // The squad the run trains for (required).
  // Whom the run acts for: a user's subject (the peers then check that user too), or "" = the
  // trainer on its own ("service:trainer").
  std::string submitted_by;
  // Where the outcome's JSON line is written at exit; "" = nowhere.
  std::string termination_log;
};

// Reads a RunSpec from `path`: binary when it ends in .pb, protobuf JSON otherwise.
// INVALID_ARGUMENT naming the file and what is wrong; NOT_FOUND when it does not exist.
absl::StatusOr<v1::RunSpec> ReadRunSpec(const std::string& path);

// The termination log's line for `run`:
// {"model":"M","version":N,"checkpoint_epoch":E,"state":"SUCCEEDED|FAILED","reason":"..."}.
// A run that did not succeed (cancelled included) is FAILED, with its reason.
std::string TerminationLine(const v1::Run& run);

// Runs the spec of `options` on `queue` (made, not started, over the run store and ports the
// trainer uses) to its end, printing progress to stdout. OK when it registered a version;
// otherwise an error whose message is the run's reason (ABORTED for a failed or cancelled run),
// and the check's error for a spec refused before any work.
absl::Status RunOneShot(const OneShotOptions& options, training::RunQueue* queue,
                        training::RunStore* runs);

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_TRAINER_ONE_SHOT_RUN_H_
