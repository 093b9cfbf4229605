// The tower's local executor and the trainer's one-shot mode through the real binaries:
// fabrique-features holding a learnable task, fabrique-registry, fabrique-trainer, all over TLS
// with the default policy. The executor calls as the tower (its certificate) for the job's
// submitter, dana of squad risk.
// - A training job runs to SUCCEEDED with the version it registered, after RUNNING updates.
// - A job stopped mid-run ends CANCELLED with the last epoch checkpointed; started again (as a
//   requeued job: one more preemption, that checkpoint epoch) it resumes after that epoch, and
//   succeeds.
// - `fabrique-trainer --run_spec FILE` trains, registers and exits 0 with the termination log's
//   line; a spec it cannot run exits 1 with the reason on stderr and in the log.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/registry.grpc.pb.h"
#include "fabrique/v1/trainer.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "libs/core/file_io.h"
#include "services/tower/local_trainer_executor.h"
#include "tests/integration/killable_service.h"
#include "tests/integration/labelled_signals.h"
#include "tests/integration/secure_service.h"
#include "tests/util/test_util.h"
#include "tools/cli/child_process.h"

namespace fabrique {
namespace {

using testing::KillableService;
using testing::LocalIdentity;
using testing::TempDir;

// Collects a job's updates, in order.
class Updates : public tower::ExecutionSink {
 public:
  void OnUpdate(const tower::ExecutionUpdate& update) override {
    absl::MutexLock lock(&mu_);
    all_.push_back(update);
  }
  // Waits (at most `timeout`) for an update `matches` accepts; returns it.
  template <typename Match>
  std::optional<tower::ExecutionUpdate> Await(Match matches, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    absl::MutexLock lock(&mu_);
    for (seen_ = 0;; ++seen_) {
      if (seen_ == all_.size() &&
          !mu_.AwaitWithDeadline(absl::Condition(this, &Updates::Grew), deadline)) {
        return std::nullopt;
      }
      if (matches(all_[seen_])) return all_[seen_];
    }
  }
  std::vector<tower::ExecutionUpdate> all() {
    absl::MutexLock lock(&mu_);
    return all_;
  }

 private:
  bool Grew() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return all_.size() > seen_; }

