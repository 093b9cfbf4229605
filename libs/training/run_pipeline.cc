#include "libs/training/run_pipeline.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/time_util.h"
#include "libs/training/evaluation.h"
#include "libs/training/model_card.h"
#include "libs/training/reference_profile.h"
#include "libs/training/search.h"
#include "libs/training/training_set_table.h"

namespace fabrique::training {
namespace {

using google::protobuf::util::TimeUtil;

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

absl::StatusOr<v1::Run> RunPipeline::Execute(const std::string& run_id, CancelToken* cancel,
                                             absl::Time deadline) {
  CancelToken own;  // Without the caller's, the deadline still needs a way to stop training.
  absl::StatusOr<v1::Run> run = ExecuteSteps(run_id, cancel != nullptr ? cancel : &own, deadline);
  if (run.ok()) return run;
  // A step's own bookkeeping failed: the run must not stay in a middle state forever.
  absl::StatusOr<v1::Run> now = options_.runs->Get(run_id);
  if (now.ok() && !RunStore::IsFinal(now->state())) {
    (void)options_.runs->Transition(run_id, v1::RUN_STATE_FAILED,
                                    absl::StrCat("internal error: ", run.status().message()));
  }
  return run;
}

absl::StatusOr<v1::Run> RunPipeline::ExecuteSteps(const std::string& run_id, CancelToken* cancel,
                                                  absl::Time deadline) {
  RunStore& runs = *options_.runs;
  absl::StatusOr<v1::Run> run = runs.Get(run_id);
  if (!run.ok()) return run.status();
  const v1::RunSpec spec = run->spec();
  const TrainConfig config = ConfigFromSpec(spec);
  // Stops on a cancel, or once the deadline passed (which then fails the run instead).
  bool timed_out = false;
  const auto cancelled = [&] {
    if (!timed_out && absl::Now() > deadline && cancel->Cancel()) timed_out = true;
    return cancel->cancelled();
  };
  const std::atomic<bool>* cancel_flag = cancel->flag();
  const auto fail = [&](const std::string& reason) {
    return runs.Transition(run_id, v1::RUN_STATE_FAILED, reason);
  };
  const auto stop = [&](const absl::Status& status, const std::string& during) {
    if ((absl::IsCancelled(status) || cancelled()) && cancel->shutting_down()) {
      return fail(absl::StrCat("the trainer was stopped while ", during, ": submit the run again"));
    }
    if ((absl::IsCancelled(status) || cancelled()) && timed_out) {
      return fail(absl::StrCat("the run's deadline passed while ", during,
                               ": give it a longer deadline, or less to do"));
    }
    if (absl::IsCancelled(status) || cancelled()) {
      return runs.Transition(run_id, v1::RUN_STATE_CANCELLED,
                             absl::StrCat("cancelled while ", during));
    }
    return fail(absl::StrCat(during, ": ", status.message()));
  };

  // BUILDING_DATASET.
  if (absl::Status s = runs.Transition(run_id, v1::RUN_STATE_BUILDING_DATASET).status(); !s.ok()) {
    return s;
  }
  std::optional<TrainingSetTable> table;
  v1::TrainingSetHeader header;
  absl::Time last_report = absl::InfinitePast();
  absl::StatusOr<v1::Dataset> dataset = options_.datasets->Build(
      spec, run_id,
      [&](const v1::TrainingSetHeader& h) -> absl::Status {
        header = h;
        absl::StatusOr<TrainingSetTable> started = TrainingSetTable::Start(h, config.task);
        if (!started.ok()) return started.status();
        table.emplace(*std::move(started));
        return absl::OkStatus();
      },
      [&](const v1::TrainingSetRows& rows) -> absl::Status {
        if (cancelled()) return absl::CancelledError("cancelled");
        if (!table) return absl::InternalError("rows arrived before the header");
        if (absl::Status added = table->Add(rows); !added.ok()) return added;
        if (absl::Now() - last_report >= options_.progress_interval) {
          last_report = absl::Now();
          const int64_t built = table->table().features.rows;
          v1::RunEvent event;
          event.mutable_progress()->set_dataset_rows(built);
          return runs
              .Update(
                  run_id, [&](v1::Run* r) { r->mutable_progress()->set_dataset_rows(built); },
                  event)
              .status();
        }
        return absl::OkStatus();
      });
  if (!dataset.ok()) return stop(dataset.status(), "building the training set");
  if (!table || table->table().features.rows == 0) {
    return fail(absl::StrCat("empty training set for ", RangeText(spec.time_range()),
                             ": no labelled row in that range; widen the time range or check the "
                             "label source"));
  }
  LabeledTable train, validation;
  if (absl::Status split = table->Split(spec.split(), &train, &validation); !split.ok()) {
    return fail(std::string(split.message()));
  }
  if (absl::Status s =
          runs.Update(run_id,
                      [&](v1::Run* r) {
                        r->set_dataset_id(dataset->dataset_id());
                        r->mutable_split_counts()->set_train_rows(train.features.rows);
                        r->mutable_split_counts()->set_validation_rows(validation.features.rows);
                      })
              .status();
      !s.ok()) {
    return s;
  }

  // TRAINING: one trial, or each of the search's, one after another on the same data.
  if (cancelled()) return stop(absl::CancelledError(""), "building the training set");
  std::vector<TrialSettings> settings = {{}};
  if (spec.has_search()) {
    absl::StatusOr<std::vector<TrialSettings>> expanded = ExpandSearch(spec.search());
    if (!expanded.ok()) return fail(std::string(expanded.status().message()));
    settings = *std::move(expanded);
  }
  const std::string objective = spec.search().objective_metric().empty()
                                    ? PrimaryMetric(config.task)
                                    : spec.search().objective_metric();
  if (absl::Status s = runs.Transition(run_id, v1::RUN_STATE_TRAINING).status(); !s.ok()) return s;
  std::optional<TrainResult> result;
  TrainConfig best_config = config;
  int best_index = -1;
  double best_value = 0;
  std::string last_failure;
  const int trials_total = static_cast<int>(settings.size());
  for (int index = 0; index < trials_total; ++index) {
    absl::StatusOr<TrainConfig> trial_config = ApplySettings(config, settings[index]);
    if (!trial_config.ok()) return fail(std::string(trial_config.status().message()));
    last_report = absl::InfinitePast();
    const absl::Time train_start = absl::Now();
    absl::StatusOr<TrainResult> trained = TrainTabular(
        train, validation, *trial_config,
        [&](const TrainProgress& p) {
          (void)cancelled();  // Every batch: a passed deadline stops training at the next one.
          if (!p.epoch_end && absl::Now() - last_report < options_.progress_interval) return;
          last_report = absl::Now();
          v1::RunEvent event;
          v1::RunProgress* progress = event.mutable_progress();
          progress->set_trial(index);
          progress->set_trials_total(trials_total);
          progress->set_epoch(p.epoch);
          progress->set_epochs_total(p.epochs_total);
          progress->set_batch(p.batch);
          progress->set_batches_per_epoch(p.batches_per_epoch);
          progress->set_train_loss(p.train_loss);
          progress->set_validation_loss(p.validation_loss);
          *progress->mutable_validation_metric() = p.validation_metric;
          progress->set_samples_per_second(p.samples_per_second);
          // The ETA counts this trial's remaining epochs and the trials after it.
          const double done = (p.epoch - 1) + static_cast<double>(p.batch) / p.batches_per_epoch;
          const double elapsed = absl::ToDoubleSeconds(absl::Now() - train_start);
          if (done > 0) {
            const double left = (p.epochs_total - done) +
                                (trials_total - index - 1) * static_cast<double>(p.epochs_total);
            *progress->mutable_eta() = TimeUtil::MillisecondsToDuration(
                static_cast<int64_t>(1000 * elapsed * left / done));
          }
          progress->set_dataset_rows(train.features.rows + validation.features.rows);
          event.set_epoch_end(p.epoch_end);
          (void)runs.Update(
              run_id, [&](v1::Run* r) { *r->mutable_progress() = *progress; }, event);
        },
        cancel_flag);
    if (absl::IsCancelled(trained.status()) || cancelled()) {
      return stop(absl::CancelledError(""), "training");
    }
    v1::Trial trial;
    trial.set_index(index);
    for (const auto& [name, value] : settings[index]) (*trial.mutable_params())[name] = value;
    if (!trained.ok()) {
      // With several trials one that fails (diverges, say) is recorded and the search goes on.
      trial.set_state(v1::RUN_STATE_FAILED);
      trial.set_failure_reason(std::string(trained.status().message()));
      last_failure = trial.failure_reason();
    } else {
      trial.set_state(v1::RUN_STATE_SUCCEEDED);
      for (const v1::Metric& m : trained->validation_metrics) *trial.add_metrics() = m;
      const v1::Metric* chosen = FindMetric(trained->validation_metrics, objective);
      const bool higher = chosen == nullptr || chosen->higher_is_better();
      const double value = chosen != nullptr ? chosen->value() : trained->objective_value;
      trial.set_objective_value(value);
      trial.set_epochs_completed(trained->epochs_completed);
      trial.set_best_epoch(trained->best_epoch);
      *trial.mutable_duration() =
          TimeUtil::MillisecondsToDuration(static_cast<int64_t>(trained->train_seconds * 1000));
      if (best_index < 0 || (higher ? value > best_value : value < best_value)) {
        best_index = index;
        best_value = value;
        best_config = *trial_config;
        result = *std::move(trained);
      }
    }
    v1::RunEvent trial_event;
    *trial_event.mutable_trial_completed() = trial;
    if (absl::Status s = runs.Update(
                                 run_id, [&](v1::Run* r) { *r->add_trials() = trial; }, trial_event)
                             .status();
        !s.ok()) {
      return s;
    }
  }
  if (!result) {
    return fail(absl::StrCat(trials_total > 1 ? "every trial failed; the last: " : "training: ",
                             last_failure));
  }

  // EVALUATING: the best trial's model.
  if (cancelled()) return stop(absl::CancelledError(""), "training");
  if (absl::Status s = runs.Transition(run_id, v1::RUN_STATE_EVALUATING).status(); !s.ok()) {
    return s;
  }
  v1::ReferenceProfile profile =
      BuildReferenceProfile({&train.features, &train.labels, config.task, result->num_classes,
                             &result->validation_predictions, dataset->dataset_id()});
  for (int f = 0; f < profile.features_size() && f < header.features_size(); ++f) {
    *profile.mutable_features(f)->mutable_feature() = header.features(f);
  }
  ModelCardInput card;
  card.model_name = spec.model_name();
  card.use_case_id = spec.use_case_id();
  card.task = config.task;
  card.family = FamilyText(best_config.family);
  card.run_id = run_id;
  card.dataset_id = dataset->dataset_id();
  card.code_version = spec.code_version();
  for (const v1::VersionedFeatureRef& f : header.features()) {
    card.features.push_back(absl::StrCat(f.ref().group(), ":", f.ref().feature(), " (schema v",
                                         f.schema_version(), ")"));
  }
  card.label = spec.label().has_feature() ? absl::StrCat(spec.label().feature().group(), ":",
                                                         spec.label().feature().feature())
                                          : "label events sent with the request";
  card.time_range = RangeText(spec.time_range());
  card.train_rows = train.features.rows;
  card.validation_rows = validation.features.rows;
  card.parameters = Parameters(spec, best_config);
  card.parameters["engine"] = result->engine;  // Who computed the steps (tabular_trainer.h).
  if (trials_total > 1) {
    card.parameters["search"] = absl::StrCat("trial ", best_index, " of ", trials_total,
                                             " kept, by validation ", objective);
  }
  card.metrics = result->validation_metrics;
  card.best_epoch = result->best_epoch;
  card.epochs_completed = result->epochs_completed;
  if (absl::Status s = runs.Update(run_id,
                                   [&](v1::Run* r) {
                                     r->set_best_trial(best_index);
                                     r->mutable_metrics()->Clear();
                                     for (const v1::Metric& m : result->validation_metrics) {
                                       *r->add_metrics() = m;
                                     }
                                     r->set_device(result->device);
                                   })
                           .status();
      !s.ok()) {
    return s;
  }

  // REGISTERING: past this point the run is no longer cancellable.
  if (cancelled() || !cancel->BeginCommit()) {
    return stop(absl::CancelledError(""), "evaluating");
  }
  if (absl::Status s = runs.Transition(run_id, v1::RUN_STATE_REGISTERING).status(); !s.ok()) {
    return s;
  }
  std::vector<ArtifactToUpload> artifacts = {
      {"model.pt", v1::ARTIFACT_KIND_TORCHSCRIPT_MODULE, "application/x-torchscript",
       result->torchscript},
      {"reference_profile.pb", v1::ARTIFACT_KIND_REFERENCE_PROFILE, "application/x-protobuf",
       profile.SerializeAsString()},
      {"model_card.md", v1::ARTIFACT_KIND_MODEL_CARD, "text/markdown", RenderModelCard(card)},
  };
  v1::ModelVersion version;
  version.set_model(spec.model_name());
  *version.mutable_signature() =
      Signature(header, train, config.task, result->num_classes, table->class_names());
  for (const v1::Metric& m : result->validation_metrics) *version.add_metrics() = m;
  for (const auto& [key, value] : card.parameters) (*version.mutable_params())[key] = value;
  v1::VersionLineage* lineage = version.mutable_lineage();
  lineage->add_dataset_ids(dataset->dataset_id());
  for (const v1::VersionedFeatureRef& f : header.features()) *lineage->add_features() = f;
  lineage->set_trainer_run_id(run_id);
  lineage->set_code_version(spec.code_version());
  lineage->set_parent_version(spec.parent_version());
  version.set_description(spec.description());
  *version.mutable_tags() = spec.tags();
  absl::StatusOr<v1::ModelVersion> registered =
      options_.models->Register(spec, artifacts, std::move(version), run_id);
  if (!registered.ok()) return stop(registered.status(), "registering the version");
  v1::ModelVersionRef ref;
  ref.set_model(registered->model());
  ref.set_version(registered->version());
  // The version exists now: a lineage edge that cannot be recorded is a warning on the run, not
  // a failure (the version's own lineage names the dataset either way).
  if (absl::Status usage = options_.datasets->RecordUsage(dataset->dataset_id(), ref);
      !usage.ok()) {
    v1::RunEvent warning;
    warning.mutable_log()->set_severity("WARNING");
    warning.mutable_log()->set_message(absl::StrCat(
        "the dataset -> model edge was not recorded in the feature store: ", usage.message()));
    (void)runs.Update(
        run_id, [](v1::Run*) {}, warning);
  }
  if (absl::Status s =
          runs.Update(run_id, [&](v1::Run* r) { *r->mutable_registered_version() = ref; }).status();
      !s.ok()) {
    return s;
  }
  return runs.Transition(run_id, v1::RUN_STATE_SUCCEEDED,
                         absl::StrCat("registered ", ref.model(), ":", ref.version()));
}

}  // namespace fabrique::training
