// The trainer's runs on kv: submitted once per request id, moved forward through their states
// (never backwards, never out of a final one), every move an event numbered for resuming,
// listed newest first, failed with the reason when a restart interrupted them, and kept queued
// across a restart when they had not started.

#include "libs/training/run_store.h"

#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "tests/util/test_util.h"

namespace fabrique::training {
namespace {

struct Runs {
  std::unique_ptr<kv::Store> kv;
  std::unique_ptr<RunStore> store;
  int interrupted = 0;
  Runs() {
    kv::StoreOptions options;
    options.path = "/in-memory/runs";
    options.in_memory = true;
    kv = *kv::Store::Open(options);
    Reopen();
  }
  void Reopen() {
    store.reset();
    store = *RunStore::Create({kv.get()}, &interrupted);
  }
};

v1::Run Spec(const std::string& model, const std::string& who = "dana") {
  v1::Run run;
  run.mutable_spec()->set_model_name(model);
  run.mutable_submitted_by()->set_subject(who);
  return run;
}

std::vector<v1::RunEvent> Events(const RunStore& store, const std::string& id, int64_t after = 0) {
  std::vector<v1::RunEvent> events;
  REQUIRE(store
              .EventsAfter(id, after,
                           [&](const v1::RunEvent& e) {
                             events.push_back(e);
                             return true;
                           })
              .ok());
  return events;
}

TEST_CASE("A run moves forward through its states, each move an event", "[runs]") {
  Runs r;
  absl::StatusOr<v1::Run> run = r.store->Submit(Spec("fraud"), "req-1");
  REQUIRE(run.ok());
  CHECK(run->state() == v1::RUN_STATE_QUEUED);
  CHECK(run->best_trial() == -1);
  CHECK(r.store->Submit(Spec("fraud"), "req-1")->run_id() == run->run_id());  // Idempotent.
  const std::string id = run->run_id();
  for (v1::RunState state :
       {v1::RUN_STATE_BUILDING_DATASET, v1::RUN_STATE_TRAINING, v1::RUN_STATE_EVALUATING}) {
    REQUIRE(r.store->Transition(id, state).ok());
  }
  const absl::Status back = r.store->Transition(id, v1::RUN_STATE_TRAINING).status();
  CHECK(back.code() == absl::StatusCode::kFailedPrecondition);
  v1::RunEvent progress;
  progress.mutable_progress()->set_epoch(3);
  REQUIRE(r.store
              ->Update(
                  id, [](v1::Run* run) { run->mutable_progress()->set_epoch(3); }, progress)
              .ok());
  REQUIRE(r.store->Transition(id, v1::RUN_STATE_REGISTERING).ok());
  const absl::StatusOr<v1::Run> done = r.store->Transition(id, v1::RUN_STATE_SUCCEEDED, "ok");
  REQUIRE(done.ok());
  CHECK(done->has_start_time());
  CHECK(done->has_end_time());
  CHECK(done->history_size() == 6);
  CHECK(done->progress().epoch() == 3);
  CHECK(r.store->Transition(id, v1::RUN_STATE_CANCELLED).status().code() ==
        absl::StatusCode::kFailedPrecondition);

  const std::vector<v1::RunEvent> events = Events(*r.store, id);
  REQUIRE(events.size() == 8);  // 6 state changes, 1 progress, the final record.
  for (size_t i = 0; i < events.size(); ++i) CHECK(events[i].sequence() == int64_t(i) + 1);
  CHECK(events[4].has_progress());
  CHECK(events.back().final_run().state() == v1::RUN_STATE_SUCCEEDED);
  CHECK(Events(*r.store, id, 6).size() == 2);  // Resuming after sequence 6.
  CHECK(r.store->Get("nope").status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("Runs list newest first, filtered and paged", "[runs]") {
  Runs r;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(
        r.store->Submit(Spec(i % 2 ? "churn" : "fraud", i < 3 ? "dana" : "ada"))->run_id());
  }
  REQUIRE(r.store->Transition(ids[0], v1::RUN_STATE_CANCELLED, "by dana").ok());
  v1::ListRunsRequest all;
  all.set_page_size(2);
  std::vector<std::string> seen;
  do {
    absl::StatusOr<v1::ListRunsResponse> page = r.store->List(all);
    REQUIRE(page.ok());
    for (const v1::Run& run : page->runs()) seen.push_back(run.run_id());
    all.set_page_token(page->next_page_token());
  } while (!all.page_token().empty());
  CHECK(seen == std::vector<std::string>(ids.rbegin(), ids.rend()));
  v1::ListRunsRequest fraud;
  fraud.set_model_name("fraud");
  fraud.set_state(v1::RUN_STATE_QUEUED);
  CHECK(r.store->List(fraud)->runs_size() == 2);  // ids[2], ids[4]; ids[0] was cancelled.
  v1::ListRunsRequest by_ada;
  by_ada.set_submitted_by("ada");
  CHECK(r.store->List(by_ada)->runs_size() == 2);
}

TEST_CASE("Runs list only the squads the caller sees, in full pages", "[runs]") {
  Runs r;
  std::vector<std::string> risk;
  for (int i = 0; i < 6; ++i) {
    v1::Run run = Spec("fraud");
    run.set_squad(i % 2 ? "payments" : "risk");
    const std::string id = r.store->Submit(run)->run_id();
    if (i % 2 == 0) risk.push_back(id);
  }
  const auto sees_risk = [](const std::string& squad) { return squad == "risk"; };
  v1::ListRunsRequest request;
  request.set_page_size(2);
  absl::StatusOr<v1::ListRunsResponse> first = r.store->List(request, sees_risk);
  REQUIRE(first.ok());
  // Two of risk's runs, though a payments run lies between them.
  REQUIRE(first->runs_size() == 2);
  CHECK(first->runs(0).run_id() == risk[2]);
  CHECK(first->runs(1).run_id() == risk[1]);
  request.set_page_token(first->next_page_token());
  absl::StatusOr<v1::ListRunsResponse> second = r.store->List(request, sees_risk);
  REQUIRE(second.ok());
  REQUIRE(second->runs_size() == 1);
  CHECK(second->runs(0).run_id() == risk[0]);
  CHECK(second->next_page_token().empty());
  // No filter: everyone's.
  request.clear_page_token();
  request.set_page_size(0);
  CHECK(r.store->List(request)->runs_size() == 6);
  CHECK(r.store->List(request, [](const std::string&) { return false; })->runs_size() == 0);
}

TEST_CASE("A restart fails the runs it interrupted, saying where they were", "[runs]") {
  Runs r;
  const std::string waiting = r.store->Submit(Spec("churn"))->run_id();
  const std::string running = r.store->Submit(Spec("fraud"))->run_id();
  REQUIRE(r.store->Transition(running, v1::RUN_STATE_BUILDING_DATASET).ok());
  REQUIRE(r.store->Transition(running, v1::RUN_STATE_TRAINING).ok());
  const std::string done = r.store->Submit(Spec("fraud"))->run_id();
  REQUIRE(r.store->Transition(done, v1::RUN_STATE_FAILED, "diverged at epoch 2").ok());
  r.Reopen();
  CHECK(r.interrupted == 1);
  const absl::StatusOr<v1::Run> failed = r.store->Get(running);
  REQUIRE(failed.ok());
  CHECK(failed->state() == v1::RUN_STATE_FAILED);
  CHECK(absl::StrContains(failed->failure_reason(), "interrupted by a restart"));
  CHECK(absl::StrContains(failed->failure_reason(), "RUN_STATE_TRAINING"));
  CHECK(r.store->Get(done)->failure_reason() == "diverged at epoch 2");
  // A queued run had not started: it stays queued, and is listed for the worker, oldest first.
  const std::string later = r.store->Submit(Spec("churn"))->run_id();
  r.Reopen();
  CHECK(r.interrupted == 0);
  CHECK(r.store->Get(waiting)->state() == v1::RUN_STATE_QUEUED);
  CHECK(*r.store->Queued() == std::vector<std::string>{waiting, later});
  // Event numbering carries on after the restart.
  const std::vector<v1::RunEvent> events = Events(*r.store, running);
  CHECK(events.back().sequence() == int64_t(events.size()));
}

TEST_CASE("A watcher waiting for a run's next event is woken by it", "[runs]") {
  Runs r;
  const std::string id = r.store->Submit(Spec("fraud"))->run_id();
  int64_t woken_at = 0;
  absl::Duration waited;
  std::thread watcher([&] {
    const absl::Time start = absl::Now();
    woken_at = r.store->WaitForEventAfter(id, 1, absl::Seconds(60));
    waited = absl::Now() - start;
  });
  // The event is appended only once the watcher is blocked, so it is the event that wakes it.
  const bool waiting =
      fabrique::testing::PollUntil([&] { return r.store->waiters() == 1; }, absl::Seconds(30));
  const absl::Status appended = r.store->Transition(id, v1::RUN_STATE_BUILDING_DATASET).status();
  watcher.join();  // Before any REQUIRE, which would leave a joinable thread behind.
  REQUIRE(waiting);
  REQUIRE(appended.ok());
  CHECK(woken_at == 2);
  CHECK(waited < absl::Seconds(30));  // Woken by the event, not by its timeout.
  CHECK(r.store->waiters() == 0);
  CHECK(r.store->WaitForEventAfter(id, 2, absl::Milliseconds(1)) == 2);  // Times out.
}

}  // namespace
}  // namespace fabrique::training
