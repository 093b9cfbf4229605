#ifndef FABRIQUE_SERVICES_TRAINER_TRAINER_METRICS_H_
#define FABRIQUE_SERVICES_TRAINER_TRAINER_METRICS_H_

// The trainer's Prometheus metrics, kept as the run queue reports its changes (RunObserver):
//   fabrique_trainer_runs_finished_total{state}   runs that reached succeeded, failed, cancelled
//   fabrique_trainer_runs_queued                  runs waiting for a worker
//   fabrique_trainer_runs_running                 runs in progress
//   fabrique_trainer_stage_seconds_total{stage}   time finished runs spent in each state
//   fabrique_trainer_samples_trained_total        training rows times the epochs of their trials

#include "fabrique/v1/trainer.pb.h"
#include "libs/training/run_queue.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace fabrique::services {

class TrainerMetrics final : public training::RunObserver {
 public:
  // Registers the metrics in `registry`, which must outlive this.
  explicit TrainerMetrics(prometheus::Registry& registry);

  void OnLoad(int queued, int running) override;
  // Counts the run's outcome, its time per state and the samples its trials trained on.
  void OnFinished(const v1::Run& run) override;

 private:
  prometheus::Family<prometheus::Counter>& finished_;
  prometheus::Family<prometheus::Counter>& stage_seconds_;
  prometheus::Counter& samples_;
  prometheus::Gauge& queued_;
  prometheus::Gauge& running_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_TRAINER_TRAINER_METRICS_H_
