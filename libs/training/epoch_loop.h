#ifndef FABRIQUE_LIBS_TRAINING_EPOCH_LOOP_H_
#define FABRIQUE_LIBS_TRAINING_EPOCH_LOOP_H_

// The epochs of TrainTabular over a TrainingEngine: mini-batches in a fresh order each epoch
// (LibTorch's generator, seeded by the trainer), cancellation checked before every batch, a loss
// that goes NaN reported as divergence, the validation split scored after each epoch, the best
// epoch's weights kept, early stopping after `early_stopping_patience` epochs without a better
// one, and progress after every batch and at each epoch's end.
//
// Time is measured over the steps only, on TrainConfig::clock: each epoch's throughput is its
// own, and neither validation nor the progress callback counts.

#include <atomic>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "libs/core/clock.h"
#include "libs/training/tabular_trainer.h"
#include "libs/training/training_engine.h"
#include "libs/training/training_problem.h"

namespace fabrique::training {

class EpochLoop {
 public:
  // Everything must outlive the loop. `progress` may be empty, `cancel` null.
  EpochLoop(const TrainingProblem& problem, const LabeledTable& validation,
            const TrainConfig& config, TrainingEngine& engine, const ProgressFn& progress,
            const std::atomic<bool>* cancel);

  // Trains; fills `result`'s epochs, best epoch with its metrics, predictions and objective, and
  // the timing. CANCELLED when `cancel` became true; FAILED_PRECONDITION when the loss diverged.
  absl::Status Run(TrainResult& result);

  // The best epoch's layers, after Run.
  std::vector<DenseLayer>& best() { return best_; }

 private:
  // The time the steps take, paused while the progress callback runs.
  class Stopwatch {
   public:
    explicit Stopwatch(core::Clock* clock) : clock_(clock) {}
    void Start() { started_ = clock_->Now(); }
    void Stop() { elapsed_ += clock_->Now() - started_; }
    void Reset() { elapsed_ = absl::ZeroDuration(); }
    double seconds() const { return absl::ToDoubleSeconds(elapsed_); }

   private:
    core::Clock* const clock_;
    absl::Time started_;
    absl::Duration elapsed_;
  };

  // One epoch's batches; returns the sum of their losses.
  absl::StatusOr<double> TrainEpoch(int epoch);
  // Scores the validation split, keeps the epoch if it is the best so far, and reports the
  // epoch's end; returns whether to stop early.
  bool EndEpoch(int epoch, double loss_sum, TrainResult& result);
  // Samples per second of the epoch's steps so far, `samples` rows in.
  double Rate(int64_t samples) const;

  const TrainingProblem& problem_;
  const LabeledTable& validation_;
  const TrainConfig& config_;
  TrainingEngine& engine_;
  const ProgressFn& progress_;
  const std::atomic<bool>* const cancel_;
  Stopwatch watch_;  // The epoch in progress.
  const int64_t batches_;
  TrainProgress report_;  // Keeps the last epoch's validation figures between epochs.
  double train_seconds_ = 0;
  double best_objective_ = 0;
  int since_best_ = 0;
  std::vector<DenseLayer> best_;
};

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_EPOCH_LOOP_H_
