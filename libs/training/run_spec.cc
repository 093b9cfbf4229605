#include "libs/training/run_spec.h"

#include <vector>

#include "libs/core/status_macros.h"
#include "libs/training/search.h"

namespace fabrique::training {

TrainConfig ConfigFromSpec(const v1::RunSpec& spec) {
  TrainConfig config;
  config.task = spec.task() == v1::TASK_UNSPECIFIED ? v1::TASK_BINARY_CLASSIFICATION : spec.task();
  config.num_classes = spec.num_classes();
  config.family = spec.family();
  config.loss = spec.loss();
  config.optimizer = spec.optimizer();
  if (config.optimizer.learning_rate() == 0) config.optimizer.set_learning_rate(1e-3);
  config.batch_size = spec.batch_size() > 0 ? spec.batch_size() : 256;
  config.epochs = spec.epochs() > 0 ? spec.epochs() : 10;
  config.early_stopping_patience = spec.early_stopping_patience();
  config.class_weights.assign(spec.class_weights().begin(), spec.class_weights().end());
  config.balance_classes = spec.balance_classes();
  config.seed = spec.seed();
  config.device = spec.device();
  config.threads = spec.threads();
  return config;
}

absl::Status CheckSpec(const v1::RunSpec& spec) {
  if (spec.model_name().empty())
    return absl::InvalidArgumentError("RunSpec.model_name is required");
  if (spec.features().empty()) {
    return absl::InvalidArgumentError("RunSpec.features is empty: name the inputs");
  }
  for (const v1::FeatureRef& f : spec.features()) {
    if (f.group().empty() || f.feature().empty()) {
      return absl::InvalidArgumentError("every RunSpec.features entry needs a group and a feature");
    }
  }
  if (spec.label().source_case() == v1::LabelSource::SOURCE_NOT_SET) {
    return absl::InvalidArgumentError("RunSpec.label is missing: a label feature, or label events");
  }
  if (spec.batch_size() < 0 || spec.epochs() < 0) {
    return absl::InvalidArgumentError("batch_size and epochs must be positive (0 = the defaults)");
  }
  if (spec.family().has_mlp()) {
    for (int h : spec.family().mlp().hidden_sizes()) {
      if (h < 1) return absl::InvalidArgumentError("every hidden size must be at least 1");
    }
    if (spec.family().mlp().dropout() < 0 || spec.family().mlp().dropout() >= 1) {
      return absl::InvalidArgumentError("dropout must be in [0, 1)");
    }
  }
  if (spec.has_search()) {
    ASSIGN_OR_RETURN(const std::vector<TrialSettings> trials, ExpandSearch(spec.search()));
    for (const TrialSettings& settings : trials) {
      RETURN_IF_ERROR(ApplySettings(ConfigFromSpec(spec), settings).status());
    }
  }
  if (spec.device() == v1::DEVICE_CUDA && !CudaAvailable()) {
    return absl::FailedPreconditionError(
        "device cuda was asked for, but this trainer has no CUDA device: use auto or cpu");
  }
  return absl::OkStatus();
}

}  // namespace fabrique::training
