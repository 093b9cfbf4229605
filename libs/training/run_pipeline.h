#ifndef FABRIQUE_LIBS_TRAINING_RUN_PIPELINE_H_
#define FABRIQUE_LIBS_TRAINING_RUN_PIPELINE_H_

// RunPipeline: what happens to a queued run, state by state, recorded in the RunStore:
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
// registers nothing. The two ports keep gRPC out of this library: the service implements them
// with the feature store's and the registry's clients, tests with fakes.

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "fabrique/v1/features.pb.h"
#include "fabrique/v1/registry.pb.h"
#include "fabrique/v1/trainer.pb.h"
#include "libs/training/run_store.h"
#include "libs/training/tabular_trainer.h"

namespace fabrique::training {

class DatasetSource {
 public:
  virtual ~DatasetSource() = default;
  // Builds the training set of `spec` for run `run_id`: the header, then each chunk of rows,
  // then returns the dataset as recorded.
  virtual absl::StatusOr<v1::Dataset> Build(
      const v1::RunSpec& spec, const std::string& run_id,
      const std::function<absl::Status(const v1::TrainingSetHeader&)>& header,
      const std::function<absl::Status(const v1::TrainingSetRows&)>& rows) = 0;
  // Records that `dataset_id` trained `version` (lineage).
  virtual absl::Status RecordUsage(const std::string& dataset_id,
                                   const v1::ModelVersionRef& version) = 0;
};

struct ArtifactToUpload {
  std::string name;
  v1::ArtifactKind kind = v1::ARTIFACT_KIND_OTHER;
  std::string media_type;
  std::string bytes;
};

class ModelSink {
 public:
  virtual ~ModelSink() = default;
  // Creates the model when absent, uploads the artifacts and registers `version` (its
  // artifacts filled in) with `request_id`; returns the version registered.
  virtual absl::StatusOr<v1::ModelVersion> Register(const v1::RunSpec& spec,
                                                    const std::vector<ArtifactToUpload>& artifacts,
                                                    v1::ModelVersion version,
                                                    const std::string& request_id) = 0;
};

struct RunPipelineOptions {
  RunStore* runs = nullptr;           // Required; not owned.
  DatasetSource* datasets = nullptr;  // Required; not owned.
  ModelSink* models = nullptr;        // Required; not owned.
  // Progress events are appended at most this often (and at every epoch's end).
  absl::Duration progress_interval = absl::Seconds(1);
};

// A run's cancellation, with a point of no return: once the run starts registering its version
// it can no longer be cancelled (else a cancelled run could still leave a version behind).
class CancelToken {
 public:
  // Asks the run to stop; false (and nothing changes) once it is registering.
  bool Cancel() { return Stop(/*shutdown=*/false); }
  // The same, because the trainer is stopping: the run is then failed, saying so, not cancelled.
  bool Shutdown() { return Stop(/*shutdown=*/true); }
  // Enters the point of no return; false when the run was cancelled first.
  bool BeginCommit() {
    absl::MutexLock lock(&mu_);
    if (cancelled_) return false;
    committing_ = true;
    return true;
  }
  void Reset() {
    absl::MutexLock lock(&mu_);
    cancelled_ = false;
    shutdown_ = false;
    committing_ = false;
    interrupt_ = nullptr;
  }
  // While set, a successful Cancel or Shutdown also calls `interrupt` (at once when it came
  // first), so that a call the run is blocked in (a stream that has not answered yet) ends now
  // rather than when it next yields. Cleared by SetInterrupt(nullptr), which waits for an
  // interrupt under way: whatever it touches may be destroyed after that.
  void SetInterrupt(std::function<void()> interrupt) {
    absl::MutexLock lock(&mu_);
    interrupt_ = std::move(interrupt);
    if (interrupt_ && cancelled_) interrupt_();
  }
  bool cancelled() const { return cancelled_.load(); }
  bool shutting_down() const { return shutdown_.load(); }
  // What training polls between batches.
  const std::atomic<bool>* flag() const { return &cancelled_; }

 private:
  bool Stop(bool shutdown) {
    absl::MutexLock lock(&mu_);
    if (committing_) return false;
    // A run cancelled first (by its user, or its deadline) stays so.
    if (shutdown && !cancelled_) shutdown_ = true;
    cancelled_ = true;
    if (interrupt_) interrupt_();
    return true;
  }

  absl::Mutex mu_;
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> shutdown_{false};
  bool committing_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void()> interrupt_ ABSL_GUARDED_BY(mu_);
};

class RunPipeline {
 public:
  explicit RunPipeline(RunPipelineOptions options) : options_(options) {}

  // Takes queued run `run_id` to a final state. `cancel` (optional) is polled between batches
  // and states, until the run begins registering. Returns the final record; a run an internal
  // error stops midway (its store failing, say) is failed with that error when it can be.
  // A run still going at `deadline` is stopped (within one batch) and failed, saying where it
  // was; registration, once begun, is let finish.
  absl::StatusOr<v1::Run> Execute(const std::string& run_id, CancelToken* cancel,
                                  absl::Time deadline = absl::InfiniteFuture());

 private:
  absl::StatusOr<v1::Run> ExecuteSteps(const std::string& run_id, CancelToken* cancel,
                                       absl::Time deadline);
  const RunPipelineOptions options_;
};

// The training settings a spec asks for, defaults filled in (batch 256, 10 epochs, ...).
TrainConfig ConfigFromSpec(const v1::RunSpec& spec);

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_RUN_PIPELINE_H_
