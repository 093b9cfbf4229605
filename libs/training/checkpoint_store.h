#ifndef FABRIQUE_LIBS_TRAINING_CHECKPOINT_STORE_H_
#define FABRIQUE_LIBS_TRAINING_CHECKPOINT_STORE_H_

// Where a run's epoch checkpoints (tabular_trainer.h's Checkpointing) are kept: one folder per
// tower job (or per run, for a run no tower job asked for) under the trainer's checkpoint
// folder, holding the latest epoch's file only (epoch-<E>.ckpt). The folder is named by the
// job, not the run, so that the run a preempted job is requeued as finds what the stopped run
// saved. Files are written atomically: a trainer killed mid-write leaves the previous epoch's.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace fabrique::training {

class CheckpointStore {
 public:
  // The checkpoints of `key` (a tower job id or a run id) under `root`.
  CheckpointStore(absl::string_view root, absl::string_view key);

  // Keeps epoch `epoch`'s checkpoint, then drops the earlier ones. FAILED_PRECONDITION naming
  // the file when it cannot be written.
  absl::Status Write(int epoch, const std::string& checkpoint) const;
  // Epoch `epoch`'s checkpoint; NOT_FOUND when it is not kept here.
  absl::StatusOr<std::string> Read(int epoch) const;
  // Drops every checkpoint of the key (once its run registered its version).
  void Clear() const;

  const std::string& folder() const { return folder_; }

 private:
  std::string PathOf(int epoch) const;

  std::string folder_;
};

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_CHECKPOINT_STORE_H_
