// How `fabrique tower submit` and `jobs watch JOB` follow jobs, against a fake tower on a
// loopback port: each change read from WatchJobs until the job ends; a job that had already
// ended is answered from GetJob; a stream that breaks is resumed after the last revision seen;
// an end the stream never carries is caught by the slow GetJob check; an unknown job is the
// tower's NOT_FOUND.

#include "tools/cli/tower_follow.h"

#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "catch2/catch.hpp"
#include "grpcpp/grpcpp.h"

namespace fabrique::cli {
namespace {

v1::Job MakeJob(v1::JobState state, const std::string& reason = "") {
  v1::Job job;
  job.set_id("j-1");
  job.set_squad("risk");
  job.set_state(state);
  job.set_state_reason(reason);
  return job;
}

// Serves GetJob from `current` and WatchJobs from `events` (those past the request's
// after_revision); `break_after` events into the first stream it answers UNAVAILABLE, and with
// `hold_open` a stream stays open after its events until the client goes away.
class FakeTower final : public v1::Tower::Service {
 public:
  grpc::Status GetJob(grpc::ServerContext*, const v1::GetJobRequest* request,
                      v1::Job* job) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++gets_;
    if (request->id() != current_.id()) return {grpc::StatusCode::NOT_FOUND, "no job"};
    *job = gets_ > end_after_gets_ ? ended_ : current_;
    return grpc::Status::OK;
  }

  grpc::Status WatchJobs(grpc::ServerContext* context, const v1::WatchJobsRequest* request,
                         grpc::ServerWriter<v1::JobEvent>* writer) override {
    int sent = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      watch_requests_.push_back(*request);
    }
    for (const v1::JobEvent& event : events_) {
      if (event.revision() <= request->after_revision()) continue;
      if (break_after_ >= 0 && sent == break_after_) {
        break_after_ = -1;
        return {grpc::StatusCode::UNAVAILABLE, "the tower is restarting"};
      }
      std::this_thread::sleep_for(pause_);
      writer->Write(event);
      ++sent;
    }
    while (hold_open_ && !context->IsCancelled()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return grpc::Status::OK;
  }

  void AddEvent(int64_t revision, const v1::Job& job) {
    v1::JobEvent event;
    event.set_revision(revision);
    *event.mutable_job() = job;
    events_.push_back(event);
  }

  v1::Job current_ = MakeJob(v1::JOB_STATE_QUEUED);
  v1::Job ended_ = MakeJob(v1::JOB_STATE_SUCCEEDED);
  int end_after_gets_ = 1 << 30;
  std::vector<v1::JobEvent> events_;
  int break_after_ = -1;
  bool hold_open_ = false;
  std::chrono::milliseconds pause_{0};  // Before each event.
  std::mutex mu_;
  int gets_ = 0;
  std::vector<v1::WatchJobsRequest> watch_requests_;
};

// Streams two progress events of any run, then holds the stream open until the client goes away.
class FakeTrainer final : public v1::Trainer::Service {
 public:
  grpc::Status WatchRun(grpc::ServerContext* context, const v1::WatchRunRequest* request,
                        grpc::ServerWriter<v1::RunEvent>* writer) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      run_ids_.push_back(request->run_id());
    }
    for (int epoch = 1; epoch <= 2; ++epoch) {
      v1::RunEvent event;
      event.set_run_id(request->run_id());
      event.mutable_progress()->set_epoch(epoch);
      event.mutable_progress()->set_epochs_total(2);
      event.set_epoch_end(true);
      writer->Write(event);
    }
    while (!context->IsCancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return grpc::Status::OK;
  }

  std::mutex mu_;
  std::vector<std::string> run_ids_;
};

struct Served {
  explicit Served(grpc::Service* tower) {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(tower);
    server = builder.BuildAndStart();
    const std::string address = "127.0.0.1:" + std::to_string(port);
    client.emplace(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()),
                   client::CallTarget{"tower", address}, client::CallContext());
  }
  ~Served() { server->Shutdown(); }
  std::unique_ptr<grpc::Server> server;
  std::optional<client::TowerClient> client;
};

FollowOptions Fast() {
  FollowOptions options;
  options.check_interval = absl::Milliseconds(50);
  return options;
}

