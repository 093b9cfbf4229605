#include "libs/tower/jobs/job_queue.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/core/log.h"
#include "libs/core/status_macros.h"
#include "libs/tower/jobs/job_requests.h"

namespace fabrique::tower {

std::vector<std::string> JobQueue::ColumnFamilies() {
  return {kJobsFamily, kJobEventsFamily, kQuotasFamily};
}

JobQueue::JobQueue(Options options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : core::Clock::Real()),
      ids_(clock_) {}

absl::StatusOr<std::unique_ptr<JobQueue>> JobQueue::Create(Options options) {
  if (options.store == nullptr) return absl::InvalidArgumentError("the job queue needs a store");
  if (options.scheduler == nullptr) {
    return absl::InvalidArgumentError("the job queue needs a scheduler");
  }
  if (options.tick <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the dispatcher's tick must be positive");
  }
  std::unique_ptr<JobQueue> queue(new JobQueue(std::move(options)));
  RETURN_IF_ERROR(queue->Load());
  return queue;
}

JobQueue::~JobQueue() { Stop(); }

absl::Status JobQueue::Load() {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(quotas_, QuotaBook::Open(options_.store));
  ASSIGN_OR_RETURN(store_, JobStore::Open(options_.store, options_.event_retention));
  {
    absl::MutexLock revision_lock(&revision_mu_);
    revision_ = store_->last_revision();
  }
  options_.scheduler->SetAdmissionFilter(
      [this](const scheduling::Workload& workload)
          ABSL_NO_THREAD_SAFETY_ANALYSIS { return BudgetRefusal(workload); });
  for (const auto& [squad, quota] : quotas_->all()) RETURN_IF_ERROR(EnsureQueue(squad));
  ASSIGN_OR_RETURN(std::vector<v1::Job> jobs, store_->LoadUnfinished());
  // Ids sort by submission time: the scheduler sees the jobs in the order they came.
  std::sort(jobs.begin(), jobs.end(),
            [](const v1::Job& a, const v1::Job& b) { return a.id() < b.id(); });
  for (v1::Job& job : jobs) {
    active_[job.id()] = job;
    absl::Status queue = EnsureQueue(job.squad());
    if (!queue.ok()) {
      core::Log(core::LogLevel::kWarning, "job_without_queue",
                {{"job", job.id()}, {"squad", job.squad()}, {"error", queue.message()}});
      continue;
    }
    switch (job.state()) {
      case v1::JOB_STATE_PREEMPTED: {
        // Killed between recording the preemption and the requeue: requeue now.
        v1::Job requeued = job;
        requeued.set_state(v1::JOB_STATE_QUEUED);
        requeued.set_preemptions(job.preemptions() + 1);
        RETURN_IF_ERROR(Record(requeued, v1::JOB_STATE_PREEMPTED));
        RETURN_IF_ERROR(options_.scheduler->Enqueue(WorkloadOf(requeued)));
        break;
      }
      case v1::JOB_STATE_QUEUED:
        RETURN_IF_ERROR(options_.scheduler->Enqueue(WorkloadOf(job)));
        break;
      case v1::JOB_STATE_ADMITTED:
      case v1::JOB_STATE_RUNNING:
        RETURN_IF_ERROR(options_.scheduler->RestoreAdmitted(WorkloadOf(job), job.borrowing()));
        to_follow_.push_back(job);
        break;
      default:
        break;
    }
  }
  ASSIGN_OR_RETURN(std::vector<std::string> loops, store_->LoadLoopsDue());
  loops_due_.insert(loops.begin(), loops.end());
  ASSIGN_OR_RETURN(counts_seen_, store_->CountByState());
  return absl::OkStatus();
}

void JobQueue::Start() {
  absl::MutexLock lock(&wake_mu_);
  if (dispatcher_.joinable()) return;
  stopping_thread_ = false;
  dispatcher_ = std::thread([this] {
    std::vector<ExecutorCall> follow;
    {
      absl::MutexLock lock(&mu_);
      // An ADMITTED job may never have reached its executor (killed in between): Start, which
      // is idempotent, either starts it or finds it started. A RUNNING one is followed.
      for (v1::Job& job : to_follow_) {
        follow.push_back({job.state() == v1::JOB_STATE_ADMITTED ? ExecutorCall::Kind::kStart
                                                                : ExecutorCall::Kind::kFollow,
                          std::move(job), ""});
      }
      to_follow_.clear();
    }
    Execute(follow);
    while (true) {
      RunOnce();
      absl::MutexLock lock(&wake_mu_);
      wake_mu_.AwaitWithTimeout(absl::Condition(
                                    +[](JobQueue* q) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                      return q->woken_ || q->stopping_thread_;
                                    },
                                    this),
                                options_.tick);
      if (stopping_thread_) return;
      woken_ = false;
    }
  });
}

