#include "libs/training/version_draft.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/time_util.h"

namespace fabrique::training {
namespace {

using google::protobuf::util::TimeUtil;

std::map<std::string, std::string> Parameters(const v1::RunSpec& spec, const TrainConfig& c) {
  return {{"family", FamilyText(c.family)},
          {"optimizer", v1::OptimizerKind_Name(c.optimizer.kind())},
          {"learning_rate", absl::StrCat(c.optimizer.learning_rate())},
          {"batch_size", absl::StrCat(c.batch_size)},
          {"epochs", absl::StrCat(c.epochs)},
          {"early_stopping_patience", absl::StrCat(c.early_stopping_patience)},
          {"seed", absl::StrCat(c.seed)},
          {"loss", v1::LossFunction_Name(spec.loss())}};
}

// The inputs, one per feature in signature order, and the outputs.
v1::ModelSignature Signature(const v1::TrainingSetHeader& header, const LabeledTable& train,
                             v1::Task task, int classes,
                             const std::vector<std::string>& class_names) {
  v1::ModelSignature signature;
  for (int f = 0; f < header.features_size(); ++f) {
    const RawColumn& column = train.features.columns[f];
    v1::TensorSpec* input = signature.add_inputs();
    input->set_name(column.name);
    input->set_datatype(column.categorical ? "BYTES" : "FP32");
    input->add_shape(-1);
    input->add_shape(column.width);
    // The module imputes missing values itself: NaN is how a caller says "missing".
    input->set_nan_allowed(!column.categorical);
    *input->mutable_feature() = header.features(f);
  }
  v1::TensorSpec* output = signature.add_outputs();
  output->add_shape(-1);
  output->set_datatype("FP32");
  if (task == v1::TASK_MULTICLASS_CLASSIFICATION) {
    output->set_name("probabilities");
    output->add_shape(classes);
    output->set_description("probability of each class, in class_labels order");
  } else {
    output->set_name(task == v1::TASK_REGRESSION ? "prediction" : "probability");
    output->add_shape(1);
    output->set_description(task == v1::TASK_REGRESSION ? "the predicted target"
                                                        : "probability of class 1");
  }
  for (const std::string& name : class_names) signature.add_class_labels(name);
  if (class_names.empty() && task != v1::TASK_REGRESSION) {
    for (int c = 0; c < classes; ++c) signature.add_class_labels(absl::StrCat(c));
  }
  return signature;
}

}  // namespace

std::string FamilyText(const v1::ModelFamily& family) {
  if (!family.has_mlp()) return "linear";
  std::vector<std::string> sizes;
  for (int h : family.mlp().hidden_sizes()) sizes.push_back(absl::StrCat(h));
  return absl::StrCat("MLP ", absl::StrJoin(sizes, "-"), ", ",
                      v1::Activation_Name(family.mlp().activation()), ", dropout ",
                      family.mlp().dropout());
}

std::string RangeText(const v1::TimeRange& range) {
  const auto bound = [](const google::protobuf::Timestamp& t, bool set, const char* open) {
    return set ? TimeUtil::ToString(t) : std::string(open);
  };
  return absl::StrCat("[", bound(range.start_time(), range.has_start_time(), "the beginning"), ", ",
                      bound(range.end_time(), range.has_end_time(), "now"), ")");
}

ModelCardInput DraftCard(const RunState& state) {
  const v1::RunSpec& spec = state.spec;
  const TrainResult& result = *state.best;
  ModelCardInput card;
  card.model_name = spec.model_name();
  card.use_case_id = spec.use_case_id();
  card.task = state.config.task;
  card.family = FamilyText(state.best_config.family);
  card.run_id = state.run_id;
  card.dataset_id = state.dataset.dataset_id();
  card.code_version = spec.code_version();
  for (const v1::VersionedFeatureRef& f : state.header.features()) {
    card.features.push_back(absl::StrCat(f.ref().group(), ":", f.ref().feature(), " (schema v",
                                         f.schema_version(), ")"));
  }
  card.label = spec.label().has_feature() ? absl::StrCat(spec.label().feature().group(), ":",
                                                         spec.label().feature().feature())
                                          : "label events sent with the request";
  card.time_range = RangeText(spec.time_range());
  card.train_rows = state.train.features.rows;
  card.validation_rows = state.validation.features.rows;
  card.parameters = Parameters(spec, state.best_config);
  card.parameters["engine"] = result.engine;  // Who computed the steps (tabular_trainer.h).
  const int trials = static_cast<int>(state.trials.size());
  if (trials > 1) {
    card.parameters["search"] = absl::StrCat("trial ", state.best_index, " of ", trials,
                                             " kept, by validation ", state.objective);
  }
  card.metrics = result.validation_metrics;
  card.best_epoch = result.best_epoch;
  card.epochs_completed = result.epochs_completed;
  return card;
}

v1::ModelVersion DraftVersion(const RunState& state) {
  const v1::RunSpec& spec = state.spec;
  const TrainResult& result = *state.best;
  v1::ModelVersion version;
  version.set_model(spec.model_name());
  *version.mutable_signature() = Signature(state.header, state.train, state.config.task,
                                           result.num_classes, state.table->class_names());
  for (const v1::Metric& m : result.validation_metrics) *version.add_metrics() = m;
  for (const auto& [key, value] : state.card.parameters) (*version.mutable_params())[key] = value;
  v1::VersionLineage* lineage = version.mutable_lineage();
  lineage->add_dataset_ids(state.dataset.dataset_id());
  for (const v1::VersionedFeatureRef& f : state.header.features()) *lineage->add_features() = f;
  lineage->set_trainer_run_id(state.run_id);
  lineage->set_code_version(spec.code_version());
  lineage->set_parent_version(spec.parent_version());
  version.set_description(spec.description());
  *version.mutable_tags() = spec.tags();
  return version;
}

std::vector<ArtifactToUpload> DraftArtifacts(const RunState& state) {
  return {
      {"model.pt", v1::ARTIFACT_KIND_TORCHSCRIPT_MODULE, "application/x-torchscript",
       state.best->torchscript},
      {"reference_profile.pb", v1::ARTIFACT_KIND_REFERENCE_PROFILE, "application/x-protobuf",
       state.profile.SerializeAsString()},
      {"model_card.md", v1::ARTIFACT_KIND_MODEL_CARD, "text/markdown", RenderModelCard(state.card)},
  };
}

}  // namespace fabrique::training
