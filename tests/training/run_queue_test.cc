// The trainer's core with fake ports: submissions are checked before any work and idempotent by
// request id; runs wait in order and run with their own context (deadline from the submission,
// submitter, cancel token), on one worker or several at once; a queued run is cancelled at once,
// a running one within its step, a registering one not at all (it completes); a stop fails the
// run in progress unless it is registering and keeps the queued ones for the next start; watches
// stream every event and end at shutdown; the observer hears every change. Nothing sleeps: the
// fakes stop at gates the tests open, and waits are on events with generous deadlines.

#include "libs/training/run_queue.h"

#include <future>
#include <memory>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "catch2/catch.hpp"
#include "google/protobuf/util/time_util.h"
#include "libs/training/tabular_trainer.h"
#include "tests/training/fake_ports.h"

namespace fabrique::training {
namespace {

using google::protobuf::util::TimeUtil;
using testing::AwaitState;
using testing::TrainableSpec;

constexpr absl::Duration kPatience = absl::Seconds(120);  // For waits that take milliseconds.

// Counts what the queue reports; a worker that took a run, or finished one, waits at `taking` or
// `finishing` while the test keeps that gate closed.
class CountingObserver : public RunObserver {
 public:
  testing::Gate taking, finishing;

  void OnTaken(const std::string&) override { taking.Pass(/*cancel=*/nullptr); }
  void OnLoad(int queued, int running) override {
    absl::MutexLock lock(&mu_);
    queued_ = queued;
    running_ = running;
    most_running_ = std::max(most_running_, running);
  }
  void OnFinished(const v1::Run& run) override {
    {
      absl::MutexLock lock(&mu_);
      finished_.push_back(run);
    }
    finishing.Pass(/*cancel=*/nullptr);
  }
  std::vector<v1::Run> finished() const {
    absl::MutexLock lock(&mu_);
    return finished_;
  }
  std::pair<int, int> load() const {
    absl::MutexLock lock(&mu_);
    return {queued_, running_};
  }
  int most_running() const {
    absl::MutexLock lock(&mu_);
    return most_running_;
  }

 private:
  mutable absl::Mutex mu_;
  int queued_ ABSL_GUARDED_BY(mu_) = -1;
  int running_ ABSL_GUARDED_BY(mu_) = -1;
  int most_running_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<v1::Run> finished_ ABSL_GUARDED_BY(mu_);
};

struct Harness : testing::FakeTrainerParts {
  CountingObserver observer;
  std::unique_ptr<RunQueue> queue;

