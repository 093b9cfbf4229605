#ifndef FABRIQUE_SERVICES_TRAINER_TRAINER_SERVICE_H_
#define FABRIQUE_SERVICES_TRAINER_TRAINER_SERVICE_H_

// The gRPC adapter of `fabrique::v1::Trainer`: validates a spec (unknown features or a missing
// label are INVALID_ARGUMENT before any work, `cuda` without a GPU FAILED_PRECONDITION), stores
// the run (libs/training/run_store.h) and hands it to one worker thread that runs them one after
// another (run_pipeline.h); reports, lists, cancels (within one batch) and streams runs.

#include <atomic>
#include <deque>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "fabrique/v1/trainer.grpc.pb.h"
#include "libs/training/run_pipeline.h"
#include "libs/training/run_store.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/trainer/remote_ports.h"

namespace fabrique::services {

class TrainerService final : public fabrique::v1::Trainer::Service {
 public:
  // None is owned; all must outlive the service. Starts the worker thread. Metrics (on
  // `metrics`): fabrique_trainer_runs_finished_total{state}, fabrique_trainer_runs_queued,
  // fabrique_trainer_runs_running, fabrique_trainer_stage_seconds_total{stage} (time runs spent
  // in each state) and fabrique_trainer_samples_trained_total.
  TrainerService(training::RunStore* runs, RemoteDatasets* datasets, RemoteModels* models,
                 prometheus::Registry& metrics);
  // Fails the run in progress (saying the trainer stopped), keeps the queued ones queued for the
  // next start, and stops the worker.
  ~TrainerService() override;

  grpc::Status SubmitRun(grpc::ServerContext* context, const v1::SubmitRunRequest* request,
                         v1::Run* response) override;
  grpc::Status GetRun(grpc::ServerContext* context, const v1::GetRunRequest* request,
                      v1::Run* response) override;
  grpc::Status ListRuns(grpc::ServerContext* context, const v1::ListRunsRequest* request,
                        v1::ListRunsResponse* response) override;
  grpc::Status CancelRun(grpc::ServerContext* context, const v1::CancelRunRequest* request,
                         v1::Run* response) override;
  grpc::Status WatchRun(grpc::ServerContext* context, const v1::WatchRunRequest* request,
                        grpc::ServerWriter<v1::RunEvent>* writer) override;

  // Ends watch streams and stops taking runs (shutdown begins).
  void Interrupt();

 private:
  void WorkLoop();
  // Puts a queued run in the worker's queue, unless it is there or running already.
  void Enqueue(const std::string& run_id);
  // Counts a run that reached a final state: its outcome, its time per state, its samples.
  void CountFinished(const v1::Run& run);

  training::RunStore* const runs_;
  RemoteDatasets* const datasets_;
  RemoteModels* const models_;
  training::RunPipeline pipeline_;

  absl::Mutex mu_;
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);
  std::string running_ ABSL_GUARDED_BY(mu_);  // Run in progress; "" = none.
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  training::CancelToken cancel_;  // Of the run in progress.
  prometheus::Family<prometheus::Counter>& finished_;
  prometheus::Family<prometheus::Counter>& stage_seconds_;
  prometheus::Counter& samples_;
  prometheus::Gauge& queued_;
  prometheus::Gauge& running_gauge_;
  std::atomic<bool> interrupted_{false};
  std::thread worker_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_TRAINER_TRAINER_SERVICE_H_
