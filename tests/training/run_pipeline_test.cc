// A run taken through every state with fake ports for the feature store and the registry: the
// version registered carries the module, the profile and the card, its signature, metrics and
// lineage, and every port call carries the run's context (its deadline up to the point of no
// return); and the failures: an empty training set names its time range, a cancelled run and a
// failed one register nothing, an unreachable dependency fails the run with the reason, a passed
// deadline fails it saying where it was, unless its user cancelled it first; a stop fails a run
// in progress and leaves one not yet begun queued. Once the run registers, a cancel, a passed
// deadline and a stop are all refused: the run completes and keeps its version. Deadlines run on a
// fake clock, moved once the run is where the test wants it.

#include "libs/training/run_pipeline.h"

#include <functional>
#include <future>
#include <memory>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "google/protobuf/util/time_util.h"
#include "libs/training/run_state.h"
#include "tests/training/fake_ports.h"

namespace fabrique::training {
namespace {

using google::protobuf::util::TimeUtil;
using testing::AwaitState;
using testing::TrainableSpec;

struct Harness : testing::FakeTrainerParts {
  std::unique_ptr<RunPipeline> pipeline;

  Harness() : FakeTrainerParts("/in-memory/pipeline") {
    pipeline = *RunPipeline::Create({runs.get(), &datasets, &models, &clock});
  }
  // Stores a queued run of `spec` for the risk squad, submitted by dana of that squad, with
  // `deadline` (on the fake clock) when one is given.
  std::string Submit(v1::RunSpec spec = TrainableSpec(),
                     absl::Time deadline = absl::InfiniteFuture()) {
    v1::Run run;
    *run.mutable_spec() = std::move(spec);
    run.mutable_submitted_by()->set_subject("dana");
    run.mutable_submitted_by()->set_squad("risk");
    run.set_squad("risk");
    if (deadline != absl::InfiniteFuture()) {
      *run.mutable_deadline_time() =
          TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(deadline));
    }
    return runs->Submit(run)->run_id();
  }
  // Runs `run_id` on another thread.
  std::future<absl::StatusOr<v1::Run>> Start(const std::string& run_id, CancelToken* cancel) {
    return std::async(std::launch::async, [=] { return pipeline->Execute(run_id, cancel); });
  }
};

std::vector<v1::RunState> States(const v1::Run& run) {
  std::vector<v1::RunState> states;
  for (const v1::RunStateChange& change : run.history()) states.push_back(change.to_state());
  return states;
}

absl::StatusOr<v1::Run> Finish(std::future<absl::StatusOr<v1::Run>>& running) {
  REQUIRE(running.wait_for(std::chrono::seconds(120)) == std::future_status::ready);
  return running.get();
}

TEST_CASE("A run goes from queued to a registered version with everything attached", "[pipeline]") {
  Harness h;
  const absl::Time deadline = h.clock.Now() + absl::Hours(1);
  const std::string id = h.Submit(TrainableSpec(), deadline);
  absl::StatusOr<v1::Run> run = h.pipeline->Execute(id);
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

  REQUIRE(h.models.registered().size() == 1);
  const v1::ModelVersion version = h.models.registered()[0];
  CHECK(h.models.request_id() == id);  // The run id makes registration retries safe.
  const std::vector<ArtifactToUpload> artifacts = h.models.artifacts();
  REQUIRE(artifacts.size() == 3);
  CHECK(artifacts[0].kind == v1::ARTIFACT_KIND_TORCHSCRIPT_MODULE);
  CHECK(artifacts[2].kind == v1::ARTIFACT_KIND_MODEL_CARD);
  CHECK(absl::StrContains(artifacts[2].bytes, "g:x0 (schema v1)"));
  v1::ReferenceProfile profile;
  REQUIRE(profile.ParseFromString(artifacts[1].bytes));
  CHECK(profile.features_size() == 2);
  CHECK(profile.features(0).feature().ref().feature() == "x0");
  CHECK(profile.predictions_size() == 1);
  REQUIRE(version.signature().inputs_size() == 2);
  CHECK(version.signature().inputs(0).name() == "g:x0");
  CHECK(version.signature().outputs(0).name() == "probability");
  CHECK(version.lineage().trainer_run_id() == id);
  CHECK(version.lineage().dataset_ids(0) == "ds-" + id);
  CHECK(version.params().at("batch_size") == "256");
  CHECK(h.datasets.usages() == std::vector<std::string>{"ds-" + id + "->fraud:1"});

  // Every port call was made for this run: its id, its submitter, a cancel token, and its
  // deadline until the point of no return; the calls after it, which register the version and
  // its lineage, are not bounded by the deadline (a deadline passing then must not fail them).
  std::vector<RunContext> contexts = h.datasets.contexts();               // Build, RecordUsage.
  for (const RunContext& c : h.models.contexts()) contexts.push_back(c);  // Register.
  REQUIRE(contexts.size() == 3);
  for (const RunContext& c : contexts) {
    CHECK(c.run_id == id);
    CHECK(c.caller.subject() == "dana");
    CHECK(c.caller.squad() == "risk");
    CHECK(c.squad == "risk");
    CHECK(c.cancel != nullptr);
  }
  CHECK(contexts[0].deadline == deadline);
  CHECK(contexts[1].deadline == absl::InfiniteFuture());
  CHECK(contexts[2].deadline == absl::InfiniteFuture());

  // The module scores raw rows.
  RawTable probe;
  probe.rows = 2;
  RawColumn x0, x1;
  x0.name = "g:x0";
  x0.numeric = {2, -2};
  x1.name = "g:x1";
  x1.numeric = {2, -2};
  probe.columns = {x0, x1};
  absl::StatusOr<std::vector<double>> p = PredictTorchScript(artifacts[0].bytes, probe);
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

TEST_CASE("A pipeline needs its store and both ports", "[pipeline]") {
  Harness h;
  CHECK(RunPipeline::Create({nullptr, &h.datasets, &h.models}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(RunPipeline::Create({h.runs.get(), &h.datasets, nullptr}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("An empty training set fails the run, naming the time range", "[pipeline]") {
  Harness h;
  h.datasets.rows = 0;
  const std::string id = h.Submit();
  absl::StatusOr<v1::Run> run = h.pipeline->Execute(id);
  REQUIRE(run.ok());
  CHECK(run->state() == v1::RUN_STATE_FAILED);
  CHECK(absl::StrContains(run->failure_reason(), "empty training set for [the beginning, now)"));
  CHECK(h.models.registered().empty());
}

TEST_CASE("A cancelled run stops and registers nothing", "[pipeline]") {
  Harness h;
  const std::string id = h.Submit();
  CancelToken cancel;
  REQUIRE(cancel.Cancel());
  absl::StatusOr<v1::Run> run = h.pipeline->Execute(id, &cancel);
  REQUIRE(run.ok());
  CHECK(run->state() == v1::RUN_STATE_CANCELLED);
  CHECK(absl::StrContains(run->history().rbegin()->reason(), "cancelled while"));
  CHECK(h.models.registered().empty());
}

// Runs `id` to its dataset call, where it blocks, calls `stop` with its token there, and returns
// the run as it ended.
absl::StatusOr<v1::Run> StopWhileBuilding(Harness& h, const std::string& id, CancelToken& cancel,
                                          const std::function<void()>& stop) {
  h.datasets.gate.Close();
  auto running = h.Start(id, &cancel);
  REQUIRE(h.datasets.gate.AwaitArrivals(1));
  stop();
  return Finish(running);
}

TEST_CASE("A cancel interrupts the dataset call a run is blocked in", "[pipeline]") {
  Harness h;
  CancelToken cancel;
  absl::StatusOr<v1::Run> run =
      StopWhileBuilding(h, h.Submit(), cancel, [&] { REQUIRE(cancel.Cancel()); });
  REQUIRE(run.ok());
  CHECK(run->state() == v1::RUN_STATE_CANCELLED);
  CHECK(run->history().rbegin()->reason() == "cancelled while building the training set");
  CHECK(h.models.registered().empty());
}

TEST_CASE("A run the trainer's shutdown stops is failed, saying so", "[pipeline]") {
  Harness h;
  CancelToken cancel;
  absl::StatusOr<v1::Run> run =
      StopWhileBuilding(h, h.Submit(), cancel, [&] { REQUIRE(cancel.Shutdown()); });
  REQUIRE(run.ok());
  CHECK(run->state() == v1::RUN_STATE_FAILED);
  CHECK(run->failure_reason() ==
        "the trainer was stopped while building the training set: submit the run again");
  CHECK(h.models.registered().empty());
}

TEST_CASE("A run the trainer's shutdown reaches before it began stays queued", "[pipeline]") {
  Harness h;
  const std::string id = h.Submit();
  CancelToken cancel;
  REQUIRE(cancel.Shutdown());
  absl::StatusOr<v1::Run> run = h.pipeline->Execute(id, &cancel);
  REQUIRE(run.ok());
  CHECK(run->state() == v1::RUN_STATE_QUEUED);
  CHECK(States(*h.runs->Get(id)) == std::vector<v1::RunState>{v1::RUN_STATE_QUEUED});
  CHECK(h.datasets.contexts().empty());  // Nothing was asked of the feature store.
  // The next start runs it.
  run = h.pipeline->Execute(id);
  REQUIRE(run.ok());
  CHECK(run->state() == v1::RUN_STATE_SUCCEEDED);
}

TEST_CASE("A cancel the run notices only after its deadline passed stays a cancel", "[pipeline]") {
  Harness h;
  // As the real port answers once rows arrived: the run learns why from its token.
  h.datasets.interrupted_with = absl::AbortedError("the training-set stream broke: cancelled");
  CancelToken cancel;
  const std::string id = h.Submit(TrainableSpec(), h.clock.Now() + absl::Hours(1));
  absl::StatusOr<v1::Run> run = StopWhileBuilding(h, id, cancel, [&] {
    h.clock.Advance(absl::Hours(2));  // The deadline passes while the run waits...
    REQUIRE(cancel.Cancel());         // ...and its user cancels it before it notices.
  });
  REQUIRE(run.ok());
  CHECK(run->state() == v1::RUN_STATE_CANCELLED);
  CHECK(run->history().rbegin()->reason() == "cancelled while building the training set");
  CHECK_FALSE(cancel.timed_out());
}

TEST_CASE("A cancel token interrupts the call a run is blocked in, once", "[pipeline]") {
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
  CHECK_FALSE(token.BeginCommit());  // Cancelled first: it never commits.

  // The first reason to stop stays.
  CancelToken cancelled_first;
  REQUIRE(cancelled_first.Cancel());
  REQUIRE(cancelled_first.TimeOut());
  CHECK_FALSE(cancelled_first.timed_out());
  REQUIRE(cancelled_first.Shutdown());
  CHECK_FALSE(cancelled_first.shutting_down());
  CancelToken timed_out_first;
  REQUIRE(timed_out_first.TimeOut());
  REQUIRE(timed_out_first.Cancel());
  REQUIRE(timed_out_first.Shutdown());
  CHECK(timed_out_first.timed_out());
  CHECK_FALSE(timed_out_first.shutting_down());

  CancelToken committed;
  REQUIRE(committed.BeginCommit());
  CHECK_FALSE(committed.Cancel());  // Past the point of no return.
  CHECK_FALSE(committed.Shutdown());
  CHECK_FALSE(committed.TimeOut());
  CHECK_FALSE(committed.cancelled());
  CHECK_FALSE(committed.shutting_down());
}

// Runs a run to its Register call, tries `stop` there, lets the call go on, and checks that the
// run completed with its version and lineage all the same.
void RegisterDespite(const std::function<void(Harness&, CancelToken&)>& stop) {
  Harness h;
  h.models.gate.Close();
  CancelToken cancel;
  const std::string id = h.Submit(TrainableSpec(), h.clock.Now() + absl::Hours(1));
  auto running = h.Start(id, &cancel);
  REQUIRE(h.models.gate.AwaitArrivals(1));
  CHECK(h.runs->Get(id)->state() == v1::RUN_STATE_REGISTERING);
  stop(h, cancel);
  h.models.gate.Open();
  absl::StatusOr<v1::Run> run = Finish(running);
  REQUIRE(run.ok());
  INFO(run->failure_reason());
  CHECK(run->state() == v1::RUN_STATE_SUCCEEDED);
  CHECK(run->registered_version().version() == 1);
  CHECK(h.models.registered().size() == 1);
  CHECK(h.datasets.usages().size() == 1);  // The lineage edge is recorded too.
}

TEST_CASE("Once a run registers, a cancel is refused and the run completes", "[pipeline]") {
  RegisterDespite([](Harness&, CancelToken& cancel) {
    CHECK_FALSE(cancel.Cancel());
    CHECK_FALSE(cancel.cancelled());
  });
}

TEST_CASE("Once a run registers, its deadline passing lets it complete", "[pipeline]") {
  RegisterDespite([](Harness& h, CancelToken&) { h.clock.Advance(absl::Hours(2)); });
}

TEST_CASE("Once a run registers, a stop of the trainer lets it complete", "[pipeline]") {
  RegisterDespite([](Harness&, CancelToken& cancel) {
    CHECK_FALSE(cancel.Shutdown());
    CHECK_FALSE(cancel.shutting_down());
  });
}

TEST_CASE("An unreachable dependency fails the run with the reason", "[pipeline]") {
  Harness h;
  h.datasets.fail_with = absl::UnavailableError("feature store at 127.0.0.1:7101 is down");
  absl::StatusOr<v1::Run> run = h.pipeline->Execute(h.Submit());
  REQUIRE(run.ok());
  CHECK(run->state() == v1::RUN_STATE_FAILED);
  CHECK(absl::StrContains(run->failure_reason(), "building the training set"));
  CHECK(absl::StrContains(run->failure_reason(), "is down"));

  h.datasets.fail_with = absl::OkStatus();
  h.models.fail_with = absl::UnavailableError("registry unreachable");
  run = h.pipeline->Execute(h.Submit());
  REQUIRE(run.ok());
  CHECK(run->state() == v1::RUN_STATE_FAILED);
  CHECK(absl::StrContains(run->failure_reason(), "registering the version: registry unreachable"));
  CHECK(!run->has_registered_version());
}

TEST_CASE("A search runs its trials, records each, and registers the best", "[pipeline]") {
  Harness h;
  v1::RunSpec spec = TrainableSpec();
  spec.set_epochs(4);
  spec.clear_optimizer();
  spec.clear_split();
  v1::HyperparameterSearch* search = spec.mutable_search();
  search->set_strategy(v1::SEARCH_STRATEGY_GRID);
  search->set_max_trials(3);
  v1::HyperparameterRange* lr = search->add_ranges();
  lr->set_name("optimizer.learning_rate");
  // The first diverges: it is recorded as failed and the search goes on.
  for (const char* v : {"1e30", "0.00001", "0.02"}) lr->mutable_choices()->add_values(v);
  v1::HyperparameterRange* kind = search->add_ranges();
  kind->set_name("batch_size");
  kind->mutable_choices()->add_values("64");
  absl::StatusOr<v1::Run> done = h.pipeline->Execute(h.Submit(spec));
  REQUIRE(done.ok());
  INFO(done->failure_reason());
  REQUIRE(done->state() == v1::RUN_STATE_SUCCEEDED);
  REQUIRE(done->trials_size() == 3);
  CHECK(done->trials(0).state() == v1::RUN_STATE_FAILED);
  CHECK(absl::StrContains(done->trials(0).failure_reason(), "diverged"));
  CHECK(done->trials(1).state() == v1::RUN_STATE_SUCCEEDED);
  CHECK(done->best_trial() == 2);  // 0.02 learns far more in 4 epochs than 0.00001.
  CHECK(done->trials(2).params().at("optimizer.learning_rate") == "0.02");
  REQUIRE(h.models.registered().size() == 1);
  CHECK(h.models.registered()[0].params().at("learning_rate") == "0.02");
  CHECK(absl::StrContains(h.models.registered()[0].params().at("search"), "trial 2 of 3"));
}

TEST_CASE("A run past its deadline is stopped and failed, saying where it was", "[pipeline]") {
  Harness h;
  SECTION("a deadline passed before the run started") {
    absl::StatusOr<v1::Run> late =
        h.pipeline->Execute(h.Submit(TrainableSpec(), h.clock.Now() - absl::Seconds(1)));
    REQUIRE(late.ok());
    CHECK(late->state() == v1::RUN_STATE_FAILED);
    CHECK(absl::StrContains(late->failure_reason(),
                            "deadline passed while building the training set"));
  }
  SECTION("a deadline that passes while training") {
    v1::RunSpec spec = TrainableSpec();
    spec.set_epochs(100000);  // Far more than the deadline allows.
    const std::string id = h.Submit(spec, h.clock.Now() + absl::Hours(1));
    auto running = h.Start(id, nullptr);
    REQUIRE(AwaitState(*h.runs, id, v1::RUN_STATE_TRAINING));
    h.clock.Advance(absl::Hours(2));
    absl::StatusOr<v1::Run> slow = Finish(running);
    REQUIRE(slow.ok());
    CHECK(slow->state() == v1::RUN_STATE_FAILED);
    CHECK(slow->failure_reason() ==
          "the run's deadline passed while training: give it a longer deadline, or less to do");
  }
  CHECK(h.models.registered().empty());
}

}  // namespace
}  // namespace fabrique::training
