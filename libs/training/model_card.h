#ifndef FABRIQUE_LIBS_TRAINING_MODEL_CARD_H_
#define FABRIQUE_LIBS_TRAINING_MODEL_CARD_H_

// The model card registered with every trained version (a Markdown artifact): what the model
// is for, the data and lineage it came from, how it was trained, how it scores next to a trivial
// baseline, and its limitations, stated plainly for a design authority to read before approving.

#include <map>
#include <string>
#include <vector>

#include "fabrique/v1/common.pb.h"

namespace fabrique::training {

struct ModelCardInput {
  std::string model_name;
  std::string use_case_id;
  v1::Task task = v1::TASK_BINARY_CLASSIFICATION;
  std::string family;  // e.g. "MLP 256-128, relu, dropout 0.2" or "logistic regression".
  std::string run_id;
  std::string dataset_id;
  std::string code_version;
  std::vector<std::string> features;  // "group:feature (schema vN)", in signature order.
  std::string label;                  // Where the labels came from.
  std::string time_range;             // The label events considered.
  int64_t train_rows = 0;
  int64_t validation_rows = 0;
  std::map<std::string, std::string> parameters;
  std::vector<v1::Metric> metrics;  // Validation metrics with baselines.
  int best_epoch = 0;
  int epochs_completed = 0;
};

// The card, in Markdown.
std::string RenderModelCard(const ModelCardInput& input);

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_MODEL_CARD_H_
