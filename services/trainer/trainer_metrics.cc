#include "services/trainer/trainer_metrics.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/time_util.h"

namespace fabrique::services {
namespace {

using google::protobuf::util::TimeUtil;

// "succeeded", "building_dataset", ...: a state as a label value.
std::string StateLabel(v1::RunState state) {
  return absl::AsciiStrToLower(absl::StripPrefix(v1::RunState_Name(state), "RUN_STATE_"));
}

}  // namespace

TrainerMetrics::TrainerMetrics(prometheus::Registry& registry)
    : finished_(prometheus::BuildCounter()
                    .Name("fabrique_trainer_runs_finished_total")
                    .Help("Runs that reached a final state, by state (succeeded, failed, "
                          "cancelled).")
                    .Register(registry)),
      stage_seconds_(prometheus::BuildCounter()
                         .Name("fabrique_trainer_stage_seconds_total")
                         .Help("Seconds finished runs spent in each state (queued, "
                               "building_dataset, training, evaluating, registering).")
                         .Register(registry)),
      samples_(prometheus::BuildCounter()
                   .Name("fabrique_trainer_samples_trained_total")
                   .Help("Training rows processed by the epochs of finished runs' trials.")
                   .Register(registry)
                   .Add({})),
      queued_(prometheus::BuildGauge()
                  .Name("fabrique_trainer_runs_queued")
                  .Help("Runs waiting for a worker.")
                  .Register(registry)
                  .Add({})),
      running_(prometheus::BuildGauge()
                   .Name("fabrique_trainer_runs_running")
                   .Help("Runs in progress.")
                   .Register(registry)
                   .Add({})) {
  for (const char* state : {"succeeded", "failed", "cancelled"}) {
    finished_.Add({{"state", state}});  // Present at 0, so rates exist from the start.
  }
}

void TrainerMetrics::OnLoad(int queued, int running) {
  queued_.Set(queued);
  running_.Set(running);
}

void TrainerMetrics::OnFinished(const v1::Run& run) {
  finished_.Add({{"state", StateLabel(run.state())}}).Increment();
  // Each state lasted from its change to the next one.
  for (int i = 0; i + 1 < run.history_size(); ++i) {
    const int64_t micros = TimeUtil::TimestampToMicroseconds(run.history(i + 1).time()) -
                           TimeUtil::TimestampToMicroseconds(run.history(i).time());
    stage_seconds_.Add({{"stage", StateLabel(run.history(i).to_state())}})
        .Increment(std::max<double>(0, micros / 1e6));
  }
  int64_t epochs = 0;
  for (const v1::Trial& trial : run.trials()) epochs += trial.epochs_completed();
  samples_.Increment(static_cast<double>(run.split_counts().train_rows() * epochs));
}

}  // namespace fabrique::services
