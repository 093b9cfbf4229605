#include "libs/training/run_steps.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "libs/core/status_macros.h"
#include "libs/training/checkpoint_store.h"
#include "libs/training/evaluation.h"
#include "libs/training/reference_profile.h"
#include "libs/training/version_draft.h"

namespace fabrique::training {

using google::protobuf::util::TimeUtil;

bool RunSteps::Cancelled() {
  CancelToken& cancel = *state_.context.cancel;
  // The token keeps the first reason: a cancel noticed only after the deadline stays a cancel.
  if (!cancel.cancelled() && options_.clock->Now() > state_.context.deadline) cancel.TimeOut();
  return cancel.cancelled();
}

absl::Status RunSteps::End(absl::StatusOr<v1::Run> final_run) {
  RETURN_IF_ERROR(final_run.status());
  ended_ = *std::move(final_run);
  return absl::OkStatus();
}

absl::Status RunSteps::Fail(const std::string& reason) {
  return End(runs_.Transition(state_.run_id, v1::RUN_STATE_FAILED, reason));
}

absl::Status RunSteps::Stop(const absl::Status& status, const std::string& during) {
  const bool stopped = absl::IsCancelled(status) || Cancelled();
  if (stopped && state_.context.cancel->shutting_down()) {
    return Fail(absl::StrCat("the trainer was stopped while ", during, ": submit the run again"));
  }
  if (stopped && state_.context.cancel->timed_out()) {
    return Fail(absl::StrCat("the run's deadline passed while ", during,
                             ": give it a longer deadline, or less to do"));
  }
  if (stopped) {
    // As a queued run's cancel reads, with where it was: "cancelled by dana while training: ...".
    const CancelToken& cancel = *state_.context.cancel;
    const std::string who = cancel.cancelled_by(), why = cancel.cancel_reason();
    return End(runs_.Transition(state_.run_id, v1::RUN_STATE_CANCELLED,
                                absl::StrCat("cancelled", who.empty() ? "" : " by ", who, " while ",
                                             during, why.empty() ? "" : ": ", why)));
  }
  return Fail(absl::StrCat(during, ": ", status.message()));
}

bool RunSteps::ProgressDue(bool epoch_end) {
  const absl::Time now = options_.clock->Now();
  if (!epoch_end && now - last_report_ < options_.progress_interval) return false;
  last_report_ = now;
  return true;
}

absl::Status RunSteps::AddRows(const v1::TrainingSetRows& rows) {
  if (Cancelled()) return absl::CancelledError("cancelled");
  if (!state_.table) return absl::InternalError("rows arrived before the header");
  RETURN_IF_ERROR(state_.table->Add(rows));
  if (!ProgressDue(/*epoch_end=*/false)) return absl::OkStatus();
  const int64_t built = state_.table->table().features.rows;
  v1::RunEvent event;
  event.mutable_progress()->set_dataset_rows(built);
  return runs_
      .Update(
          state_.run_id, [&](v1::Run* r) { r->mutable_progress()->set_dataset_rows(built); }, event)
      .status();
}

absl::Status RunSteps::BuildDataset() {
  // The trainer began stopping after the queue handed this run over, before the run began: it
  // stays queued, untouched, and runs after the next start (failing it would lose it).
  if (state_.context.cancel->shutting_down()) return End(runs_.Get(state_.run_id));
  RETURN_IF_ERROR(runs_.Transition(state_.run_id, v1::RUN_STATE_BUILDING_DATASET));
  absl::StatusOr<v1::Dataset> dataset = options_.datasets->Build(
      state_.context, state_.spec,
      [&](const v1::TrainingSetHeader& header) -> absl::Status {
        state_.header = header;
        ASSIGN_OR_RETURN(TrainingSetTable table,
                         TrainingSetTable::Start(header, state_.config.task));
        state_.table.emplace(std::move(table));
        return absl::OkStatus();
      },
      [&](const v1::TrainingSetRows& rows) { return AddRows(rows); });
  if (!dataset.ok()) return Stop(dataset.status(), "building the training set");
  state_.dataset = *std::move(dataset);
  if (!state_.table || state_.table->table().features.rows == 0) {
    return Fail(absl::StrCat("empty training set for ", RangeText(state_.spec.time_range()),
                             ": no labelled row in that range; widen the time range or check the "
                             "label source"));
  }
  if (absl::Status split =
          state_.table->Split(state_.spec.split(), &state_.train, &state_.validation);
      !split.ok()) {
    return Fail(std::string(split.message()));
  }
  return runs_
      .Update(state_.run_id,
              [&](v1::Run* r) {
                r->set_dataset_id(state_.dataset.dataset_id());
                r->mutable_split_counts()->set_train_rows(state_.train.features.rows);
                r->mutable_split_counts()->set_validation_rows(state_.validation.features.rows);
              })
      .status();
}

absl::Status RunSteps::Train() {
  if (Cancelled()) return Stop(absl::CancelledError(""), "building the training set");
  // One trial, or each of the search's, one after another on the same data.
  state_.trials = {{}};
  if (state_.spec.has_search()) {
    absl::StatusOr<std::vector<TrialSettings>> expanded = ExpandSearch(state_.spec.search());
    if (!expanded.ok()) return Fail(std::string(expanded.status().message()));
    state_.trials = *std::move(expanded);
  }
  state_.objective = state_.spec.search().objective_metric().empty()
                         ? PrimaryMetric(state_.config.task)
                         : state_.spec.search().objective_metric();
  state_.best_config = state_.config;
  RETURN_IF_ERROR(runs_.Transition(state_.run_id, v1::RUN_STATE_TRAINING));
  std::string last_failure;
  const int trials = static_cast<int>(state_.trials.size());
  for (int index = 0; index < trials && !ended_; ++index) {
    RETURN_IF_ERROR(RunTrial(index, &last_failure));
  }
  if (ended_ || state_.best) return absl::OkStatus();
  return Fail(
      absl::StrCat(trials > 1 ? "every trial failed; the last: " : "training: ", last_failure));
}

absl::Status RunSteps::RunTrial(int index, std::string* failure) {
  absl::StatusOr<TrainConfig> config = ApplySettings(state_.config, state_.trials[index]);
  if (!config.ok()) return Fail(std::string(config.status().message()));
  last_report_ = absl::InfinitePast();
  const absl::Time trial_start = options_.clock->Now();
  // Only a run of one trial keeps checkpoints: Run.checkpoint_epoch names one epoch of one
  // training, and a search's trials each start afresh.
  std::optional<Checkpointing> checkpoints;
  if (!options_.checkpoint_dir.empty() && state_.trials.size() == 1) {
    checkpoints = MakeCheckpoints();
  }
  absl::StatusOr<TrainResult> trained = TrainTabular(
      state_.train, state_.validation, *config,
      [&](const TrainProgress& p) { ReportTraining(index, p, trial_start); },
      state_.context.cancel->flag(), checkpoints ? &*checkpoints : nullptr);
  if (absl::IsCancelled(trained.status()) || Cancelled()) {
    return Stop(absl::CancelledError(""), "training");
  }
  v1::Trial trial;
  trial.set_index(index);
  for (const auto& [name, value] : state_.trials[index]) (*trial.mutable_params())[name] = value;
  if (!trained.ok()) {
    // With several trials one that fails (diverges, say) is recorded and the search goes on.
    trial.set_state(v1::RUN_STATE_FAILED);
    trial.set_failure_reason(std::string(trained.status().message()));
    *failure = trial.failure_reason();
  } else {
    trial.set_state(v1::RUN_STATE_SUCCEEDED);
    for (const v1::Metric& m : trained->validation_metrics) *trial.add_metrics() = m;
    const v1::Metric* chosen = FindMetric(trained->validation_metrics, state_.objective);
    const bool higher = chosen == nullptr || chosen->higher_is_better();
    const double value = chosen != nullptr ? chosen->value() : trained->objective_value;
    trial.set_objective_value(value);
    trial.set_epochs_completed(trained->epochs_completed);
    trial.set_best_epoch(trained->best_epoch);
    *trial.mutable_duration() =
        TimeUtil::MillisecondsToDuration(static_cast<int64_t>(trained->train_seconds * 1000));
    if (state_.best_index < 0 || (higher ? value > state_.best_value : value < state_.best_value)) {
      state_.best_index = index;
      state_.best_value = value;
      state_.best_config = *config;
      state_.best = *std::move(trained);
    }
  }
  v1::RunEvent event;
  *event.mutable_trial_completed() = trial;
  return runs_
      .Update(
          state_.run_id, [&](v1::Run* r) { *r->add_trials() = trial; }, event)
      .status();
}

void RunSteps::Note(const std::string& severity, const std::string& message) {
  v1::RunEvent event;
  event.mutable_log()->set_severity(severity);
  event.mutable_log()->set_message(message);
  (void)runs_.Update(
      state_.run_id, [](v1::Run*) {}, event);
}

Checkpointing RunSteps::MakeCheckpoints() {
  const CheckpointStore store(options_.checkpoint_dir, state_.checkpoint_key);
  Checkpointing checkpoints;
  if (state_.resume_epoch > 0) {
    absl::StatusOr<std::string> saved = store.Read(state_.resume_epoch);
    if (saved.ok()) {
      checkpoints.resume = *std::move(saved);
      Note("INFO",
           absl::StrCat("resuming after epoch ", state_.resume_epoch, " from ", store.folder()));
    } else {
      Note("WARNING",
           absl::StrCat("no checkpoint of epoch ", state_.resume_epoch, " in ", store.folder(),
                        " (", saved.status().message(), "): training from the start"));
      (void)runs_.Update(state_.run_id, [](v1::Run* r) { r->set_checkpoint_epoch(0); });
    }
  }
  checkpoints.save = [this, store](int epoch, std::string checkpoint) -> absl::Status {
    if (absl::Status written = store.Write(epoch, checkpoint); !written.ok()) {
      Note("WARNING",
           absl::StrCat("epoch ", epoch, "'s checkpoint was not kept: ", written.message()));
      return absl::OkStatus();
    }
    return runs_.Update(state_.run_id, [epoch](v1::Run* r) { r->set_checkpoint_epoch(epoch); })
        .status();
  };
  return checkpoints;
}

void RunSteps::ReportTraining(int index, const TrainProgress& p, absl::Time trial_start) {
  (void)Cancelled();  // Every batch: a passed deadline stops training at the next one.
  if (!ProgressDue(p.epoch_end)) return;
  const int trials = static_cast<int>(state_.trials.size());
  v1::RunEvent event;
  v1::RunProgress* progress = event.mutable_progress();
  progress->set_trial(index);
  progress->set_trials_total(trials);
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
  const double elapsed = absl::ToDoubleSeconds(options_.clock->Now() - trial_start);
  if (done > 0) {
    const double left =
        (p.epochs_total - done) + (trials - index - 1) * static_cast<double>(p.epochs_total);
    *progress->mutable_eta() =
        TimeUtil::MillisecondsToDuration(static_cast<int64_t>(1000 * elapsed * left / done));
  }
  progress->set_dataset_rows(state_.train.features.rows + state_.validation.features.rows);
  event.set_epoch_end(p.epoch_end);
  (void)runs_.Update(
      state_.run_id, [&](v1::Run* r) { *r->mutable_progress() = *progress; }, event);
}

absl::Status RunSteps::Evaluate() {
  if (Cancelled()) return Stop(absl::CancelledError(""), "training");
  RETURN_IF_ERROR(runs_.Transition(state_.run_id, v1::RUN_STATE_EVALUATING));
  const TrainResult& result = *state_.best;
  state_.profile = BuildReferenceProfile(
      {&state_.train.features, &state_.train.labels, state_.config.task, result.num_classes,
       &result.validation_predictions, state_.dataset.dataset_id()});
  for (int f = 0; f < state_.profile.features_size() && f < state_.header.features_size(); ++f) {
    *state_.profile.mutable_features(f)->mutable_feature() = state_.header.features(f);
  }
  state_.card = DraftCard(state_);
  return runs_
      .Update(state_.run_id,
              [&](v1::Run* r) {
                r->set_best_trial(state_.best_index);
                r->mutable_metrics()->Clear();
                for (const v1::Metric& m : result.validation_metrics) *r->add_metrics() = m;
                r->set_device(result.device);
              })
      .status();
}

absl::Status RunSteps::Register() {
  // Past this point the run is no longer cancellable: a cancel, a deadline or a stop that comes
  // now is refused, and the version is registered and kept.
  if (Cancelled() || !state_.context.cancel->BeginCommit()) {
    return Stop(absl::CancelledError(""), "evaluating");
  }
  RETURN_IF_ERROR(runs_.Transition(state_.run_id, v1::RUN_STATE_REGISTERING));
  // Nor can its deadline fail it now: the calls that register the version, and the lineage,
  // are bounded by the ports' own retry window only. (A deadline that ended them would fail a
  // run past its point of no return, perhaps with its version already registered.)
  RunContext committed = state_.context;
  committed.deadline = absl::InfiniteFuture();
  absl::StatusOr<v1::ModelVersion> registered = options_.models->Register(
      committed, state_.spec, DraftArtifacts(state_), DraftVersion(state_), state_.run_id);
  if (!registered.ok()) return Stop(registered.status(), "registering the version");
  v1::ModelVersionRef ref;
  ref.set_model(registered->model());
  ref.set_version(registered->version());
  // The version exists now: a lineage edge that cannot be recorded is a warning on the run, not
  // a failure (the version's own lineage names the dataset either way).
  if (absl::Status usage =
          options_.datasets->RecordUsage(committed, state_.dataset.dataset_id(), ref);
      !usage.ok()) {
    v1::RunEvent warning;
    warning.mutable_log()->set_severity("WARNING");
    warning.mutable_log()->set_message(absl::StrCat(
        "the dataset -> model edge was not recorded in the feature store: ", usage.message()));
    (void)runs_.Update(
        state_.run_id, [](v1::Run*) {}, warning);
  }
  RETURN_IF_ERROR(
      runs_.Update(state_.run_id, [&](v1::Run* r) { *r->mutable_registered_version() = ref; }));
  // The version is kept: the checkpoints are no longer needed to resume anything.
  if (!options_.checkpoint_dir.empty()) {
    CheckpointStore(options_.checkpoint_dir, state_.checkpoint_key).Clear();
  }
  return End(runs_.Transition(state_.run_id, v1::RUN_STATE_SUCCEEDED,
                              absl::StrCat("registered ", ref.model(), ":", ref.version())));
}

}  // namespace fabrique::training
