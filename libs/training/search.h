#ifndef FABRIQUE_LIBS_TRAINING_SEARCH_H_
#define FABRIQUE_LIBS_TRAINING_SEARCH_H_

// A small hyperparameter search: the trials a RunSpec's `search` asks for (every combination of
// the choices for a grid, up to max_trials; max_trials draws for a random search, intervals
// sampled uniformly or log-uniformly, by the search's seed), and each trial's settings applied
// to the training configuration. Settings: optimizer.learning_rate, optimizer.weight_decay,
// batch_size, epochs, early_stopping_patience, family.mlp.hidden_sizes ("128,64"),
// family.mlp.dropout.

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fabrique/v1/common.pb.h"
#include "libs/training/tabular_trainer.h"

namespace fabrique::training {

using TrialSettings = std::map<std::string, std::string>;

// The trials, in the order they run. INVALID_ARGUMENT for an unknown setting, a setting with no
// choices, an interval in a grid search, or max_trials below 1.
absl::StatusOr<std::vector<TrialSettings>> ExpandSearch(const v1::HyperparameterSearch& search);

// `config` with `settings` applied; INVALID_ARGUMENT naming a value that does not parse.
absl::StatusOr<TrainConfig> ApplySettings(TrainConfig config, const TrialSettings& settings);

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_SEARCH_H_
