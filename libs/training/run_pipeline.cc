#include "libs/training/run_pipeline.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "libs/core/status_macros.h"
#include "libs/training/run_spec.h"
#include "libs/training/run_state.h"
#include "libs/training/run_steps.h"

namespace fabrique::training {

using google::protobuf::util::TimeUtil;

absl::StatusOr<std::unique_ptr<RunPipeline>> RunPipeline::Create(RunPipelineOptions options) {
  if (options.runs == nullptr || options.datasets == nullptr || options.models == nullptr) {
    return absl::InvalidArgumentError("a run pipeline needs its runs, datasets and models");
  }
  if (options.clock == nullptr) options.clock = core::Clock::Real();
  return std::unique_ptr<RunPipeline>(new RunPipeline(options));
}

absl::StatusOr<v1::Run> RunPipeline::Execute(const std::string& run_id, CancelToken* cancel) const {
  CancelToken own;  // Without the caller's, the deadline still needs a way to stop training.
  absl::StatusOr<v1::Run> run = ExecuteSteps(run_id, cancel != nullptr ? cancel : &own);
  if (run.ok()) return run;
  // A step's own bookkeeping failed: the run must not stay in a middle state forever.
  absl::StatusOr<v1::Run> now = options_.runs->Get(run_id);
  if (now.ok() && !RunStore::IsFinal(now->state())) {
    (void)options_.runs->Transition(run_id, v1::RUN_STATE_FAILED,
                                    absl::StrCat("internal error: ", run.status().message()));
  }
  return run;
}

absl::StatusOr<v1::Run> RunPipeline::ExecuteSteps(const std::string& run_id,
                                                  CancelToken* cancel) const {
  ASSIGN_OR_RETURN(const v1::Run run, options_.runs->Get(run_id));
  RunState state;
  state.run_id = run_id;
  state.spec = run.spec();
  state.config = ConfigFromSpec(state.spec);
  state.context.run_id = run_id;
  state.context.cancel = cancel;
  state.context.caller = run.submitted_by();
  state.context.squad = run.squad();
  state.resume_epoch = run.checkpoint_epoch();
  state.checkpoint_key = run.tower_job_id().empty() ? run_id : run.tower_job_id();
  if (run.has_deadline_time()) {
    state.context.deadline =
        absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(run.deadline_time()));
  }
  RunSteps steps(options_, state);
  for (absl::Status (RunSteps::*step)() :
       {&RunSteps::BuildDataset, &RunSteps::Train, &RunSteps::Evaluate, &RunSteps::Register}) {
    RETURN_IF_ERROR((steps.*step)());
    if (steps.ended()) return *steps.ended();
  }
  return absl::InternalError("the run's steps ended without a final state");
}

}  // namespace fabrique::training
