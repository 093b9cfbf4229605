#ifndef FABRIQUE_LIBS_TRAINING_RUN_PIPELINE_H_
#define FABRIQUE_LIBS_TRAINING_RUN_PIPELINE_H_

// RunPipeline: what happens to a queued run, state by state, recorded in the RunStore
// (run_steps.h has one function per state):
//
//   BUILDING_DATASET  the point-in-time training set from the feature store (DatasetSource),
//                     streamed into columns, then split;
//   TRAINING          LibTorch (tabular_trainer.h), progress events about once a second and at
//                     every epoch's end;
//   EVALUATING        the validation metrics, the reference profile, the model card;
//   REGISTERING       the TorchScript module, profile and card uploaded and the version
//                     registered with its signature, metrics, parameters and lineage (ModelSink),
//                     the run's id as the idempotency key, then the dataset -> model edge.
//
// Any failure fails the run with its reason; a cancellation stops it within one batch and
// registers nothing. The ports (ports.h) keep gRPC out of this library.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "fabrique/v1/trainer.pb.h"
#include "libs/core/clock.h"
#include "libs/training/cancel_token.h"
#include "libs/training/ports.h"
#include "libs/training/run_store.h"

namespace fabrique::training {

struct RunPipelineOptions {
  RunStore* runs = nullptr;           // Required; not owned.
  DatasetSource* datasets = nullptr;  // Required; not owned.
  ModelSink* models = nullptr;        // Required; not owned.
  // Reads the time for deadlines, the progress throttle and the ETA. Not owned; nullptr = the
  // real clock. (Training's own throughput is timed on a monotonic clock: TrainConfig::clock.)
  core::Clock* clock = nullptr;
  // Progress events are appended at most this often (and at every epoch's end). Default 1 s.
  absl::Duration progress_interval = absl::Seconds(1);
  // Folder of the runs' epoch checkpoints (checkpoint_store.h); "" = none kept, and a run
  // asking to resume starts from the start. A run without a search saves one after each epoch
  // and records it as Run.checkpoint_epoch; one submitted with resume_from_epoch resumes from it.
  std::string checkpoint_dir;
};

class RunPipeline {
 public:
  // INVALID_ARGUMENT when a required option is missing.
  static absl::StatusOr<std::unique_ptr<RunPipeline>> Create(RunPipelineOptions options);

  // Takes queued run `run_id` to a final state. Its deadline (Run.deadline_time, on the
  // pipeline's clock) and its submitter (Run.submitted_by) come from its record and, with
  // `cancel`, go to every port call as its RunContext. `cancel` (optional) is polled between
  // batches and states, until the run begins registering. Returns the final record; a run an
  // internal error stops midway (its store failing, say) is failed with that error when it can
  // be. A run still going at its deadline is stopped (within one batch) and failed, saying where
  // it was; registration, once begun, is let finish, its calls no longer bounded by the
  // deadline. A run whose `cancel` says the trainer is stopping before the run began is left
  // QUEUED (and returned so), for the next start.
  absl::StatusOr<v1::Run> Execute(const std::string& run_id, CancelToken* cancel = nullptr) const;

 private:
  explicit RunPipeline(RunPipelineOptions options) : options_(options) {}
  absl::StatusOr<v1::Run> ExecuteSteps(const std::string& run_id, CancelToken* cancel) const;

  const RunPipelineOptions options_;
};

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_RUN_PIPELINE_H_