TEST_CASE("a job is followed through its changes to its end") {
  FakeTower tower;
  tower.AddEvent(1, MakeJob(v1::JOB_STATE_QUEUED, "waiting for cpu"));
  tower.AddEvent(2, MakeJob(v1::JOB_STATE_ADMITTED));
  tower.AddEvent(3, MakeJob(v1::JOB_STATE_RUNNING));
  tower.AddEvent(4, MakeJob(v1::JOB_STATE_FAILED, "trainer: out of memory"));
  tower.hold_open_ = true;
  Served served(&tower);
  auto ended = FollowJobs(*served.client, {"j-1"}, Fast());
  REQUIRE(ended.ok());
  CHECK(ended->at("j-1").state() == v1::JOB_STATE_FAILED);
  CHECK(ended->at("j-1").state_reason() == "trainer: out of memory");
  REQUIRE(tower.watch_requests_.size() == 1);
  CHECK(tower.watch_requests_[0].include_snapshot());
  CHECK(tower.watch_requests_[0].job_ids(0) == "j-1");
}

TEST_CASE("a job that had ended is answered at once") {
  FakeTower tower;
  tower.current_ = MakeJob(v1::JOB_STATE_SUCCEEDED);
  Served served(&tower);
  auto ended = FollowJobs(*served.client, {"j-1"}, Fast());
  REQUIRE(ended.ok());
  CHECK(ended->at("j-1").state() == v1::JOB_STATE_SUCCEEDED);
  CHECK(tower.watch_requests_.empty());
}

TEST_CASE("a broken stream is resumed after the last revision seen") {
  FakeTower tower;
  tower.AddEvent(1, MakeJob(v1::JOB_STATE_QUEUED));
  tower.AddEvent(2, MakeJob(v1::JOB_STATE_RUNNING));
  tower.AddEvent(3, MakeJob(v1::JOB_STATE_SUCCEEDED));
  tower.break_after_ = 2;
  Served served(&tower);
  auto ended = FollowJobs(*served.client, {"j-1"}, Fast());
  REQUIRE(ended.ok());
  CHECK(ended->at("j-1").state() == v1::JOB_STATE_SUCCEEDED);
  REQUIRE(tower.watch_requests_.size() == 2);
  CHECK(tower.watch_requests_[1].after_revision() == 2);
  CHECK_FALSE(tower.watch_requests_[1].include_snapshot());
}

TEST_CASE("an end the stream never carries is caught by reading the job") {
  FakeTower tower;
  tower.AddEvent(1, MakeJob(v1::JOB_STATE_RUNNING));
  tower.hold_open_ = true;
  tower.end_after_gets_ = 3;
  Served served(&tower);
  auto ended = FollowJobs(*served.client, {"j-1"}, Fast());
  REQUIRE(ended.ok());
  CHECK(ended->at("j-1").state() == v1::JOB_STATE_SUCCEEDED);
}

TEST_CASE("a running training's progress is followed on the trainer until the job ends") {
  FakeTower tower;
  v1::Job running = MakeJob(v1::JOB_STATE_RUNNING);
  running.set_trainer_run_id("r-1");
  tower.AddEvent(1, running);
  v1::Job succeeded = MakeJob(v1::JOB_STATE_SUCCEEDED);
  succeeded.set_trainer_run_id("r-1");
  tower.AddEvent(2, succeeded);
  tower.pause_ = std::chrono::milliseconds(200);
  tower.hold_open_ = true;
  FakeTrainer trainer;
  Served served_tower(&tower);
  Served served_trainer(&trainer);
  FollowOptions options = Fast();
  options.trainer.emplace(served_trainer.client->channel(), client::CallTarget{"trainer", "fake"},
                          client::CallContext());
  auto ended = FollowJobs(*served_tower.client, {"j-1"}, options);
  REQUIRE(ended.ok());
  CHECK(ended->at("j-1").state() == v1::JOB_STATE_SUCCEEDED);
  std::lock_guard<std::mutex> lock(trainer.mu_);
  CHECK(trainer.run_ids_ == std::vector<std::string>{"r-1"});
}

TEST_CASE("an unknown job is the tower's NOT_FOUND") {
  FakeTower tower;
  Served served(&tower);
  auto ended = FollowJobs(*served.client, {"j-404"}, Fast());
  CHECK(ended.status().code() == absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace fabrique::cli
