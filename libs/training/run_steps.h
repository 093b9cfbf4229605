#ifndef FABRIQUE_LIBS_TRAINING_RUN_STEPS_H_
#define FABRIQUE_LIBS_TRAINING_RUN_STEPS_H_

// The four steps of a run (run_pipeline.h), one function per state, over the run's RunState.
// Each records its state change and results in the RunStore, then either leaves the run going
// (OK, ended() empty), ends it (OK, ended() holds the final record: failed or cancelled, or
// after Register succeeded), or fails on its own bookkeeping (not OK: the store failed, which
// the pipeline then records). They run in order on one thread. One exception: a run the
// trainer's stop reaches before BuildDataset began is left as it was, and ended() holds it
// still QUEUED.

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "fabrique/v1/trainer.pb.h"
#include "libs/training/run_pipeline.h"
#include "libs/training/run_state.h"

namespace fabrique::training {

class RunSteps {
 public:
  // `options` and `state` must outlive the steps; the options' clock is set.
  RunSteps(const RunPipelineOptions& options, RunState& state)
      : options_(options), state_(state), runs_(*options.runs) {}

  // BUILDING_DATASET: the training set streamed in (progress as rows arrive), then split. Not
  // begun when the trainer is stopping already: the run stays QUEUED.
  absl::Status BuildDataset();
  // TRAINING: each trial in turn, each recorded; the best kept.
  absl::Status Train();
  // EVALUATING: the best trial's metrics, its reference profile and card.
  absl::Status Evaluate();
  // REGISTERING: past the point of no return, the version registered and the lineage recorded,
  // those calls no longer bounded by the run's deadline.
  absl::Status Register();

  const std::optional<v1::Run>& ended() const { return ended_; }

 private:
  // Whether the run is to stop: cancelled, stopped, or its deadline passed (which stops it,
  // unless something else did first).
  bool Cancelled();
  // Ends the run with its final record, or returns the store's error.
  absl::Status End(absl::StatusOr<v1::Run> final_run);
  absl::Status Fail(const std::string& reason);
  // Ends a run `status` or a cancel stopped `during` something: failed (the trainer stopping,
  // the deadline, an error) or cancelled.
  absl::Status Stop(const absl::Status& status, const std::string& during);

  // Takes one chunk of the training set into the table; reports the rows so far, throttled.
  absl::Status AddRows(const v1::TrainingSetRows& rows);
  // The epoch checkpoints of a run of one trial: the one to resume from, if any (a missing one
  // is a warning, and training starts from the start), and how each epoch's is kept. A
  // checkpoint that cannot be written is a warning too: the run goes on without it.
  Checkpointing MakeCheckpoints();
  // Appends a line to the run's log.
  void Note(const std::string& severity, const std::string& message);
  // Trains trial `index` and records it; a failed trial is recorded, not returned.
  absl::Status RunTrial(int index, std::string* failure);
  // Appends a training progress event (throttled, except at an epoch's end).
  void ReportTraining(int index, const TrainProgress& progress, absl::Time trial_start);
  // Whether a progress event is due (always at an epoch's end); restarts the interval if so.
  bool ProgressDue(bool epoch_end);

  const RunPipelineOptions& options_;
  RunState& state_;
  RunStore& runs_;
  std::optional<v1::Run> ended_;
  absl::Time last_report_ = absl::InfinitePast();
};

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_RUN_STEPS_H_