void JobQueue::Stop() {
  std::thread thread;
  {
    absl::MutexLock lock(&wake_mu_);
    stopping_thread_ = true;
    thread = std::move(dispatcher_);
  }
  if (thread.joinable()) thread.join();
}

void JobQueue::Wake() {
  absl::MutexLock lock(&wake_mu_);
  woken_ = true;
}

absl::Status JobQueue::Record(v1::Job job, v1::JobState previous, std::optional<bool> loop_due) {
  job.clear_queue_position();
  ASSIGN_OR_RETURN(v1::JobEvent event, store_->Record(job, previous, clock_->Now(), loop_due));
  if (previous != v1::JOB_STATE_UNSPECIFIED) --counts_seen_[{job.squad(), previous}];
  ++counts_seen_[{job.squad(), job.state()}];
  if (IsFinished(job.state())) {
    active_.erase(job.id());
  } else {
    active_[job.id()] = std::move(job);
  }
  absl::MutexLock lock(&revision_mu_);
  revision_ = event.revision();
  return absl::OkStatus();
}

v1::Job JobQueue::WithPosition(v1::Job job) {
  if (job.state() == v1::JOB_STATE_QUEUED) {
    job.set_queue_position(options_.scheduler->PositionInQueue(job.id()));
  }
  return job;
}

// ---- Jobs ----

int32_t JobQueue::PriorityOf(const v1::SubmitJobRequest& request, const std::string& use_case) {
  if (request.spec().has_priority()) return request.spec().priority().value();
  if (options_.use_cases == nullptr || use_case.empty()) return 0;
  absl::StatusOr<v1::UseCase> found = options_.use_cases->GetUseCase(use_case);
  if (!found.ok()) return 0;
  return static_cast<int32_t>(std::lround(found->wsjf() * 100));
}

absl::Status JobQueue::CheckSquad(const std::string& squad) {
  if (options_.org != nullptr) return options_.org->GetSquad(squad).status();
  if (quotas_->Find(squad).has_value()) return absl::OkStatus();
  return absl::NotFoundError(
      absl::StrCat("no squad '", squad, "' has a quota; SetQuota gives it one"));
}

