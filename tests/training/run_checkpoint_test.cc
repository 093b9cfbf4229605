// Epoch checkpoints through the run pipeline, with fake ports: a run records each epoch it
// checkpointed (Run.checkpoint_epoch), a run cancelled mid-training says where it stopped, and a
// run of the same tower job submitted to resume after that epoch trains only the epochs left
// and registers the very metrics an uninterrupted run of the same spec registers; its
// checkpoints are dropped once its version is registered. A checkpoint that is missing is a
// warning in the run's log, and the run trains from the start.

#include <filesystem>
#include <future>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "libs/training/checkpoint_store.h"
#include "libs/training/run_pipeline.h"
#include "tests/training/fake_ports.h"
#include "tests/util/test_util.h"

namespace fabrique::training {
namespace {

using testing::TrainableSpec;

struct Harness : testing::FakeTrainerParts {
  ::fabrique::testing::TempDir tmp;
  std::unique_ptr<RunPipeline> pipeline;

  Harness() : FakeTrainerParts("/in-memory/checkpoints") {
    RunPipelineOptions options;
    options.runs = runs.get();
    options.datasets = &datasets;
    options.models = &models;
    options.clock = &clock;
    options.checkpoint_dir = tmp.path();
    pipeline = *RunPipeline::Create(options);
  }
  // A queued run of `epochs` epochs for tower job `job`, resuming after `resume` (as
  // SubmitRunRequest.resume_from_epoch records it).
  std::string Submit(const std::string& job, int epochs, int resume = 0) {
    v1::Run run;
    *run.mutable_spec() = TrainableSpec();
    run.mutable_spec()->set_epochs(epochs);
    run.mutable_submitted_by()->set_subject("dana");
    run.set_squad("risk");
    run.set_tower_job_id(job);
    run.set_checkpoint_epoch(resume);
    return runs->Submit(run)->run_id();
  }
  // Waits until the run has checkpointed at least `epoch` (polled: a checkpoint adds no event).
  bool AwaitCheckpoint(const std::string& run_id, int epoch) {
    const absl::Time give_up = absl::Now() + absl::Seconds(60);
    int64_t seen = 0;
    while (absl::Now() < give_up) {
      absl::StatusOr<v1::Run> run = runs->Get(run_id);
      if (run.ok() && run->checkpoint_epoch() >= epoch) return true;
      seen = runs->WaitForEventAfter(run_id, seen, absl::Milliseconds(50));
    }
    return false;
  }
  bool Logged(const std::string& run_id, const std::string& text) {
    bool found = false;
    (void)runs->EventsAfter(run_id, 0, [&](const v1::RunEvent& e) {
      found = found || (e.has_log() && absl::StrContains(e.log().message(), text));
      return true;
    });
    return found;
  }
};

TEST_CASE("a preempted run resumes after its checkpoint and ends as an uninterrupted one") {
  Harness h;
  const std::string first = h.Submit("job-1", /*epochs=*/500);
  CancelToken cancel;
  auto running =
      std::async(std::launch::async, [&] { return h.pipeline->Execute(first, &cancel); });
  REQUIRE(h.AwaitCheckpoint(first, 2));
  REQUIRE(cancel.Cancel("tower", "preempted"));
  absl::StatusOr<v1::Run> stopped = running.get();
  REQUIRE(stopped.ok());
  REQUIRE(stopped->state() == v1::RUN_STATE_CANCELLED);
  const int epoch = stopped->checkpoint_epoch();
  REQUIRE(epoch >= 2);
  REQUIRE(epoch < 500);
  const CheckpointStore store(h.tmp.path(), "job-1");
  REQUIRE(store.Read(epoch).ok());

  // The requeued job: 3 more epochs after the checkpoint.
  const std::string second = h.Submit("job-1", epoch + 3, epoch);
  absl::StatusOr<v1::Run> resumed = h.pipeline->Execute(second);
  REQUIRE(resumed.ok());
  INFO(resumed->failure_reason());
  REQUIRE(resumed->state() == v1::RUN_STATE_SUCCEEDED);
  CHECK(resumed->checkpoint_epoch() == epoch + 3);
  CHECK(resumed->trials(0).epochs_completed() == epoch + 3);
  CHECK(h.Logged(second, "resuming after epoch"));
  CHECK_FALSE(std::filesystem::exists(store.folder()));  // Dropped once registered.

  // The same spec, uninterrupted, for another job: the same metrics, to the last bit.
  const std::string whole = h.Submit("job-2", epoch + 3);
  absl::StatusOr<v1::Run> uninterrupted = h.pipeline->Execute(whole);
  REQUIRE(uninterrupted.ok());
  REQUIRE(uninterrupted->state() == v1::RUN_STATE_SUCCEEDED);
  REQUIRE(resumed->metrics_size() == uninterrupted->metrics_size());
  for (int i = 0; i < resumed->metrics_size(); ++i) {
    INFO(resumed->metrics(i).name());
    CHECK(resumed->metrics(i).value() == uninterrupted->metrics(i).value());
  }
  CHECK(resumed->trials(0).best_epoch() == uninterrupted->trials(0).best_epoch());
}

TEST_CASE("a run asked to resume from a checkpoint that is not there trains from the start") {
  Harness h;
  const std::string id = h.Submit("job-lost", /*epochs=*/3, /*resume=*/7);
  absl::StatusOr<v1::Run> run = h.pipeline->Execute(id);
  REQUIRE(run.ok());
  CHECK(run->state() == v1::RUN_STATE_SUCCEEDED);
  CHECK(run->trials(0).epochs_completed() == 3);
  CHECK(run->checkpoint_epoch() == 3);
  CHECK(h.Logged(id, "no checkpoint of epoch 7"));
}

}  // namespace
}  // namespace fabrique::training
