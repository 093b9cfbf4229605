#ifndef FABRIQUE_LIBS_TRAINING_RUN_STATE_H_
#define FABRIQUE_LIBS_TRAINING_RUN_STATE_H_

// What the steps of one run (run_steps.h) hand each other: the spec and its settings, the
// context every port call takes, then each step's results in the order they are made.

#include <optional>
#include <string>
#include <vector>

#include "fabrique/v1/common.pb.h"
#include "fabrique/v1/features.pb.h"
#include "libs/training/model_card.h"
#include "libs/training/ports.h"
#include "libs/training/search.h"
#include "libs/training/tabular_data.h"
#include "libs/training/tabular_trainer.h"
#include "libs/training/training_set_table.h"

namespace fabrique::training {

struct RunState {
  std::string run_id;
  v1::RunSpec spec;
  TrainConfig config;  // The spec's settings, defaults filled in.
  RunContext context;  // Deadline, cancel token, submitter.
  // The epoch to resume after (Run.checkpoint_epoch when the run began); 0 = from the start.
  int resume_epoch = 0;
  // Whose checkpoints the run saves and resumes from: its tower job's, or its own.
  std::string checkpoint_key;

  // BUILDING_DATASET: the training set as it streamed in, and its split.
  std::optional<TrainingSetTable> table;
  v1::TrainingSetHeader header;
  v1::Dataset dataset;
  LabeledTable train, validation;

  // TRAINING: the trials (one without a search), and the best one's model.
  std::vector<TrialSettings> trials;
  std::string objective;  // The validation metric trials are compared by.
  std::optional<TrainResult> best;
  TrainConfig best_config;
  int best_index = -1;
  double best_value = 0;  // Its objective.

  // EVALUATING: what is handed over with the model.
  v1::ReferenceProfile profile;
  ModelCardInput card;
};

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_RUN_STATE_H_