absl::StatusOr<v1::Job> JobQueue::SubmitJob(const v1::SubmitJobRequest& request,
                                            const v1::Principal& caller) {
  RETURN_IF_ERROR(ValidateSubmission(request));
  const std::string use_case = !request.use_case_id().empty()
                                   ? request.use_case_id()
                                   : request.spec().training().use_case_id();
  if (!request.request_id().empty()) {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(std::optional<v1::Job> first, store_->FindByRequest(request.request_id()));
    if (first.has_value()) return WithPosition(*std::move(first));
  }
  if (options_.use_cases != nullptr && !use_case.empty()) {
    RETURN_IF_ERROR(options_.use_cases->GetUseCase(use_case).status());
  }
  v1::Job job;
  job.set_id(ids_.Next());
  job.set_squad(request.squad());
  job.set_use_case_id(use_case);
  *job.mutable_spec() = request.spec();
  job.mutable_spec()->mutable_training()->set_use_case_id(use_case);
  job.set_trigger(request.trigger() == v1::JOB_TRIGGER_UNSPECIFIED ? v1::JOB_TRIGGER_MANUAL
                                                                   : request.trigger());
  job.set_reason(request.reason());
  *job.mutable_submitted_by() = caller;
  job.set_priority(PriorityOf(request, use_case));
  job.set_executor(request.spec().executor() == v1::EXECUTOR_UNSPECIFIED
                       ? options_.default_executor
                       : request.spec().executor());
  job.set_request_id(request.request_id());
  job.set_kind(KindOf(request));
  *job.mutable_create_time() = ToProtoTime(clock_->Now());
  if (ExecutorOf(job) == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("this tower runs no ", ExecutorName(job.executor()),
                     " executor; leave spec.executor unset for the default (",
                     ExecutorName(options_.default_executor), ")"));
  }

  absl::Status refusal;
  {
    absl::MutexLock lock(&mu_);
    RETURN_IF_ERROR(CheckSquad(job.squad()));
    RETURN_IF_ERROR(EnsureQueue(job.squad()));
    RETURN_IF_ERROR(options_.scheduler->CheckFits(WorkloadOf(job)));
    if (options_.budget != nullptr) {
      refusal = options_.budget->CheckAdmission(job.squad(), use_case);
    }
    if (!refusal.ok() && !(absl::IsResourceExhausted(refusal) && request.wait_for_approval() &&
                           options_.approvals != nullptr)) {
      return refusal;
    }
    if (refusal.ok()) {
      job.set_state(v1::JOB_STATE_QUEUED);
      job.set_state_reason("queued");
      RETURN_IF_ERROR(options_.scheduler->Enqueue(WorkloadOf(job)));
      RETURN_IF_ERROR(Record(job, v1::JOB_STATE_UNSPECIFIED));
      Wake();
      return WithPosition(std::move(job));
    }
  }
  // Past a hard budget threshold, the job waits for an approval, opened without the lock: the
  // approvals core asks the handlers to validate it.
  ASSIGN_OR_RETURN(v1::Approval approval, OpenBudgetOverrun(job, caller, refusal));
  absl::MutexLock lock(&mu_);
  if (!request.request_id().empty()) {
    ASSIGN_OR_RETURN(std::optional<v1::Job> first, store_->FindByRequest(request.request_id()));
    if (first.has_value()) return WithPosition(*std::move(first));
  }
  job.set_state(v1::JOB_STATE_PENDING_APPROVAL);
  job.set_approval_id(approval.id());
  job.set_state_reason(
      absl::StrCat("waiting for approval ", approval.id(), ": ", refusal.message()));
  RETURN_IF_ERROR(Record(job, v1::JOB_STATE_UNSPECIFIED));
  return job;
}

absl::StatusOr<v1::Approval> JobQueue::OpenBudgetOverrun(const v1::Job& job,
                                                         const v1::Principal& caller,
                                                         const absl::Status& refusal) {
  v1::Approval draft;
  draft.set_kind(v1::APPROVAL_KIND_BUDGET_OVERRUN);
  const bool by_use_case = !job.use_case_id().empty();
  draft.set_subject_id(by_use_case ? job.use_case_id() : job.squad());
  draft.set_squad(job.squad());
  draft.set_summary(absl::StrCat("job ", job.id(), " of squad ", job.squad(),
                                 " waits past a hard budget threshold: ", refusal.message()));
  v1::BudgetOverrun* overrun = draft.mutable_budget_overrun();
  overrun->set_scope(by_use_case ? v1::BUDGET_SCOPE_USE_CASE : v1::BUDGET_SCOPE_SQUAD);
  overrun->set_id(by_use_case ? job.use_case_id() : job.squad());
  overrun->set_job_id(job.id());
  return options_.approvals->Open(
      std::move(draft), caller,
      job.request_id().empty() ? "" : absl::StrCat("job-budget-", job.request_id()));
}

