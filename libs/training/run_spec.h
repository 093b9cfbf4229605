#ifndef FABRIQUE_LIBS_TRAINING_RUN_SPEC_H_
#define FABRIQUE_LIBS_TRAINING_RUN_SPEC_H_

// A RunSpec read as training settings, and checked before any work: what a submission can get
// wrong without asking anyone.

#include "absl/status/status.h"
#include "fabrique/v1/common.pb.h"
#include "libs/training/tabular_trainer.h"

namespace fabrique::training {

// The training settings a spec asks for, defaults filled in (batch 256, 10 epochs, ...).
TrainConfig ConfigFromSpec(const v1::RunSpec& spec);

// INVALID_ARGUMENT for a spec that cannot train: no model name, no features or one without a
// group or name, no label, negative batch size or epochs, a hidden size below 1, dropout out of
// [0, 1), a search whose trials do not expand or whose settings do not parse;
// FAILED_PRECONDITION for `cuda` on a trainer without a CUDA device.
absl::Status CheckSpec(const v1::RunSpec& spec);

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_RUN_SPEC_H_
