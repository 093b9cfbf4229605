// A run taken through every state with fake ports for the feature store and the registry: the
// version registered carries the module, the profile and the card, its signature, metrics and
// lineage; and the failures: an empty training set names its time range, a cancelled run and a
// failed one register nothing, an unreachable dependency fails the run with the reason.

#include "libs/training/run_pipeline.h"

#include <atomic>
#include <cmath>
#include <random>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"

namespace fabrique::training {
namespace {

// Rows of two double features; the label is 1 when x0 + x1 > 0.
class FakeDatasets : public DatasetSource {
 public:
  int rows = 2000;
  absl::Status fail_with;
  std::vector<std::string> usages;

  absl::StatusOr<v1::Dataset> Build(
      const v1::RunSpec& spec, const std::string& run_id,
      const std::function<absl::Status(const v1::TrainingSetHeader&)>& header,
      const std::function<absl::Status(const v1::TrainingSetRows&)>& chunk) override {
    if (!fail_with.ok()) return fail_with;
    v1::TrainingSetHeader h;
    h.set_dataset_id("ds-" + run_id);
    for (const char* name : {"x0", "x1"}) {
      v1::VersionedFeatureRef* f = h.add_features();
      f->mutable_ref()->set_group("g");
      f->mutable_ref()->set_feature(name);
      f->set_schema_version(1);
      f->set_type(v1::FEATURE_TYPE_DOUBLE);
    }
    h.set_label_type(v1::FEATURE_TYPE_INT64);
    if (absl::Status s = header(h); !s.ok()) return s;
    std::mt19937 rng(1);
    std::normal_distribution<double> normal(0, 1);
    for (int first = 0; first < rows; first += 500) {
      v1::TrainingSetRows r;
      r.add_features();
      r.add_features();
      for (int i = first; i < std::min(rows, first + 500); ++i) {
        const double a = normal(rng), b = normal(rng);
        r.add_event_time_unix_micros(i);
        r.mutable_features(0)->mutable_values()->mutable_double_values()->add_values(a);
        r.mutable_features(1)->mutable_values()->mutable_double_values()->add_values(b);
        r.mutable_labels()->mutable_int64_values()->add_values(a + b > 0 ? 1 : 0);
      }
      if (absl::Status s = chunk(r); !s.ok()) return s;
    }
    v1::Dataset dataset;
    dataset.set_dataset_id(h.dataset_id());
    dataset.set_row_count(rows);
    return dataset;
  }
  absl::Status RecordUsage(const std::string& dataset_id,
                           const v1::ModelVersionRef& version) override {
    usages.push_back(dataset_id + "->" + version.model() + ":" + std::to_string(version.version()));
    return absl::OkStatus();
  }
};

class FakeModels : public ModelSink {
 public:
  absl::Status fail_with;
  std::vector<ArtifactToUpload> artifacts;
  std::vector<v1::ModelVersion> registered;
  std::string request_id;
  absl::StatusOr<v1::ModelVersion> Register(const v1::RunSpec&,
                                            const std::vector<ArtifactToUpload>& uploads,
                                            v1::ModelVersion version,
                                            const std::string& key) override {
    if (!fail_with.ok()) return fail_with;
    artifacts = uploads;
    request_id = key;
    version.set_version(static_cast<int64_t>(registered.size()) + 1);
    registered.push_back(version);
    return version;
  }
};

struct Harness {
  std::unique_ptr<kv::Store> kv;
  std::unique_ptr<RunStore> runs;
  FakeDatasets datasets;
  FakeModels models;
  Harness() {
    kv::StoreOptions options;
    options.path = "/in-memory/pipeline";
    options.in_memory = true;
    kv = *kv::Store::Open(options);
    runs = *RunStore::Create({kv.get()});
  }
  RunPipeline Pipeline() { return RunPipeline({runs.get(), &datasets, &models}); }
  std::string Submit() {
    v1::Run run;
    v1::RunSpec* spec = run.mutable_spec();
    spec->set_model_name("fraud");
    spec->set_task(v1::TASK_BINARY_CLASSIFICATION);
    spec->mutable_family()->mutable_mlp()->add_hidden_sizes(8);
    spec->mutable_optimizer()->set_learning_rate(0.01);
    spec->set_epochs(5);
    spec->set_device(v1::DEVICE_CPU);
    spec->set_threads(1);
    spec->mutable_split()->mutable_random()->set_seed(1);
    return runs->Submit(run)->run_id();
  }
};

std::vector<v1::RunState> States(const v1::Run& run) {
  std::vector<v1::RunState> states;
  for (const v1::RunStateChange& change : run.history()) states.push_back(change.to_state());
  return states;
}

TEST_CASE("A run goes from queued to a registered version with everything attached", "[pipeline]") {
  Harness h;
  const std::string id = h.Submit();
  absl::StatusOr<v1::Run> run = h.Pipeline().Execute(id, nullptr);
  REQUIRE(run.ok());
  INFO(run->failure_reason());
  REQUIRE(run->state() == v1::RUN_STATE_SUCCEEDED);
  CHECK(States(*run) ==
        std::vector<v1::RunState>{v1::RUN_STATE_QUEUED, v1::RUN_STATE_BUILDING_DATASET,
                                  v1::RUN_STATE_TRAINING, v1::RUN_STATE_EVALUATING,
                                  v1::RUN_STATE_REGISTERING, v1::RUN_STATE_SUCCEEDED});
  CHECK(run->dataset_id() == "ds-" + id);
  CHECK(run->split_counts().train_rows() == 1600);
  CHECK(run->split_counts().validation_rows() == 400);
  CHECK(run->registered_version().version() == 1);
  CHECK(run->trials_size() == 1);
  CHECK(run->best_trial() == 0);
  CHECK(run->device() == "cpu");
  bool auc_ok = false;
  for (const v1::Metric& m : run->metrics()) auc_ok |= m.name() == "auc" && m.value() > 0.95;
  CHECK(auc_ok);

  REQUIRE(h.models.registered.size() == 1);
  const v1::ModelVersion& version = h.models.registered[0];
  CHECK(h.models.request_id == id);  // The run id makes registration retries safe.
  REQUIRE(h.models.artifacts.size() == 3);
  CHECK(h.models.artifacts[0].kind == v1::ARTIFACT_KIND_TORCHSCRIPT_MODULE);
  CHECK(h.models.artifacts[2].kind == v1::ARTIFACT_KIND_MODEL_CARD);
  CHECK(absl::StrContains(h.models.artifacts[2].bytes, "g:x0 (schema v1)"));
  v1::ReferenceProfile profile;
  REQUIRE(profile.ParseFromString(h.models.artifacts[1].bytes));
  CHECK(profile.features_size() == 2);
  CHECK(profile.features(0).feature().ref().feature() == "x0");
  CHECK(profile.predictions_size() == 1);
  REQUIRE(version.signature().inputs_size() == 2);
  CHECK(version.signature().inputs(0).name() == "g:x0");
  CHECK(version.signature().outputs(0).name() == "probability");
  CHECK(version.lineage().trainer_run_id() == id);
  CHECK(version.lineage().dataset_ids(0) == "ds-" + id);
  CHECK(version.params().at("batch_size") == "256");
  CHECK(h.datasets.usages == std::vector<std::string>{"ds-" + id + "->fraud:1"});

  // The module scores raw rows.
  RawTable probe;
  probe.rows = 2;
  RawColumn x0, x1;
  x0.name = "g:x0";
  x0.numeric = {2, -2};
  x1.name = "g:x1";
  x1.numeric = {2, -2};
  probe.columns = {x0, x1};
  absl::StatusOr<std::vector<double>> p = PredictTorchScript(h.models.artifacts[0].bytes, probe);
  REQUIRE(p.ok());
  // Five short epochs rank well but are not yet confident: compare, not threshold.
  CHECK((*p)[0] > (*p)[1] + 0.2);

  // The events tell the story, in order, and end with the final record.
  std::vector<v1::RunEvent> events;
  REQUIRE(h.runs
              ->EventsAfter(id, 0,
                            [&](const v1::RunEvent& e) {
                              events.push_back(e);
                              return true;
                            })
              .ok());
  int epoch_ends = 0;
  for (const v1::RunEvent& e : events) epoch_ends += e.epoch_end();
  CHECK(epoch_ends == 5);
  CHECK(events.back().final_run().state() == v1::RUN_STATE_SUCCEEDED);
}

TEST_CASE("An empty training set fails the run, naming the time range", "[pipeline]") {
  Harness h;
  h.datasets.rows = 0;
  const std::string id = h.Submit();
  absl::StatusOr<v1::Run> run = h.Pipeline().Execute(id, nullptr);
  REQUIRE(run.ok());
  CHECK(run->state() == v1::RUN_STATE_FAILED);
  CHECK(absl::StrContains(run->failure_reason(), "empty training set for [the beginning, now)"));
  CHECK(h.models.registered.empty());
}

TEST_CASE("A cancelled run stops and registers nothing", "[pipeline]") {
  Harness h;
  const std::string id = h.Submit();
  CancelToken cancel;
  REQUIRE(cancel.Cancel());
  absl::StatusOr<v1::Run> run = h.Pipeline().Execute(id, &cancel);
  REQUIRE(run.ok());
  CHECK(run->state() == v1::RUN_STATE_CANCELLED);
  CHECK(absl::StrContains(run->history().rbegin()->reason(), "cancelled while"));
  CHECK(h.models.registered.empty());
}

TEST_CASE("A run the trainer's shutdown stops is failed, saying so", "[pipeline]") {
  Harness h;
  const std::string id = h.Submit();
  CancelToken cancel;
  REQUIRE(cancel.Shutdown());
  absl::StatusOr<v1::Run> run = h.Pipeline().Execute(id, &cancel);
  REQUIRE(run.ok());
  CHECK(run->state() == v1::RUN_STATE_FAILED);
  CHECK(absl::StrContains(run->failure_reason(), "the trainer was stopped while"));
  CHECK(h.models.registered.empty());
}

TEST_CASE("A cancel interrupts the call a run is blocked in, once", "[pipeline]") {
  CancelToken token;
  int interrupts = 0;
  token.SetInterrupt([&] { ++interrupts; });
  REQUIRE(token.Cancel());
  CHECK(interrupts == 1);
  token.SetInterrupt(nullptr);
  REQUIRE(token.Cancel());
  CHECK(interrupts == 1);  // Cleared: nothing left to interrupt.
  // Set after the cancel came, it interrupts at once.
  token.SetInterrupt([&] { ++interrupts; });
  CHECK(interrupts == 2);
  token.Reset();
  REQUIRE(token.BeginCommit());
  CHECK_FALSE(token.Shutdown());  // Registering: neither stops it.
  CHECK_FALSE(token.shutting_down());
}

TEST_CASE("Once a run registers, a cancel is refused and the run completes", "[pipeline]") {
  CancelToken token;
  REQUIRE(token.BeginCommit());
  CHECK_FALSE(token.Cancel());  // Past the point of no return.
  CHECK_FALSE(token.cancelled());
  token.Reset();
  REQUIRE(token.Cancel());
  CHECK_FALSE(token.BeginCommit());  // Cancelled first: it never commits.
}

TEST_CASE("An unreachable dependency fails the run with the reason", "[pipeline]") {
  Harness h;
  h.datasets.fail_with = absl::UnavailableError("feature store at 127.0.0.1:7101 is down");
  absl::StatusOr<v1::Run> run = h.Pipeline().Execute(h.Submit(), nullptr);
  REQUIRE(run.ok());
  CHECK(run->state() == v1::RUN_STATE_FAILED);
  CHECK(absl::StrContains(run->failure_reason(), "building the training set"));
  CHECK(absl::StrContains(run->failure_reason(), "is down"));

  h.datasets.fail_with = absl::OkStatus();
  h.models.fail_with = absl::UnavailableError("registry unreachable");
  run = h.Pipeline().Execute(h.Submit(), nullptr);
  REQUIRE(run.ok());
  CHECK(run->state() == v1::RUN_STATE_FAILED);
  CHECK(absl::StrContains(run->failure_reason(), "registering the version: registry unreachable"));
  CHECK(!run->has_registered_version());
}

TEST_CASE("A search runs its trials, records each, and registers the best", "[pipeline]") {
  Harness h;
  v1::Run run;
  v1::RunSpec* spec = run.mutable_spec();
  spec->set_model_name("fraud");
  spec->mutable_family()->mutable_mlp()->add_hidden_sizes(8);
  spec->set_epochs(4);
  spec->set_device(v1::DEVICE_CPU);
  spec->set_threads(1);
  v1::HyperparameterSearch* search = spec->mutable_search();
  search->set_strategy(v1::SEARCH_STRATEGY_GRID);
  search->set_max_trials(3);
  v1::HyperparameterRange* lr = search->add_ranges();
  lr->set_name("optimizer.learning_rate");
  // The first diverges: it is recorded as failed and the search goes on.
  for (const char* v : {"1e30", "0.00001", "0.02"}) lr->mutable_choices()->add_values(v);
  v1::HyperparameterRange* kind = search->add_ranges();
  kind->set_name("batch_size");
  kind->mutable_choices()->add_values("64");
  const std::string id = h.runs->Submit(run)->run_id();
  absl::StatusOr<v1::Run> done = h.Pipeline().Execute(id, nullptr);
  REQUIRE(done.ok());
  INFO(done->failure_reason());
  REQUIRE(done->state() == v1::RUN_STATE_SUCCEEDED);
  REQUIRE(done->trials_size() == 3);
  CHECK(done->trials(0).state() == v1::RUN_STATE_FAILED);
  CHECK(absl::StrContains(done->trials(0).failure_reason(), "diverged"));
  CHECK(done->trials(1).state() == v1::RUN_STATE_SUCCEEDED);
  CHECK(done->best_trial() == 2);  // 0.02 learns far more in 4 epochs than 0.00001.
  CHECK(done->trials(2).params().at("optimizer.learning_rate") == "0.02");
  REQUIRE(h.models.registered.size() == 1);
  CHECK(h.models.registered[0].params().at("learning_rate") == "0.02");
  CHECK(absl::StrContains(h.models.registered[0].params().at("search"), "trial 2 of 3"));
}

TEST_CASE("A run past its deadline is stopped and failed, saying where it was", "[pipeline]") {
  Harness h;
  absl::StatusOr<v1::Run> late =
      h.Pipeline().Execute(h.Submit(), nullptr, absl::Now() - absl::Seconds(1));
  REQUIRE(late.ok());
  CHECK(late->state() == v1::RUN_STATE_FAILED);
  CHECK(
      absl::StrContains(late->failure_reason(), "deadline passed while building the training set"));

  v1::Run run;
  run.mutable_spec()->set_model_name("fraud");
  run.mutable_spec()->set_epochs(100000);  // Far more than the deadline allows.
  run.mutable_spec()->set_device(v1::DEVICE_CPU);
  run.mutable_spec()->set_threads(1);
  const std::string id = h.runs->Submit(run)->run_id();
  const absl::Time start = absl::Now();
  absl::StatusOr<v1::Run> slow = h.Pipeline().Execute(id, nullptr, start + absl::Seconds(1));
  REQUIRE(slow.ok());
  CHECK(slow->state() == v1::RUN_STATE_FAILED);
  CHECK(absl::StrContains(slow->failure_reason(), "deadline passed while training"));
  CHECK(absl::Now() - start < absl::Seconds(10));
  CHECK(h.models.registered.empty());
}

}  // namespace
}  // namespace fabrique::training