absl::StatusOr<v1::Job> JobQueue::GetJob(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  auto it = active_.find(std::string(id));
  if (it != active_.end()) return WithPosition(it->second);
  return store_->Get(id);
}

absl::StatusOr<std::string> JobQueue::SquadOfJob(absl::string_view id) {
  ASSIGN_OR_RETURN(v1::Job job, GetJob(id));
  return job.squad();
}

absl::StatusOr<v1::ListJobsResponse> JobQueue::ListJobs(const v1::ListJobsRequest& request) {
  JobFilter filter;
  filter.squad = request.squad();
  filter.use_case_id = request.use_case_id();
  for (int state : request.states()) filter.states.push_back(static_cast<v1::JobState>(state));
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(JobPage page, store_->List(filter, request.page_size(), request.page_token()));
  v1::ListJobsResponse response;
  for (v1::Job& job : page.jobs) *response.add_jobs() = WithPosition(std::move(job));
  response.set_next_page_token(page.next_page_token);
  return response;
}

absl::StatusOr<v1::Job> JobQueue::CancelJob(absl::string_view id, absl::string_view reason,
                                            const v1::Principal& caller) {
  ExecutorCall stop{ExecutorCall::Kind::kStop, {}, ""};
  v1::Job cancelled;
  {
    absl::MutexLock lock(&mu_);
    auto it = active_.find(std::string(id));
    if (it == active_.end()) return store_->Get(id);  // Finished: cancelling again is a no-op.
    v1::Job job = it->second;
    const bool running =
        job.state() == v1::JOB_STATE_ADMITTED || job.state() == v1::JOB_STATE_RUNNING;
    const std::string why =
        absl::StrCat("cancelled by ", caller.subject(), reason.empty() ? "" : ": ", reason);
    if (running) stop.job = job;
    RETURN_IF_ERROR(Finish(std::move(job), v1::JOB_STATE_CANCELLED, why));
    stop.reason = why;
    ASSIGN_OR_RETURN(cancelled, store_->Get(id));
  }
  if (!stop.job.id().empty()) Execute({stop});
  Wake();
  return cancelled;
}

absl::Status JobQueue::Finish(v1::Job job, v1::JobState state, const std::string& reason) {
  const v1::JobState previous = job.state();
  if (previous != v1::JOB_STATE_PENDING_APPROVAL) options_.scheduler->Remove(job.id());
  stopping_.erase(job.id());
  job.set_state(state);
  job.set_state_reason(reason);
  if (state == v1::JOB_STATE_FAILED) job.set_failure_reason(reason);
  const absl::Time now = clock_->Now();
  *job.mutable_end_time() = ToProtoTime(now);
  if (options_.observer != nullptr) {
    options_.observer->Finished(now - FromProtoTime(job.create_time()));
  }
  const bool loop_due = state == v1::JOB_STATE_SUCCEEDED && ClosesLoop(job);
  if (loop_due) loops_due_.insert(job.id());
  RETURN_IF_ERROR(Record(job, previous, loop_due ? std::optional<bool>(true) : std::nullopt));
  Wake();
  return absl::OkStatus();
}

// ---- Approvals of jobs ----

