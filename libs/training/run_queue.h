#ifndef FABRIQUE_LIBS_TRAINING_RUN_QUEUE_H_
#define FABRIQUE_LIBS_TRAINING_RUN_QUEUE_H_

// RunQueue: the trainer's core. Takes submissions (checked before any work, idempotent by
// request id), keeps the runs waiting in order, runs them on its worker threads through the
// RunPipeline, cancels them, streams their events, and survives restarts: the runs still queued
// when the trainer stopped are queued again, oldest first, at the next start.
//
// Each run in progress has its own CancelToken and RunContext, so workers share nothing but the
// queue. The gRPC adapter (services/trainer) validates, calls this, maps the status and records
// metrics through a RunObserver.

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "fabrique/v1/trainer.pb.h"
#include "libs/core/clock.h"
#include "libs/training/cancel_token.h"
#include "libs/training/ports.h"
#include "libs/training/run_pipeline.h"
#include "libs/training/run_store.h"

namespace fabrique::training {

// Hears of the queue's changes, so an adapter can keep metrics without this library knowing
// Prometheus.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  // How many runs wait and how many are in progress, after each change. Called with the queue's
  // lock held, so the counts arrive in order: must not call the queue.
  virtual void OnLoad(int queued, int running) {}
  // A worker took `run_id` from the queue and is about to run it (unless the trainer stops
  // first: then the run stays queued). Called on that worker's thread, no lock held.
  virtual void OnTaken(const std::string& run_id) {}
  // A run reached a final state: at its worker's hands, or cancelled while it waited. Called on
  // that thread, no lock held.
  virtual void OnFinished(const v1::Run& run) {}
};

struct RunQueueOptions {
  RunStore* runs = nullptr;           // Required; not owned.
  DatasetSource* datasets = nullptr;  // Required; not owned.
  ModelSink* models = nullptr;        // Required; not owned.
  RunObserver* observer = nullptr;    // Optional; not owned.
  // Runs trained at once, one worker thread each. Default 1: a run's training uses every CPU
  // the process may use (RunSpec.threads), so a second one at once mostly halves both. Runs at
  // once share LibTorch's process-wide generator and thread count: each trains correctly, but
  // its shuffles may then differ from those of the same seed trained alone.
  int workers = 1;
  // Reads the time for submission deadlines (counted from the submission) and for the runs'
  // deadlines and progress (RunPipelineOptions::clock). Not owned; nullptr = the real clock.
  core::Clock* clock = nullptr;
  // Progress events are appended at most this often per run (and at every epoch's end).
  // Default 1 s.
  absl::Duration progress_interval = absl::Seconds(1);
  // Folder of the runs' epoch checkpoints (RunPipelineOptions::checkpoint_dir); "" = none.
  std::string checkpoint_dir;
};

class RunQueue {
 public:
  // Queues again the runs the store holds as queued (oldest first; a store that cannot list them
  // is logged, and those runs wait for a retry of their submission). Runs nothing until Start.
  // INVALID_ARGUMENT for a missing option or fewer than one worker.
  static absl::StatusOr<std::unique_ptr<RunQueue>> Create(RunQueueOptions options);
  // Stops (Stop), then waits for the workers: for the runs registering their version, until
  // they complete.
  ~RunQueue();

  // Starts the workers, which run the queued runs from then on. Call once the trainer serves:
  // a trainer that fails to start then leaves every queued run queued, untouched. Once only,
  // from the thread that made the queue; after Stop it starts nothing.
  void Start();

  // Begins the stop and returns at once: no further run starts, the runs in progress are failed
  // within one batch, saying the trainer stopped (those registering their version complete
  // instead), and the queued ones stay queued in the store for the next start, even one a
  // worker had taken but not yet begun. Call it as shutdown begins.
  void Stop();

  // Checks `request`'s spec (run_spec.h, then the features through the DatasetSource, asked
  // within `time_left`, the caller's remaining time, on `caller`'s behalf), stores the run as
  // QUEUED for `caller` in request.squad (the adapter has checked runs.submit there) and queues
  // it. A request_id seen before returns the run it made, at once, unchecked (ALREADY_EXISTS
  // when that run is another squad's). validate_only checks and stores nothing.
  // INVALID_ARGUMENT / FAILED_PRECONDITION from the checks; UNAVAILABLE when the feature store
  // cannot be asked.
  absl::StatusOr<v1::Run> Submit(const v1::SubmitRunRequest& request, const v1::Principal& caller,
                                 absl::Duration time_left = absl::InfiniteDuration());

  // Cancels a queued run at once, and a running one within one batch (its record, read after
  // the cancel, says where it was, or how it ended if it ended meanwhile); the CANCELLED state
  // names `caller`'s subject and `reason`. An ended run is returned as it is.
  // FAILED_PRECONDITION when the run is registering its version: it will complete. NOT_FOUND for
  // an unknown run.
  absl::StatusOr<v1::Run> Cancel(const std::string& run_id, const v1::Principal& caller,
                                 const std::string& reason);

  // Hands `write` each event of the run after sequence `after`, in order, waiting for new ones,
  // until the final one (which carries the final record), until `write` returns false, or until
  // `gone` (polled about once a second) returns true. NOT_FOUND for an unknown run; UNAVAILABLE
  // once Interrupt was called, saying where to resume.
  absl::Status Watch(const std::string& run_id, int64_t after,
                     const std::function<bool(const v1::RunEvent&)>& write,
                     const std::function<bool()>& gone);

  // Shutdown begins: Watch streams end (UNAVAILABLE), so clients reconnect after the restart.
  void Interrupt();

  // Waits, at most `timeout`, until no run waits or is in progress; returns whether that came.
  bool AwaitIdle(absl::Duration timeout) const;

 private:
  explicit RunQueue(RunQueueOptions options, std::unique_ptr<RunPipeline> pipeline)
      : options_(options), pipeline_(std::move(pipeline)) {}

  // One worker: takes the oldest queued run, runs it, and again, until the queue stops.
  void Work();
  // Puts a queued run in the queue, unless it is there, in progress or being cancelled.
  void Enqueue(const std::string& run_id);
  // Cancel's answer for a run in progress, whose token accepted the cancel or `refused` it.
  absl::StatusOr<v1::Run> CancelInProgress(const std::string& run_id, bool refused);
  void ReportLoad() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const RunQueueOptions options_;
  const std::unique_ptr<RunPipeline> pipeline_;

  mutable absl::Mutex mu_;
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);
  // The runs in progress and their tokens (which live on their workers' stacks).
  absl::flat_hash_map<std::string, CancelToken*> running_ ABSL_GUARDED_BY(mu_);
  // Queued runs Cancel took out of the queue and has not yet recorded CANCELLED: a retried
  // submission, which still reads them QUEUED, must not queue them again meanwhile.
  absl::flat_hash_set<std::string> cancelling_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> interrupted_{false};
  std::vector<std::thread> workers_;
};

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_RUN_QUEUE_H_