  explicit Harness(int workers = 1) : FakeTrainerParts("/in-memory/queue") { Start(workers); }
  // Opens every gate first: a test that failed with one closed still ends.
  ~Harness() {
    for (testing::Gate* gate :
         {&observer.taking, &observer.finishing, &datasets.gate, &models.gate}) {
      gate->Open();
    }
  }
  // Opens the runs as a start of the trainer does, and starts a queue over them.
  void Start(int workers = 1) {
    OpenRuns();
    queue = Create(workers);
    queue->Start();
  }
  // A queue over the runs, not started.
  std::unique_ptr<RunQueue> Create(int workers = 1) {
    RunQueueOptions options;
    options.runs = runs.get();
    options.datasets = &datasets;
    options.models = &models;
    options.observer = &observer;
    options.workers = workers;
    options.clock = &clock;
    return *RunQueue::Create(options);
  }
  void Stop() {
    queue.reset();
    runs.reset();
  }
  v1::Run Submit(v1::RunSpec spec = TrainableSpec(), const std::string& request_id = "",
                 const std::string& squad = "risk") {
    v1::SubmitRunRequest request;
    *request.mutable_spec() = std::move(spec);
    request.set_request_id(request_id);
    request.set_squad(squad);
    absl::StatusOr<v1::Run> run = queue->Submit(request, Dana());
    REQUIRE(run.ok());
    return *run;
  }
  static v1::Principal Dana() {
    v1::Principal dana;
    dana.set_subject("dana");
    dana.set_squad("risk");
    return dana;
  }
};

absl::StatusCode SubmitCode(Harness& h, const v1::RunSpec& spec) {
  v1::SubmitRunRequest request;
  *request.mutable_spec() = spec;
  return h.queue->Submit(request, Harness::Dana()).status().code();
}

TEST_CASE("A queue needs its store, both ports and a worker", "[queue]") {
  Harness h;
  RunQueueOptions options;
  options.runs = h.runs.get();
  options.datasets = &h.datasets;
  CHECK(RunQueue::Create(options).status().code() == absl::StatusCode::kInvalidArgument);
  options.models = &h.models;
  options.workers = 0;
  CHECK(RunQueue::Create(options).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Submissions are checked before any work", "[queue]") {
  Harness h;
  v1::RunSpec unnamed = TrainableSpec();
  unnamed.clear_model_name();
  CHECK(SubmitCode(h, unnamed) == absl::StatusCode::kInvalidArgument);
  v1::RunSpec unlabelled = TrainableSpec();
  unlabelled.clear_label();
  CHECK(SubmitCode(h, unlabelled) == absl::StatusCode::kInvalidArgument);
  v1::RunSpec bad_search = TrainableSpec();
  bad_search.mutable_search()->set_max_trials(2);
  bad_search.mutable_search()->add_ranges()->set_name("optimizer.lr");
  bad_search.mutable_search()->mutable_ranges(0)->mutable_choices()->add_values("0.1");
  CHECK(SubmitCode(h, bad_search) == absl::StatusCode::kInvalidArgument);
  v1::RunSpec dropout = TrainableSpec();
  dropout.mutable_family()->mutable_mlp()->set_dropout(1);
  CHECK(SubmitCode(h, dropout) == absl::StatusCode::kInvalidArgument);
  if (!CudaAvailable()) {
    v1::RunSpec cuda = TrainableSpec();
    cuda.set_device(v1::DEVICE_CUDA);
    CHECK(SubmitCode(h, cuda) == absl::StatusCode::kFailedPrecondition);
  }
  // The feature store is asked: an unknown feature is named.
  v1::RunSpec unknown = TrainableSpec();
  unknown.mutable_features(1)->set_feature("nope");
  v1::SubmitRunRequest request;
  *request.mutable_spec() = unknown;
  const absl::Status refused = h.queue->Submit(request, Harness::Dana()).status();
  CHECK(refused.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(refused.message(), "g:nope"));
  // Within the caller's time, as the caller.
  *request.mutable_spec() = TrainableSpec();
  request.set_validate_only(true);
  absl::StatusOr<v1::Run> valid = h.queue->Submit(request, Harness::Dana(), absl::Seconds(30));
  REQUIRE(valid.ok());
  CHECK(valid->state() == v1::RUN_STATE_QUEUED);
  CHECK(valid->run_id().empty());  // Validated, not stored.
  const RunContext asked = h.datasets.contexts().back();
  CHECK(asked.deadline == h.clock.Now() + absl::Seconds(30));
  CHECK(asked.caller.subject() == "dana");
  CHECK(h.runs->List({})->runs_size() == 0);
  CHECK(h.datasets.contexts().size() == 2);  // Nothing was built.
}

TEST_CASE("A request id makes a submission idempotent", "[queue]") {
  Harness h;
  h.datasets.gate.Close();  // The first run stays in its first step.
  const v1::Run first = h.Submit(TrainableSpec(), "req-1");
  // A retry answers at once with the same run, even when the feature store would refuse now.
  v1::RunSpec changed = TrainableSpec();
  changed.mutable_features(0)->set_feature("gone");
  const v1::Run again = h.Submit(changed, "req-1");
  CHECK(again.run_id() == first.run_id());
  // The same id from another squad is not answered with this squad's run.
  v1::SubmitRunRequest other;
  *other.mutable_spec() = TrainableSpec();
  other.set_request_id("req-1");
  other.set_squad("fraud");
  const absl::Status taken = h.queue->Submit(other, Harness::Dana()).status();
  CHECK(taken.code() == absl::StatusCode::kAlreadyExists);
  CHECK(absl::StrContains(taken.message(), "another squad"));
  h.datasets.gate.Open();
  REQUIRE(h.queue->AwaitIdle(kPatience));
  CHECK(h.runs->Get(first.run_id())->state() == v1::RUN_STATE_SUCCEEDED);
  CHECK(h.models.registered().size() == 1);
}

TEST_CASE("Runs run in order with their own context, and the observer hears of each", "[queue]") {
  Harness h;
  v1::SubmitRunRequest request;
  *request.mutable_spec() = TrainableSpec();
  *request.mutable_deadline() = TimeUtil::SecondsToDuration(3600);
  request.set_tower_job_id("job-7");
  request.set_squad("risk");
  const absl::Time submitted = h.clock.Now();
  absl::StatusOr<v1::Run> first = h.queue->Submit(request, Harness::Dana());
  REQUIRE(first.ok());
  CHECK(first->submitted_by().subject() == "dana");
  CHECK(first->tower_job_id() == "job-7");
  CHECK(first->squad() == "risk");
  // The deadline counts from the submission, on the queue's clock.
  CHECK(TimeUtil::TimestampToMicroseconds(first->deadline_time()) ==
        absl::ToUnixMicros(submitted + absl::Hours(1)));
  const v1::Run second = h.Submit();
  REQUIRE(h.queue->AwaitIdle(kPatience));

  const v1::Run one = *h.runs->Get(first->run_id());
  const v1::Run two = *h.runs->Get(second.run_id());
  CHECK(one.state() == v1::RUN_STATE_SUCCEEDED);
  CHECK(two.state() == v1::RUN_STATE_SUCCEEDED);
  // Each run's Build, then its RecordUsage (a submission's check has no run yet).
  std::vector<RunContext> built;
  for (const RunContext& c : h.datasets.contexts()) {
    if (!c.run_id.empty()) built.push_back(c);
  }
  REQUIRE(built.size() == 4);
  CHECK(built[0].run_id == first->run_id());  // Oldest first.
  CHECK(built[0].deadline == submitted + absl::Hours(1));
  CHECK(built[0].caller.subject() == "dana");
  CHECK(built[0].squad == "risk");
  CHECK(built[1].deadline == absl::InfiniteFuture());  // Past its point of no return.
  CHECK(built[2].run_id == second.run_id());
  CHECK(built[2].deadline == absl::InfiniteFuture());
  const std::vector<RunContext> registered = h.models.contexts();
  REQUIRE(registered.size() == 2);
  CHECK(registered[0].run_id == first->run_id());
  CHECK(registered[0].caller.subject() == "dana");
  CHECK(registered[0].squad == "risk");  // Owner of the model the run creates.
  CHECK(registered[1].run_id == second.run_id());
  const std::vector<v1::Run> finished = h.observer.finished();
  REQUIRE(finished.size() == 2);
  CHECK(finished[0].run_id() == first->run_id());
  CHECK(finished[0].state() == v1::RUN_STATE_SUCCEEDED);
  CHECK(h.observer.load() == std::make_pair(0, 0));
}

TEST_CASE("A queued run is cancelled at once, a running one within its step", "[queue]") {
  Harness h;
  h.datasets.gate.Close();
  const v1::Run running = h.Submit();
  const v1::Run waiting = h.Submit();
  REQUIRE(h.datasets.gate.AwaitArrivals(1));  // The first is building its dataset.
  CHECK(h.observer.load() == std::make_pair(1, 1));

  absl::StatusOr<v1::Run> cancelled = h.queue->Cancel(waiting.run_id(), Harness::Dana(), "dup");
  REQUIRE(cancelled.ok());
  CHECK(cancelled->state() == v1::RUN_STATE_CANCELLED);
  CHECK(cancelled->history().rbegin()->reason() == "cancelled by dana: dup");
  CHECK(h.observer.load() == std::make_pair(0, 1));

  absl::StatusOr<v1::Run> asked = h.queue->Cancel(running.run_id(), Harness::Dana(), "wrong data");
  REQUIRE(asked.ok());
  // It stops on its own thread: read after the cancel, it is still building or cancelled already.
  CHECK((asked->state() == v1::RUN_STATE_BUILDING_DATASET ||
         asked->state() == v1::RUN_STATE_CANCELLED));
  REQUIRE(h.queue->AwaitIdle(kPatience));
  const v1::Run stopped = *h.runs->Get(running.run_id());
  CHECK(stopped.state() == v1::RUN_STATE_CANCELLED);
  // The record names who stopped it, and why, as for a queued run.
  CHECK(stopped.history().rbegin()->reason() ==
        "cancelled by dana while building the training set: wrong data");
  CHECK(h.models.registered().empty());
  CHECK(h.observer.finished().size() == 2);
  // Cancelling an ended run answers how it ended; an unknown run is NOT_FOUND.
  CHECK(h.queue->Cancel(running.run_id(), Harness::Dana(), "")->state() == v1::RUN_STATE_CANCELLED);
  CHECK(h.queue->Cancel("no-such-run", Harness::Dana(), "").status().code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("A cancel while a run registers is refused, and the run completes", "[queue]") {
  Harness h;
  h.models.gate.Close();
  const v1::Run run = h.Submit();
  REQUIRE(h.models.gate.AwaitArrivals(1));
  const absl::Status refused = h.queue->Cancel(run.run_id(), Harness::Dana(), "").status();
  CHECK(refused.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(refused.message(), "registering its version"));
  h.models.gate.Open();
  REQUIRE(h.queue->AwaitIdle(kPatience));
  const v1::Run done = *h.runs->Get(run.run_id());
  CHECK(done.state() == v1::RUN_STATE_SUCCEEDED);
  CHECK(done.registered_version().version() == 1);
  CHECK(h.models.registered().size() == 1);
}

TEST_CASE("A stop fails the run in progress and keeps the queued ones for the next start",
          "[queue]") {
  Harness h;
  h.datasets.gate.Close();
  const v1::Run interrupted = h.Submit();
  const v1::Run queued = h.Submit();
  REQUIRE(h.datasets.gate.AwaitArrivals(1));
  h.Stop();  // The gate's stream is interrupted, as a real one would be.
  h.datasets.gate.Open();
  h.Start();
  CHECK(h.runs->Get(interrupted.run_id())->failure_reason() ==
        "the trainer was stopped while building the training set: submit the run again");
  REQUIRE(h.queue->AwaitIdle(kPatience));
  CHECK(h.runs->Get(queued.run_id())->state() == v1::RUN_STATE_SUCCEEDED);
  CHECK(h.models.registered().size() == 1);
}

TEST_CASE("A stop while a run was taken but not begun keeps it queued", "[queue]") {
  Harness h;
  h.observer.taking.Close();
  const v1::Run run = h.Submit();
  REQUIRE(h.observer.taking.AwaitArrivals(1));  // Taken from the queue, not begun.
  h.queue->Stop();
  h.observer.taking.Open();
  h.Stop();
  h.OpenRuns();
  const v1::Run kept = *h.runs->Get(run.run_id());
  CHECK(kept.state() == v1::RUN_STATE_QUEUED);
  CHECK(kept.history_size() == 1);           // Untouched.
  CHECK(h.datasets.contexts().size() == 1);  // The submission's check; nothing was built.
  CHECK(h.observer.finished().empty());
  // It runs after the next start.
  h.runs.reset();
  h.Start();
  REQUIRE(h.queue->AwaitIdle(kPatience));
  CHECK(h.runs->Get(run.run_id())->state() == v1::RUN_STATE_SUCCEEDED);
}

TEST_CASE("A queue runs nothing until started: a failed start leaves the queued runs queued",
          "[queue]") {
  Harness h;
  h.Stop();
  h.OpenRuns();
  v1::Run queued;
  *queued.mutable_spec() = TrainableSpec();
  const std::string id = h.runs->Submit(queued)->run_id();
  // The trainer makes its queue, then fails to serve (its port taken) and stops: never started.
  std::unique_ptr<RunQueue> unstarted = h.Create();
  CHECK(h.observer.load() == std::make_pair(1, 0));
  v1::SubmitRunRequest request;
  *request.mutable_spec() = TrainableSpec();
  const absl::StatusOr<v1::Run> added = unstarted->Submit(request, Harness::Dana());
  REQUIRE(added.ok());  // Accepted and queued, not run.
  CHECK(h.observer.load() == std::make_pair(2, 0));
  unstarted->Stop();
  unstarted->Start();  // After a stop: starts nothing.
  unstarted.reset();
  CHECK(h.runs->Get(id)->state() == v1::RUN_STATE_QUEUED);
  CHECK(h.runs->Get(added->run_id())->state() == v1::RUN_STATE_QUEUED);
  CHECK(h.datasets.contexts().size() == 1);  // The submission's check; nothing was built.
  // The next start runs both, oldest first.
  h.runs.reset();
  h.Start();
  REQUIRE(h.queue->AwaitIdle(kPatience));
  const std::vector<RunContext> registered = h.models.contexts();
  REQUIRE(registered.size() == 2);
  CHECK(registered[0].run_id == id);
  CHECK(registered[1].run_id == added->run_id());
}

TEST_CASE("A cancel as a run ends answers how it ended", "[queue]") {
  Harness h;
  SECTION("it succeeded, and its worker has not let it go yet") {
    h.observer.finishing.Close();
    const v1::Run run = h.Submit();
    REQUIRE(h.observer.finishing.AwaitArrivals(1));  // Ended; still in progress to the queue.
    absl::StatusOr<v1::Run> answer = h.queue->Cancel(run.run_id(), Harness::Dana(), "");
    REQUIRE(answer.ok());  // Not "is registering its version": it has registered.
    CHECK(answer->state() == v1::RUN_STATE_SUCCEEDED);
    CHECK(answer->registered_version().version() == 1);
    h.observer.finishing.Open();
  }
  SECTION("it failed just as the cancel landed") {
    h.datasets.gate.Close();
    const v1::Run run = h.Submit();
    REQUIRE(h.datasets.gate.AwaitArrivals(1));
    // The run's worker fails it between the cancel's arrival and its answer.
    h.datasets.gate.on_interrupt = [&] {
      REQUIRE(h.runs->Transition(run.run_id(), v1::RUN_STATE_FAILED, "the store broke").ok());
    };
    absl::StatusOr<v1::Run> answer = h.queue->Cancel(run.run_id(), Harness::Dana(), "");
    REQUIRE(answer.ok());
    CHECK(answer->state() == v1::RUN_STATE_FAILED);  // Not the record from before it failed.
    CHECK(answer->failure_reason() == "the store broke");
    h.datasets.gate.Open();
  }
  REQUIRE(h.queue->AwaitIdle(kPatience));
}

// A clock that holds the next reading, once armed, until released: a store write that reads it
// is then stopped midway, its record not yet changed.
class HoldingClock : public core::Clock {
 public:
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    if (armed_) {
      armed_ = false;
      held_ = true;
      mu_.Await(absl::Condition(
          +[](bool* held) { return !*held; }, &held_));
    }
    return absl::FromUnixSeconds(1'700'000'000);
  }
  void Arm() {
    absl::MutexLock lock(&mu_);
    armed_ = true;
  }
  // Waits, at most `timeout`, until a reading is held.
  bool AwaitHeld(absl::Duration timeout) const {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&held_), timeout);
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    held_ = false;
  }

 private:
  mutable absl::Mutex mu_;
  mutable bool armed_ ABSL_GUARDED_BY(mu_) = false;
  mutable bool held_ ABSL_GUARDED_BY(mu_) = false;
};

TEST_CASE("A submission retried while its run is being cancelled does not queue it again",
          "[queue]") {
  Harness h;
  h.Stop();
  HoldingClock store_clock;
  h.runs = *RunStore::Create({h.kv.get(), "runs", &store_clock});
  h.datasets.gate.Close();
  h.queue = h.Create();
  h.queue->Start();
  const v1::Run busy = h.Submit();                             // Keeps the worker busy...
  const v1::Run waiting = h.Submit(TrainableSpec(), "req-9");  // ...while this one waits.
  REQUIRE(h.datasets.gate.AwaitArrivals(1));
  store_clock.Arm();
  auto cancelled = std::async(
      std::launch::async, [&] { return h.queue->Cancel(waiting.run_id(), Harness::Dana(), ""); });
  const absl::Cleanup release = [&] { store_clock.Release(); };  // Even if a check fails.
  REQUIRE(store_clock.AwaitHeld(kPatience));  // Out of the queue, not yet recorded cancelled.
  CHECK(h.runs->Get(waiting.run_id())->state() == v1::RUN_STATE_QUEUED);
  const v1::Run retried = h.Submit(TrainableSpec(), "req-9");
  CHECK(retried.run_id() == waiting.run_id());
  CHECK(h.observer.load() == std::make_pair(0, 1));  // Not queued again.
  store_clock.Release();
  REQUIRE(cancelled.wait_for(std::chrono::seconds(120)) == std::future_status::ready);
  CHECK(cancelled.get()->state() == v1::RUN_STATE_CANCELLED);
  REQUIRE(h.queue->Cancel(busy.run_id(), Harness::Dana(), "").ok());
  h.datasets.gate.Open();
  REQUIRE(h.queue->AwaitIdle(kPatience));
  CHECK(h.runs->Get(busy.run_id())->state() == v1::RUN_STATE_CANCELLED);
  CHECK(h.datasets.contexts().size() == 3);  // Two checks, one build: the cancelled never ran.
}

TEST_CASE("A stop while a run registers lets it complete with its version", "[queue]") {
  Harness h;
  h.models.gate.Close();
  const v1::Run run = h.Submit();
  REQUIRE(h.models.gate.AwaitArrivals(1));
  h.queue->Stop();  // Refused by the run registering: it is let finish.
  h.models.gate.Open();
  h.queue.reset();  // Waits for it.
  const v1::Run done = *h.runs->Get(run.run_id());
  CHECK(done.state() == v1::RUN_STATE_SUCCEEDED);
  CHECK(done.registered_version().version() == 1);
  CHECK(h.models.registered().size() == 1);
}

TEST_CASE("Runs still queued at a restart run after it, oldest first", "[queue]") {
  Harness h;
  h.Stop();
  h.OpenRuns();
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    v1::Run run;
    *run.mutable_spec() = TrainableSpec();
    ids.push_back(h.runs->Submit(run)->run_id());
  }
  h.runs.reset();
  h.Start();
  REQUIRE(h.queue->AwaitIdle(kPatience));
  const std::vector<RunContext> registered = h.models.contexts();
  REQUIRE(registered.size() == 2);
  CHECK(registered[0].run_id == ids[0]);
  CHECK(registered[1].run_id == ids[1]);
}

TEST_CASE("Several workers run runs at once, each with its own context", "[queue]") {
  Harness h(/*workers=*/2);
  h.datasets.gate.Close();
  const v1::Run a = h.Submit();
  const v1::Run b = h.Submit();
  REQUIRE(h.datasets.gate.AwaitArrivals(2));  // Both are building their datasets at once.
  CHECK(h.observer.load() == std::make_pair(0, 2));
  std::vector<RunContext> building;  // The Build calls' (a submission's check has no run yet).
  for (const RunContext& c : h.datasets.contexts()) {
    if (!c.run_id.empty()) building.push_back(c);
  }
  REQUIRE(building.size() == 2);
  CHECK(building[0].run_id != building[1].run_id);
  CHECK(building[0].cancel != building[1].cancel);
  // A cancel reaches its own run only.
  REQUIRE(h.queue->Cancel(a.run_id(), Harness::Dana(), "").ok());
  REQUIRE(AwaitState(*h.runs, a.run_id(), v1::RUN_STATE_CANCELLED));
  CHECK(h.runs->Get(b.run_id())->state() == v1::RUN_STATE_BUILDING_DATASET);
  h.datasets.gate.Open();
  REQUIRE(h.queue->AwaitIdle(kPatience));
  CHECK(h.runs->Get(b.run_id())->state() == v1::RUN_STATE_SUCCEEDED);
  CHECK(h.observer.most_running() == 2);
}

TEST_CASE("A watch streams every event to the final one, and ends at shutdown", "[queue]") {
  Harness h;
  const v1::Run done = h.Submit();
  REQUIRE(h.queue->AwaitIdle(kPatience));
  std::vector<v1::RunEvent> events;
  const auto keep = [&](const v1::RunEvent& e) {
    events.push_back(e);
    return true;
  };
  const auto never = [] { return false; };
  REQUIRE(h.queue->Watch(done.run_id(), 0, keep, never).ok());
  REQUIRE(!events.empty());
  CHECK(events.back().final_run().state() == v1::RUN_STATE_SUCCEEDED);
  for (size_t i = 0; i < events.size(); ++i) CHECK(events[i].sequence() == int64_t(i) + 1);
  // Resumed after the last event: nothing more, and it ends.
  const size_t all = events.size();
  REQUIRE(h.queue->Watch(done.run_id(), events.back().sequence(), keep, never).ok());
  CHECK(events.size() == all);
  CHECK(h.queue->Watch("no-such-run", 0, keep, never).code() == absl::StatusCode::kNotFound);

  // A watch on a run still going ends when shutdown begins, saying where to resume.
  h.datasets.gate.Close();
  const v1::Run going = h.Submit();
  REQUIRE(h.datasets.gate.AwaitArrivals(2));
  absl::Notification first_event;
  auto watched = std::async(std::launch::async, [&] {
    return h.queue->Watch(
        going.run_id(), 0,
        [&](const v1::RunEvent&) {
          if (!first_event.HasBeenNotified()) first_event.Notify();
          return true;
        },
        never);
  });
  REQUIRE(first_event.WaitForNotificationWithTimeout(kPatience));
  h.queue->Interrupt();
  REQUIRE(watched.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
  const absl::Status ended = watched.get();
  CHECK(ended.code() == absl::StatusCode::kUnavailable);
  CHECK(absl::StrContains(ended.message(), "reconnect with after_sequence=2"));
  h.datasets.gate.Open();
}

}  // namespace
}  // namespace fabrique::training