absl::Status JobQueue::ApprovalApproved(const v1::Approval& approval) {
  const std::string& job_id = approval.budget_overrun().job_id();
  if (job_id.empty()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  auto it = active_.find(job_id);
  if (it == active_.end() || it->second.state() != v1::JOB_STATE_PENDING_APPROVAL) {
    return absl::OkStatus();  // Already queued, or gone: applying again changes nothing.
  }
  v1::Job job = it->second;
  RETURN_IF_ERROR(EnsureQueue(job.squad()));
  job.set_state(v1::JOB_STATE_QUEUED);
  job.set_state_reason(absl::StrCat("queued: approval ", approval.id(), " approved"));
  absl::Status enqueued = options_.scheduler->Enqueue(WorkloadOf(job));
  if (!enqueued.ok() && !absl::IsAlreadyExists(enqueued)) return enqueued;
  RETURN_IF_ERROR(Record(std::move(job), v1::JOB_STATE_PENDING_APPROVAL));
  Wake();
  return absl::OkStatus();
}

void JobQueue::ApprovalClosed(const v1::Approval& approval) {
  const std::string& job_id = approval.budget_overrun().job_id();
  if (job_id.empty()) return;
  absl::MutexLock lock(&mu_);
  auto it = active_.find(job_id);
  if (it == active_.end() || it->second.state() != v1::JOB_STATE_PENDING_APPROVAL) return;
  const std::string why =
      absl::StrCat("approval ", approval.id(), " ",
                   absl::AsciiStrToLower(v1::ApprovalState_Name(approval.state()).substr(15)),
                   approval.close_reason().empty() ? "" : ": ", approval.close_reason());
  absl::Status failed = Finish(it->second, v1::JOB_STATE_FAILED, why);
  if (!failed.ok()) {
    core::Log(core::LogLevel::kWarning, "job_not_failed",
              {{"job", job_id}, {"error", failed.message()}});
  }
}

// ---- Watch ----

absl::Status JobQueue::WatchJobs(const v1::WatchJobsRequest& request,
                                 const std::function<bool(const v1::JobEvent&)>& send,
                                 const std::function<bool()>& cancelled) {
  if (request.after_revision() < 0) {
    return absl::InvalidArgumentError("after_revision must be >= 0 (0 = from now)");
  }
  JobFilter filter;
  filter.squad = request.squad();
  filter.job_ids.assign(request.job_ids().begin(), request.job_ids().end());
  JobStore* events = nullptr;
  int64_t from = 0;
  std::vector<v1::JobEvent> snapshot;
  {
    absl::MutexLock lock(&mu_);
    events = store_.get();
    if (request.after_revision() > 0 &&
        request.after_revision() < events->oldest_kept_revision() - 1) {
      return absl::OutOfRangeError(absl::StrCat(
          "revision ", request.after_revision(), " is older than the job events kept (from ",
          events->oldest_kept_revision(), "); watch again with include_snapshot"));
    }
    from = request.after_revision() > 0 ? request.after_revision() : events->last_revision();
    if (request.include_snapshot()) {
      const google::protobuf::Timestamp now = ToProtoTime(clock_->Now());
      for (const auto& [id, job] : active_) {
        if (!filter.Matches(job)) continue;
        v1::JobEvent event;
        event.set_revision(events->last_revision());
        *event.mutable_time() = now;
        *event.mutable_job() = WithPosition(job);
        event.set_previous_state(job.state());
        event.set_snapshot(true);
        snapshot.push_back(std::move(event));
      }
      std::sort(snapshot.begin(), snapshot.end(),
                [](const auto& a, const auto& b) { return a.job().id() < b.job().id(); });
    }
  }
  for (const v1::JobEvent& event : snapshot) {
    if (!send(event)) return absl::OkStatus();
  }
  while (!cancelled()) {
    ASSIGN_OR_RETURN(std::vector<v1::JobEvent> batch, events->EventsAfter(from, 256));
    if (!batch.empty() && batch.front().revision() > from + 1) {
      return absl::OutOfRangeError(
          absl::StrCat("the watcher fell behind: events after revision ", from,
                       " are no longer kept; watch again with include_snapshot"));
    }
    for (const v1::JobEvent& event : batch) {
      from = event.revision();
      if (filter.Matches(event.job()) && !send(event)) return absl::OkStatus();
    }
    if (batch.empty()) {
      std::pair<JobQueue*, int64_t> waiting(this, from);
      absl::MutexLock lock(&revision_mu_);
      revision_mu_.AwaitWithTimeout(
          absl::Condition(
              +[](std::pair<JobQueue*, int64_t>* arg)
                   ABSL_NO_THREAD_SAFETY_ANALYSIS { return arg->first->revision_ > arg->second; },
              &waiting),
          absl::Milliseconds(200));
    }
  }
  return absl::OkStatus();
}

}  // namespace fabrique::tower
