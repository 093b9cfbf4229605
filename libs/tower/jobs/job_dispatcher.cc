// JobQueue's dispatcher: the admission cycle, the executor calls it decides, what executors
// report back, and the closed loop of retraining jobs.

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/core/log.h"
#include "libs/core/status_macros.h"
#include "libs/tower/jobs/job_queue.h"
#include "libs/tower/jobs/job_requests.h"

namespace fabrique::tower {

namespace {

constexpr char kDefaultCandidateAlias[] = "candidate";
constexpr double kDefaultCanaryPercent = 10;

void LogFailure(absl::string_view what, absl::string_view job, const absl::Status& status) {
  if (status.ok()) return;
  core::Log(core::LogLevel::kWarning, what, {{"job", job}, {"error", status.message()}});
}

}  // namespace

void JobQueue::RunOnce() {
  absl::MutexLock step(&step_mu_);
  std::vector<ExecutorCall> calls;
  std::vector<LoopCall> loops;
  {
    absl::MutexLock lock(&mu_);
    calls = Cycle();
    loops = LoopsDue();
  }
  Execute(calls);
  CloseLoops(loops);
  Report();
}

std::string JobQueue::BudgetRefusal(const scheduling::Workload& workload) {
  if (options_.budget == nullptr) return "";
  auto job = active_.find(workload.id);
  const std::string use_case = job == active_.end() ? "" : job->second.use_case_id();
  auto [cached, inserted] = budget_cache_.try_emplace({workload.squad, use_case});
  if (inserted) {
    absl::Status admission = options_.budget->CheckAdmission(workload.squad, use_case);
    if (!admission.ok()) cached->second = std::string(admission.message());
  }
  return cached->second;
}

std::vector<JobQueue::ExecutorCall> JobQueue::Cycle() {
  budget_cache_.clear();
  const absl::Time began = absl::Now();
  scheduling::CycleResult result = options_.scheduler->RunCycle();
  if (options_.observer != nullptr) options_.observer->SchedulingCycle(absl::Now() - began);
  std::vector<ExecutorCall> calls;
  for (const scheduling::Preemption& preemption : result.preempted) Preempt(preemption, &calls);
  for (const scheduling::Admission& admission : result.admitted) Admit(admission, &calls);
  RefreshPendingReasons();
  return calls;
}

void JobQueue::Preempt(const scheduling::Preemption& preemption, std::vector<ExecutorCall>* calls) {
  auto it = active_.find(preemption.workload_id);
  if (it == active_.end()) return;
  v1::Job job = it->second;
  const v1::JobState previous = job.state();
  if (previous == v1::JOB_STATE_ADMITTED || previous == v1::JOB_STATE_RUNNING) {
    calls->push_back({ExecutorCall::Kind::kStop, job, preemption.reason});
    stopping_.insert(job.id());
  }
  job.set_state(v1::JOB_STATE_PREEMPTED);
  job.set_state_reason(preemption.reason);
  LogFailure("job_preemption_not_recorded", job.id(), Record(job, previous));
  // Requeued at once, keeping its checkpoint so that its next run resumes after it.
  job.set_state(v1::JOB_STATE_QUEUED);
  job.set_preemptions(job.preemptions() + 1);
  job.set_borrowing(false);
  job.set_state_reason(absl::StrCat("requeued after preemption: ", preemption.reason));
  LogFailure("job_requeue_not_recorded", job.id(), Record(job, v1::JOB_STATE_PREEMPTED));
  if (options_.observer != nullptr) {
    options_.observer->Preempted(
        job.squad(), preemption.kind == scheduling::Preemption::Kind::kReclaimWithinCohort
                         ? "reclaim"
                         : "priority");
  }
}

void JobQueue::Admit(const scheduling::Admission& admission, std::vector<ExecutorCall>* calls) {
  auto it = active_.find(admission.workload_id);
  if (it == active_.end() || it->second.state() != v1::JOB_STATE_QUEUED) return;
  v1::Job job = it->second;
  const absl::Time now = clock_->Now();
  job.set_state(v1::JOB_STATE_ADMITTED);
  *job.mutable_admit_time() = ToProtoTime(now);
  job.set_borrowing(admission.borrowing);
  job.set_state_reason(admission.borrowing ? "admitted on quota borrowed from the cohort"
                                           : "admitted");
  // Stored before the executor hears of it: a restart finds it admitted and never admits it
  // again.
  absl::Status recorded = Record(job, v1::JOB_STATE_QUEUED);
  if (!recorded.ok()) {
    LogFailure("job_admission_not_recorded", job.id(), recorded);
    options_.scheduler->Remove(job.id());
    (void)options_.scheduler->Enqueue(WorkloadOf(it->second));
    return;
  }
  if (options_.observer != nullptr) {
    options_.observer->Admitted(now - FromProtoTime(job.create_time()));
  }
  calls->push_back({ExecutorCall::Kind::kStart, std::move(job), ""});
}

void JobQueue::RefreshPendingReasons() {
  std::vector<v1::Job> changed;
  for (const auto& [id, job] : active_) {
    if (job.state() != v1::JOB_STATE_QUEUED) continue;
    std::string reason = options_.scheduler->PendingReason(id);
    if (reason.empty() || reason == job.state_reason()) continue;
    changed.push_back(job);
    changed.back().set_state_reason(std::move(reason));
  }
  for (v1::Job& job : changed) {
    const std::string id = job.id();
    LogFailure("job_reason_not_recorded", id, Record(std::move(job), v1::JOB_STATE_QUEUED));
  }
}

JobExecutor* JobQueue::ExecutorOf(const v1::Job& job) const {
  auto it = options_.executors.find(job.executor());
  return it == options_.executors.end() ? nullptr : it->second;
}

std::string JobQueue::ExecutorName(v1::Executor executor) const {
  auto it = options_.executor_names.find(executor);
  if (it != options_.executor_names.end()) return it->second;
  return absl::AsciiStrToLower(v1::Executor_Name(executor).substr(9));  // After "EXECUTOR_".
}

void JobQueue::Execute(const std::vector<ExecutorCall>& calls) {
  for (const ExecutorCall& call : calls) {
    JobExecutor* executor = ExecutorOf(call.job);
    absl::Status status = absl::FailedPreconditionError(
        absl::StrCat("this tower runs no ", ExecutorName(call.job.executor()), " executor"));
    if (executor != nullptr) {
      switch (call.kind) {
        case ExecutorCall::Kind::kStart:
          status = executor->Start(call.job, this);
          break;
        case ExecutorCall::Kind::kFollow:
          status = executor->Follow(call.job, this);
          break;
        case ExecutorCall::Kind::kStop:
          status = executor->Stop(call.job, call.reason);
          break;
      }
    }
    if (status.ok()) continue;
    if (options_.observer != nullptr) {
      options_.observer->ExecutorError(ExecutorName(call.job.executor()));
    }
    LogFailure("executor_call_failed", call.job.id(), status);
    if (call.kind == ExecutorCall::Kind::kStop) continue;
    // A job its executor cannot run fails with why, freeing its quota for the next.
    absl::MutexLock lock(&mu_);
    auto it = active_.find(call.job.id());
    if (it == active_.end() || it->second.preemptions() != call.job.preemptions()) continue;
    if (it->second.state() != v1::JOB_STATE_ADMITTED &&
        it->second.state() != v1::JOB_STATE_RUNNING) {
      continue;
    }
    LogFailure(
        "job_failure_not_recorded", call.job.id(),
        Finish(it->second, v1::JOB_STATE_FAILED,
               absl::StrCat("the ", ExecutorName(call.job.executor()), " executor could not ",
                            call.kind == ExecutorCall::Kind::kStart ? "start" : "follow",
                            " it: ", status.message())));
  }
}

void JobQueue::OnUpdate(const ExecutionUpdate& update) {
  absl::MutexLock lock(&mu_);
  auto it = active_.find(update.job_id);
  if (it == active_.end()) return;  // Finished (cancelled, failed) already.
  v1::Job job = it->second;
  const v1::JobState previous = job.state();
  bool changed = false;
  if (update.checkpoint_epoch > job.checkpoint_epoch()) {
    job.set_checkpoint_epoch(update.checkpoint_epoch);
    changed = true;
  }
  if (update.usage.cpu_seconds() > job.usage().cpu_seconds() ||
      update.usage.gpu_seconds() > job.usage().gpu_seconds() ||
      update.usage.memory_gib_seconds() > job.usage().memory_gib_seconds()) {
    *job.mutable_usage() = update.usage;
    changed = true;
  }
  auto set_if = [&changed](const std::string& value, std::string* field) {
    if (!value.empty() && value != *field) {
      *field = value;
      changed = true;
    }
  };
  set_if(update.trainer_run_id, job.mutable_trainer_run_id());
  set_if(update.kubernetes_job_name, job.mutable_kubernetes_job_name());
  set_if(update.kubernetes_namespace, job.mutable_kubernetes_namespace());
  // Only a run that holds the job's admission moves its state; the last words of a preempted
  // run (its CANCELLED, or a late RUNNING) only leave the checkpoint and usage.
  const bool holds = previous == v1::JOB_STATE_ADMITTED || previous == v1::JOB_STATE_RUNNING;
  if (stopping_.count(job.id()) > 0 &&
      (update.state == v1::JOB_STATE_CANCELLED || update.state == v1::JOB_STATE_FAILED)) {
    stopping_.erase(job.id());
  } else if (holds && update.state == v1::JOB_STATE_RUNNING && previous == v1::JOB_STATE_ADMITTED) {
    job.set_state(v1::JOB_STATE_RUNNING);
    *job.mutable_start_time() = ToProtoTime(clock_->Now());
    job.set_state_reason("running");
    changed = true;
  } else if (holds &&
             (update.state == v1::JOB_STATE_SUCCEEDED || update.state == v1::JOB_STATE_FAILED ||
              update.state == v1::JOB_STATE_CANCELLED)) {
    if (update.state == v1::JOB_STATE_SUCCEEDED)
      *job.mutable_result_version() = update.result_version;
    if (options_.budget != nullptr) {
      absl::StatusOr<v1::Money> cost = options_.budget->MeterJob(job);
      if (cost.ok()) *job.mutable_cost() = *cost;
      LogFailure("job_not_metered", job.id(), cost.status());
    }
    std::string reason = update.reason;
    if (reason.empty()) {
      reason = update.state == v1::JOB_STATE_SUCCEEDED ? "succeeded" : "stopped by its executor";
    }
    LogFailure("job_end_not_recorded", job.id(), Finish(std::move(job), update.state, reason));
    return;
  }
  if (!changed) return;
  if (options_.budget != nullptr && job.usage().ByteSizeLong() > 0) {
    absl::StatusOr<v1::Money> cost = options_.budget->MeterJob(job);
    if (cost.ok()) *job.mutable_cost() = *cost;
  }
  LogFailure("job_update_not_recorded", job.id(), Record(std::move(job), previous));
}

// ---- The closed loop ----

bool JobQueue::ClosesLoop(const v1::Job& job) const {
  return (job.trigger() == v1::JOB_TRIGGER_MONITOR || job.kind() == v1::JOB_KIND_RETRAINING) &&
         !job.result_version().model().empty() && job.result_version().version() > 0;
}

std::vector<JobQueue::LoopCall> JobQueue::LoopsDue() {
  std::vector<LoopCall> calls;
  for (auto it = loops_due_.begin(); it != loops_due_.end();) {
    absl::StatusOr<v1::Job> job = store_->Get(*it);
    if (!job.ok()) {
      it = loops_due_.erase(it);
      continue;
    }
    if (options_.registry == nullptr) {
      job->set_state_reason(absl::StrCat(
          "succeeded; version ", job->result_version().version(),
          " is not canaried: this tower has no registry to point the candidate alias with"));
      LogFailure("job_loop_not_recorded", *it, Record(*job, job->state(), false));
      it = loops_due_.erase(it);
      continue;
    }
    LoopCall call;
    call.job = *std::move(job);
    v1::RetrainingPolicy policy;
    if (options_.use_cases != nullptr && !call.job.use_case_id().empty()) {
      absl::StatusOr<v1::UseCase> use_case = options_.use_cases->GetUseCase(call.job.use_case_id());
      if (use_case.ok()) policy = use_case->retraining();
    }
    call.alias =
        policy.candidate_alias().empty() ? kDefaultCandidateAlias : policy.candidate_alias();
    call.canary_percent =
        policy.canary_percent() > 0 ? policy.canary_percent() : kDefaultCanaryPercent;
    call.promote_to_alias = policy.promote_to_alias();
    calls.push_back(std::move(call));
    ++it;
  }
  return calls;
}

void JobQueue::CloseLoops(const std::vector<LoopCall>& calls) {
  for (const LoopCall& call : calls) {
    const v1::ModelVersionRef& version = call.job.result_version();
    absl::Status status = options_.registry->SetAlias(
        version.model(), call.alias, version.version(),
        absl::StrCat("retrained by job ", call.job.id(), ": ", call.job.reason()),
        call.job.submitted_by());
    if (status.ok()) {
      status = options_.registry->SetCanary(version.model(), call.alias, call.canary_percent,
                                            call.job.submitted_by());
    }
    std::string step = "canarying";
    std::string promotion;
    if (status.ok() && !call.promote_to_alias.empty()) {
      promotion = Promote(call, &status);
      step = absl::StrCat("asking the promotion to ", call.promote_to_alias, " of");
    }
    absl::MutexLock lock(&mu_);
    absl::StatusOr<v1::Job> job = store_->Get(call.job.id());
    if (!job.ok()) continue;
    std::string reason;
    if (status.ok()) {
      reason = absl::StrCat("succeeded; alias ", call.alias, " of model ", version.model(),
                            " points at version ", version.version(), " with a ",
                            call.canary_percent, "% canary", promotion);
      loops_due_.erase(call.job.id());
    } else {
      reason = absl::StrCat("succeeded; ", step, " version ", version.version(),
                            " failed, tried again next tick: ", status.message());
    }
    if (reason == job->state_reason()) continue;
    job->set_state_reason(reason);
    LogFailure("job_loop_not_recorded", call.job.id(),
               Record(*job, job->state(), status.ok() ? std::optional<bool>(false) : std::nullopt));
  }
}

std::string JobQueue::Promote(const LoopCall& call, absl::Status* unreachable) {
  const v1::ModelVersionRef& version = call.job.result_version();
  absl::StatusOr<v1::PromotionRequest> request = options_.registry->RequestPromotion(
      version.model(), call.promote_to_alias, version.version(),
      absl::StrCat("retrained by job ", call.job.id(), ", canaried at ", call.canary_percent,
                   "% on alias ", call.alias),
      call.job.submitted_by());
  if (request.ok()) {
    const bool done = request->state() == v1::PROMOTION_STATE_COMPLETED;
    return absl::StrCat("; promotion ", request->id(), " to ", call.promote_to_alias, " ",
                        done ? "completed" : "asked, its gates decide");
  }
  // A gate's refusal (or a rule's) is the policy's answer, kept in the job's reason; only a
  // registry out of reach is tried again.
  if (absl::IsFailedPrecondition(request.status()) || absl::IsPermissionDenied(request.status()) ||
      absl::IsNotFound(request.status()) || absl::IsInvalidArgument(request.status())) {
    return absl::StrCat("; promotion to ", call.promote_to_alias,
                        " refused: ", request.status().message());
  }
  *unreachable = request.status();
  return "";
}

void JobQueue::Report() {
  if (options_.observer == nullptr) return;
  std::map<std::pair<std::string, v1::JobState>, int> counts;
  std::vector<v1::Quota> quotas;
  {
    absl::MutexLock lock(&mu_);
    counts = counts_seen_;
    for (const auto& [squad, signature] : queues_) {
      absl::StatusOr<v1::Quota> quota = QuotaInForce(squad);
      if (quota.ok()) quotas.push_back(WithUsage(*std::move(quota)));
    }
  }
  options_.observer->JobCounts(counts);
  options_.observer->Quotas(quotas);
}

}  // namespace fabrique::tower
