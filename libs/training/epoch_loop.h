#ifndef FABRIQUE_LIBS_TRAINING_EPOCH_LOOP_H_
#define FABRIQUE_LIBS_TRAINING_EPOCH_LOOP_H_

// The epochs of TrainTabular over a TrainingEngine: mini-batches in a fresh order each epoch
// (LibTorch's generator, seeded by the trainer), cancellation checked before every batch, a loss
// that goes NaN reported as divergence, the validation split scored after each epoch, the best
// epoch's weights kept, early stopping after `early_stopping_patience` epochs without a better
// one, and progress after every batch and at each epoch's end.
//
// Time is measured over the steps only: each epoch's throughput is its own, and neither
// validation nor the progress callback counts. It is measured on a monotonic clock
// (std::chrono::steady_clock), which a step of the wall clock (NTP) cannot move, or on
// TrainConfig::clock when one is given (tests).
//
// With Checkpointing, the loop saves its state after every epoch and can start from a saved one
// (tabular_trainer.h says what is kept and how exact a resumed training is).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/core/clock.h"
#include "libs/training/tabular_trainer.h"
#include "libs/training/training_engine.h"
#include "libs/training/training_problem.h"

namespace fabrique::training {

class EpochLoop {
 public:
  // Everything must outlive the loop. `progress` may be empty, `cancel` and `checkpoints` null.
  EpochLoop(const TrainingProblem& problem, const LabeledTable& validation,
            const TrainConfig& config, TrainingEngine& engine, const ProgressFn& progress,
            const std::atomic<bool>* cancel, const Checkpointing* checkpoints = nullptr);

  // Trains; fills `result`'s epochs, best epoch with its metrics, predictions and objective, and
  // the timing. CANCELLED when `cancel` became true; FAILED_PRECONDITION when the loss diverged.
  absl::Status Run(TrainResult& result);

  // The best epoch's layers, after Run.
  std::vector<DenseLayer>& best() { return best_; }

 private:
  // The time the steps take, paused while the progress callback runs: on steady_clock, or on
  // `clock` when not null. An interval that reads negative (an injected clock set back) counts
  // as none, so neither a rate nor the total can go negative.
  class Stopwatch {
   public:
    explicit Stopwatch(const core::Clock* clock) : clock_(clock) {}
    void Start() { started_ = Read(); }
    void Stop() { elapsed_ += std::max(absl::ZeroDuration(), Read() - started_); }
    void Reset() { elapsed_ = absl::ZeroDuration(); }
    double seconds() const { return absl::ToDoubleSeconds(elapsed_); }

   private:
    // The time since the clock's own origin, which only differences make meaningful.
    absl::Duration Read() const {
      if (clock_ != nullptr) return clock_->Now() - absl::UnixEpoch();
      return absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
    }

    const core::Clock* const clock_;
    absl::Duration started_;
    absl::Duration elapsed_;
  };

  // One epoch's batches; returns the sum of their losses.
  absl::StatusOr<double> TrainEpoch(int epoch);
  // Scores the validation split, keeps the epoch if it is the best so far, and reports the
  // epoch's end; returns whether to stop early.
  bool EndEpoch(int epoch, double loss_sum, TrainResult& result);
  // Samples per second of the epoch's steps so far, `samples` rows in.
  double Rate(int64_t samples) const;
  // The checkpoint after `epoch`, and the restoration of one (returns its epoch).
  std::string Save(int epoch, const TrainResult& result);
  absl::StatusOr<int> Restore(const std::string& checkpoint, TrainResult& result);

  const TrainingProblem& problem_;
  const LabeledTable& validation_;
  const TrainConfig& config_;
  TrainingEngine& engine_;
  const ProgressFn& progress_;
  const std::atomic<bool>* const cancel_;
  const Checkpointing* const checkpoints_;
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