  absl::Mutex mu_;
  std::vector<tower::ExecutionUpdate> all_ ABSL_GUARDED_BY(mu_);
  size_t seen_ ABSL_GUARDED_BY(mu_) = 0;
};

bool Final(const tower::ExecutionUpdate& u) { return u.state != v1::JOB_STATE_RUNNING; }

// A channel presenting the tower's certificate, as fabrique-tower's peers see it.
std::shared_ptr<grpc::Channel> AsTower(const std::string& target) {
  client::ChannelOptions options;
  options.target = target;
  options.tls.ca_path = LocalIdentity().authority().ca_cert_path();
  options.tls.cert_path = LocalIdentity().authority().cert_path("tower");
  options.tls.key_path = LocalIdentity().authority().key_path("tower");
  auto channel = client::MakeChannel(options);
  REQUIRE(channel.ok());
  return *channel;
}

v1::Job TrainingJob(const std::string& id, const v1::RunSpec& spec) {
  v1::Job job;
  job.set_id(id);
  job.set_squad("risk");
  *job.mutable_spec()->mutable_training() = spec;
  job.mutable_spec()->mutable_resources()->set_cpu_cores(2);
  job.mutable_submitted_by()->set_subject("dana");
  job.mutable_submitted_by()->add_groups("risk:data-scientist");
  return job;
}

struct Factory {
  TempDir tmp;
  KillableService features{"fabrique-features", tmp.Sub("features"), tmp.Sub("features.log")};
  v1::RunSpec spec;
  KillableService registry{"fabrique-registry", tmp.Sub("registry"), tmp.Sub("registry.log")};
  KillableService trainer{"fabrique-trainer",
                          tmp.Sub("trainer"),
                          tmp.Sub("trainer.log"),
                          {absl::StrCat("--features_target=", features.target()),
                           absl::StrCat("--registry_target=", registry.target())}};
  explicit Factory(int epochs)
      : spec(testing::SeedSignals(*v1::FeatureStore::NewStub(features.channel()), "signals",
                                  epochs)) {}
};

std::unique_ptr<services::LocalTrainerExecutor> Executor(const KillableService& trainer) {
  services::LocalTrainerExecutorOptions options;
  options.trainer = AsTower(trainer.target());
  options.trainer_target = trainer.target();
  options.reconnect_backoff = absl::Milliseconds(200);
  auto executor = services::LocalTrainerExecutor::Create(std::move(options));
  REQUIRE(executor.ok());
  return *std::move(executor);
}

TEST_CASE("the local executor runs a training job on the real trainer to its version") {
  Factory factory(/*epochs=*/4);
  auto executor = Executor(factory.trainer);
  Updates updates;
  const v1::Job job = TrainingJob("job-1", factory.spec);
  const absl::Status started = executor->Start(job, &updates);
  INFO(started.ToString());
  REQUIRE(started.ok());
  REQUIRE(executor->Start(job, &updates).ok());  // Idempotent: the same run.
  auto last = updates.Await(Final, absl::Seconds(120));
  INFO(cli::TailFile(factory.trainer.log_path(), 20));
  REQUIRE(last.has_value());
  INFO(last->reason);
  CHECK(last->state == v1::JOB_STATE_SUCCEEDED);
  CHECK(last->result_version.model() == "signals");
  CHECK(last->result_version.version() == 1);
  CHECK(last->checkpoint_epoch == 4);
  CHECK(last->usage.cpu_seconds() > 0);
  CHECK(last->usage.memory_gib_seconds() * 2 == Approx(last->usage.cpu_seconds()));
  const auto all = updates.all();
  CHECK(all.front().state == v1::JOB_STATE_RUNNING);
  CHECK_FALSE(all.front().trainer_run_id.empty());
  int finals = 0;
  for (const auto& u : all) finals += Final(u) ? 1 : 0;
  CHECK(finals == 1);  // One run, followed once, though started twice.
}

TEST_CASE("a stopped job reports its checkpoint, and its restart resumes after it") {
  Factory factory(/*epochs=*/5000);
  auto executor = Executor(factory.trainer);
  Updates first;
  v1::Job job = TrainingJob("job-2", factory.spec);
  REQUIRE(executor->Start(job, &first).ok());
  auto checkpointed = first.Await(
      [](const tower::ExecutionUpdate& u) { return u.checkpoint_epoch >= 2; }, absl::Seconds(120));
  INFO(cli::TailFile(factory.trainer.log_path(), 20));
  REQUIRE(checkpointed.has_value());
  job.set_trainer_run_id(checkpointed->trainer_run_id);
  const absl::Status stopped = executor->Stop(job, "preempted for a higher priority job");
  INFO(stopped.ToString());
  REQUIRE(stopped.ok());
  auto cancelled = first.Await(Final, absl::Seconds(60));
  REQUIRE(cancelled.has_value());
  CHECK(cancelled->state == v1::JOB_STATE_CANCELLED);
  CHECK(absl::StrContains(cancelled->reason, "preempted for a higher priority job"));
  REQUIRE(cancelled->checkpoint_epoch >= 2);

  // Requeued: one more preemption, resuming after the epoch reported.
  v1::Job again = TrainingJob("job-2", factory.spec);
  again.set_preemptions(1);
  again.set_checkpoint_epoch(cancelled->checkpoint_epoch);
  again.mutable_spec()->mutable_training()->set_epochs(cancelled->checkpoint_epoch + 2);
  Updates second;
  REQUIRE(executor->Start(again, &second).ok());
  auto done = second.Await(Final, absl::Seconds(120));
  REQUIRE(done.has_value());
  INFO(done->reason);
  CHECK(done->state == v1::JOB_STATE_SUCCEEDED);
  CHECK(done->trainer_run_id != cancelled->trainer_run_id);
  CHECK(done->checkpoint_epoch == cancelled->checkpoint_epoch + 2);
  // The trainer's record of the resumed run: its progress began after the checkpoint.
  auto stub = v1::Trainer::NewStub(factory.trainer.channel());
  v1::WatchRunRequest watch;
  watch.set_run_id(done->trainer_run_id);
  auto context = testing::TokenContext(LocalIdentity(), "root", {}, absl::Seconds(20));
  auto reader = stub->WatchRun(context.get(), watch);
  v1::RunEvent event;
  int first_epoch = 0;
  bool resumed_note = false;
  while (reader->Read(&event)) {
    if (event.has_progress() && event.epoch_end() && first_epoch == 0) {
      first_epoch = event.progress().epoch();
    }
    if (event.has_log() && absl::StrContains(event.log().message(), "resuming after epoch")) {
      resumed_note = true;
    }
  }
  CHECK(resumed_note);
  CHECK(first_epoch == cancelled->checkpoint_epoch + 1);
}

// ---- One-shot mode ----

std::vector<std::string> OneShotArgs(const Factory& factory, const std::string& spec_path,
                                     const std::string& termination_log) {
  std::vector<std::string> argv = {absl::StrCat(testing::BinDir(), "/fabrique-trainer"),
                                   absl::StrCat("--data_dir=", factory.tmp.Sub("one-shot")),
                                   absl::StrCat("--run_spec=", spec_path),
                                   "--squad=risk",
                                   "--tower_job_id=job-k8s",
                                   absl::StrCat("--termination_log=", termination_log),
                                   absl::StrCat("--features_target=", factory.features.target()),
                                   absl::StrCat("--registry_target=", factory.registry.target())};
  for (std::string& flag : testing::SecureServerFlags(LocalIdentity(), "trainer")) {
    argv.push_back(std::move(flag));
  }
  return argv;
}

TEST_CASE("fabrique-trainer --run_spec trains one spec to its version and exits") {
  Factory factory(/*epochs=*/3);
  std::string json;
  REQUIRE(google::protobuf::util::MessageToJsonString(factory.spec, &json).ok());
  const std::string spec_path = factory.tmp.Sub("spec.json");
  REQUIRE(core::WriteFileAtomically(spec_path, json, 0644).ok());
  const std::string log = factory.tmp.Sub("termination-log");

  auto process = cli::ChildProcess::Spawn(OneShotArgs(factory, spec_path, log),
                                          factory.tmp.Sub("one-shot.log"));
  REQUIRE(process.ok());
  const std::optional<int> code = (*process)->Wait(absl::Seconds(180));
  const std::string output = cli::TailFile(factory.tmp.Sub("one-shot.log"), 40);
  INFO(output);
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  CHECK(absl::StrContains(output, "epoch 3/3"));
  CHECK(absl::StrContains(output, "registered signals:1"));
  auto line = core::ReadSmallFile(log);
  REQUIRE(line.ok());
  CHECK(*line ==
        "{\"model\":\"signals\",\"version\":1,\"checkpoint_epoch\":3,\"state\":\"SUCCEEDED\","
        "\"reason\":\"registered signals:1\"}\n");

  SECTION("a spec it cannot run: exit 1, the reason on stderr and in the log") {
    v1::RunSpec bad = factory.spec;
    bad.mutable_features(0)->set_feature("no_such_feature");
    std::string bad_json;
    REQUIRE(google::protobuf::util::MessageToJsonString(bad, &bad_json).ok());
    REQUIRE(core::WriteFileAtomically(spec_path, bad_json, 0644).ok());
    auto failing = cli::ChildProcess::Spawn(OneShotArgs(factory, spec_path, log),
                                            factory.tmp.Sub("one-shot-bad.log"));
    REQUIRE(failing.ok());
    const std::optional<int> failed = (*failing)->Wait(absl::Seconds(60));
    const std::string said = cli::TailFile(factory.tmp.Sub("one-shot-bad.log"), 20);
    INFO(said);
    REQUIRE(failed.has_value());
    CHECK(*failed == 1);
    CHECK(absl::StrContains(said, "no_such_feature"));
    auto bad_line = core::ReadSmallFile(log);
    REQUIRE(bad_line.ok());
    CHECK(absl::StrContains(*bad_line, "\"state\":\"FAILED\""));
    CHECK(absl::StrContains(*bad_line, "no_such_feature"));
  }
}

}  // namespace
}  // namespace fabrique
