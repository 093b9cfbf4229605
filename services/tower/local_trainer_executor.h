#ifndef FABRIQUE_SERVICES_TOWER_LOCAL_TRAINER_EXECUTOR_H_
#define FABRIQUE_SERVICES_TOWER_LOCAL_TRAINER_EXECUTOR_H_

// The tower's local executor (tower::JobExecutor): an admitted training job becomes a run of
// fabrique-trainer, followed through WatchRun.
//
// - Start submits the job's RunSpec with tower_job_id = the job's id, squad = its squad,
//   request_id = "<job id>-<preemptions>" (so a tower restarted between admitting and recording
//   the start gets the same run back, and a requeued job a new one) and resume_from_epoch = the
//   job's checkpoint_epoch, acting for the job's submitter (on-behalf-of, as the trainer acts for
//   a run's submitter towards its peers; a "service:..." submitter is no user, so the tower then
//   acts as itself). Then one thread per job follows the run's events and reports, in order:
//   RUNNING with the trainer run id at once, RUNNING again as epochs end (checkpoint_epoch
//   and usage so far; at most once a second), then SUCCEEDED with the registered version, FAILED
//   with the reason, or CANCELLED with the epoch it stopped after.
// - WatchRun is resumable (after_sequence): a trainer that restarts ends the stream with
//   UNAVAILABLE, and the thread reconnects after a backoff from the last event it saw. A run the
//   restart interrupted is failed by the trainer, with its checkpoint_epoch, and reported so.
// - Follow re-attaches after a tower restart: by the job's trainer_run_id, or, when the start
//   was not recorded, by submitting again with the same request id (the trainer answers with
//   the run it made, or makes it if the first submission never arrived).
// - Stop cancels the run (CancelRun); the thread then reports CANCELLED.
//
// Usage is request-based accounting: the run's wall time (start to end, or to now) times the
// cores, GPUs and GiB of memory the job requested, not what the process measured.

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "fabrique/v1/trainer.pb.h"
#include "grpcpp/channel.h"
#include "libs/client/typed_clients.h"
#include "libs/core/clock.h"
#include "libs/tower/ports.h"

namespace fabrique::services {

struct LocalTrainerExecutorOptions {
  std::shared_ptr<grpc::Channel> trainer;  // Required: a channel to fabrique-trainer.
  std::string trainer_target;              // host:port, for error messages.
  // Times the usage (run start and end are the trainer's). Not owned; nullptr = real.
  core::Clock* clock = nullptr;
  // Unary calls' timeout. Default 30 s.
  absl::Duration call_timeout = absl::Seconds(30);
  // Wait before reconnecting a watch the trainer ended or could not take. Default 1 s.
  absl::Duration reconnect_backoff = absl::Seconds(1);
  // Called once per call to the trainer that failed (fabrique_tower_executor_errors_total).
  std::function<void()> on_error;
};

class LocalTrainerExecutor : public tower::JobExecutor {
 public:
  // INVALID_ARGUMENT without a channel.
  static absl::StatusOr<std::unique_ptr<LocalTrainerExecutor>> Create(
      LocalTrainerExecutorOptions options);
  // Stops following (the runs go on in the trainer) and joins the threads.
  ~LocalTrainerExecutor() override;

  // INVALID_ARGUMENT for a job that is not a training run; the trainer's error when it refuses
  // the run (INVALID_ARGUMENT for a bad spec, PERMISSION_DENIED for a submitter who may not
  // train in the squad) or cannot be reached (UNAVAILABLE).
  absl::Status Start(const v1::Job& job, tower::ExecutionSink* sink) override;
  absl::Status Follow(const v1::Job& job, tower::ExecutionSink* sink) override;
  // NOT_FOUND when the job has no run to stop; FAILED_PRECONDITION when the run is registering
  // its version (it will succeed).
  absl::Status Stop(const v1::Job& job, absl::string_view reason) override;

  // The update a run's record gives for `job` (exposed for tests).
  static tower::ExecutionUpdate UpdateOf(const v1::Job& job, const v1::Run& run, absl::Time now);

 private:
  struct Follower;

  // Defined where Follower is complete: the map of followers is destroyed here on a throw.
  explicit LocalTrainerExecutor(LocalTrainerExecutorOptions options);

  // A client of the trainer acting for the job's submitter.
  client::TrainerClient ClientFor(const v1::Job& job) const;
  absl::StatusOr<v1::Run> Submit(const v1::Job& job) const;
  // Follows run `run_id` of `job` on a new thread (unless one follows it already).
  void Attach(const v1::Job& job, const std::string& run_id, tower::ExecutionSink* sink);
  // The thread's body: reconnects until the run's final event.
  void Run(Follower* follower);
  void CountError() const;

  const LocalTrainerExecutorOptions options_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Follower>> followers_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_TOWER_LOCAL_TRAINER_EXECUTOR_H_
