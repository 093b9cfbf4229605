#ifndef FABRIQUE_LIBS_TOWER_JOBS_JOB_QUEUE_H_
#define FABRIQUE_LIBS_TOWER_JOBS_JOB_QUEUE_H_

// The tower's job queue: squads' quotas and the cluster's capacity, the jobs submitted against
// them, and the dispatcher that admits, starts, preempts and follows them.
//
//   JobQueue::Options options;
//   options.store = store; options.clock = clock; options.scheduler = scheduler.get();
//   options.org = organisation; options.use_cases = portfolio; options.budget = budget;
//   options.approvals = approvals; options.registry = registry;
//   options.executors[v1::EXECUTOR_LOCAL] = local_executor;
//   ASSIGN_OR_RETURN(auto jobs, JobQueue::Create(options));
//   jobs->Start();  // the dispatcher thread; follows the jobs a previous run admitted
//
// Durability: every change of a job is stored with its event before anyone hears of it; a job is
// stored ADMITTED before its executor is asked to start it, so a tower killed at any point
// restarts with each admitted job admitted once (executors start idempotently by job id and
// preemption count) and every queued job queued again.
//
// The dispatcher runs one admission cycle every tick, and at once after a submission or a job's
// end: admitted jobs are started, preempted ones stopped and requeued with their checkpoint, and
// each queued job's state_reason follows the scheduler's reason. When a retraining job succeeds
// with a new version, the dispatcher points the use case's candidate alias at it and sets the
// canary share; a failure there is kept in the job's state_reason and tried again next tick.
//
// Thread-safe.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "fabrique/v1/tower.pb.h"
#include "libs/core/clock.h"
#include "libs/core/ids.h"
#include "libs/kv/store.h"
#include "libs/scheduling/scheduler.h"
#include "libs/tower/jobs/job_queue_observer.h"
#include "libs/tower/jobs/job_store.h"
#include "libs/tower/jobs/quota_book.h"
#include "libs/tower/ports.h"

namespace fabrique::tower {

class JobQueue : public ExecutionSink {
 public:
  struct Options {
    // The tower's store, with the families of JobQueue::ColumnFamilies(). Required.
    kv::Store* store = nullptr;
    // Time of submissions, admissions and ticks. Null = the real clock.
    core::Clock* clock = nullptr;
    // The admission scheduler, used only by this queue. Required.
    scheduling::Scheduler* scheduler = nullptr;
    // Squads and their entities. Null = a squad is known when a quota was set for it, and every
    // squad weighs 1.
    OrgDirectory* org = nullptr;
    // Use cases: priorities (WSJF) and retraining policies. Null = use case ids are not checked
    // and jobs without a priority override get 0.
    UseCaseDirectory* use_cases = nullptr;
    // Budget admission and metering. Null = no budget.
    BudgetGate* budget = nullptr;
    // Opens QUOTA_INCREASE and BUDGET_OVERRUN approvals. Null = quotas over capacity and jobs
    // over budget are refused instead (FAILED_PRECONDITION, RESOURCE_EXHAUSTED).
    ApprovalOpener* approvals = nullptr;
    // Where a retraining job's new version is canaried. Null = the loop is not closed.
    RegistryPort* registry = nullptr;
    // Executors by kind; the job's spec.executor picks one, UNSPECIFIED = `default_executor`.
    std::map<v1::Executor, JobExecutor*> executors;
    v1::Executor default_executor = v1::EXECUTOR_LOCAL;
    // Names for metrics and messages, by kind ("local", "kubernetes"); missing = the enum name.
    std::map<v1::Executor, std::string> executor_names;
    // Time between admission cycles when nothing wakes the dispatcher. Default 1 s.
    absl::Duration tick = absl::Seconds(1);
    // Job events kept for WatchJobs resumption. Default 100,000.
    int64_t event_retention = 100'000;
    // Where counts and latencies go. Null = nowhere.
    JobQueueObserver* observer = nullptr;
  };

  // The column families the queue needs in the store.
  static std::vector<std::string> ColumnFamilies();

  // Loads the stored quotas and unfinished jobs and rebuilds the scheduler's state: queued jobs
  // queued again, admitted and running ones restored as admitted (followed once Start runs).
  static absl::StatusOr<std::unique_ptr<JobQueue>> Create(Options options);
  ~JobQueue() override;

  // Starts the dispatcher thread and follows the jobs admitted before a restart.
  void Start();
  // Stops the dispatcher; idempotent. The destructor calls it.
  void Stop();
  // Runs one dispatcher step now, on the caller's thread: an admission cycle, the starts and
  // stops it decided, and the closed loops due. For tests and for Start's loop.
  void RunOnce();

  // ---- Quotas and capacity ----
  // Sets a squad's quota (see tower.proto): applied now, or, past the capacity, held for a
  // QUOTA_INCREASE approval returned in the response.
  absl::StatusOr<v1::SetQuotaResponse> SetQuota(const v1::SetQuotaRequest& request,
                                                const v1::Principal& caller);
  // Applies a quota without the capacity check (an approved increase). Idempotent.
  absl::StatusOr<v1::Quota> ApplyQuota(const v1::Quota& quota);
  absl::StatusOr<v1::Quota> GetQuota(absl::string_view squad);
  absl::StatusOr<std::vector<v1::Quota>> ListQuotas(absl::string_view cohort);
  absl::StatusOr<v1::Capacity> SetCapacity(const v1::Capacity& capacity);
  absl::StatusOr<v1::Capacity> GetCapacity();

  // ---- Jobs ----
  absl::StatusOr<v1::Job> SubmitJob(const v1::SubmitJobRequest& request,
                                    const v1::Principal& caller);
  absl::StatusOr<v1::Job> GetJob(absl::string_view id);
  absl::StatusOr<v1::ListJobsResponse> ListJobs(const v1::ListJobsRequest& request);
  absl::StatusOr<v1::Job> CancelJob(absl::string_view id, absl::string_view reason,
                                    const v1::Principal& caller);
  // Streams job events to `send` until `cancelled` returns true or `send` returns false (the
  // stream is gone); see WatchJobsRequest. OUT_OF_RANGE when after_revision is older than the
  // events kept. Returns OK when the watcher left.
  absl::Status WatchJobs(const v1::WatchJobsRequest& request,
                         const std::function<bool(const v1::JobEvent&)>& send,
                         const std::function<bool()>& cancelled);
  // The squad a job belongs to (for the access guard's owner lookups).
  absl::StatusOr<std::string> SquadOfJob(absl::string_view id);

  // ---- Approvals of jobs ----
  // A BUDGET_OVERRUN approval a job waits for was approved: the job is queued.
  absl::Status ApprovalApproved(const v1::Approval& approval);
  // It closed without approval: the job fails with its close_reason.
  void ApprovalClosed(const v1::Approval& approval);

  // ExecutionSink: an executor's report on a job it runs.
  void OnUpdate(const ExecutionUpdate& update) override;

 private:
  // An executor call decided under the lock and made after it.
  struct ExecutorCall {
    enum class Kind { kStart, kFollow, kStop } kind;
    v1::Job job;
    std::string reason;
  };
  // A closed loop due: what to call the registry with.
  struct LoopCall {
    v1::Job job;
    std::string alias;
    double canary_percent = 0;
    std::string promote_to_alias;  // "" = promotion is left to people.
  };

  explicit JobQueue(Options options);
  absl::Status Load();

  // Records a change of `job` (in active_ when unfinished) and publishes its event.
  absl::Status Record(v1::Job job, v1::JobState previous,
                      std::optional<bool> loop_due = std::nullopt)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Tells the scheduler the squad's queue: its quota, else its entity's defaults.
  absl::Status EnsureQueue(const std::string& squad) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The quota in force for a squad (set, or its entity's defaults), without usage.
  absl::StatusOr<v1::Quota> QuotaInForce(const std::string& squad)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  v1::Quota WithUsage(v1::Quota quota) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::Quota> ApplyQuotaLocked(const v1::Quota& quota)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckSquad(const std::string& squad) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int32_t PriorityOf(const v1::SubmitJobRequest& request, const std::string& use_case);
  absl::StatusOr<v1::Approval> OpenBudgetOverrun(const v1::Job& job, const v1::Principal& caller,
                                                 const absl::Status& refusal);
  // Fails a job that has not finished, freeing its quota.
  absl::Status Finish(v1::Job job, v1::JobState state, const std::string& reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  v1::Job WithPosition(v1::Job job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // One admission cycle; returns the executor calls it decided.
  std::vector<ExecutorCall> Cycle() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Preempt(const scheduling::Preemption& preemption, std::vector<ExecutorCall>* calls)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Admit(const scheduling::Admission& admission, std::vector<ExecutorCall>* calls)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RefreshPendingReasons() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Execute(const std::vector<ExecutorCall>& calls) ABSL_LOCKS_EXCLUDED(mu_);
  JobExecutor* ExecutorOf(const v1::Job& job) const;
  std::string ExecutorName(v1::Executor executor) const;
  std::string BudgetRefusal(const scheduling::Workload& workload)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Loop closing: due calls under the lock, registry calls after it, results under it again.
  std::vector<LoopCall> LoopsDue() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CloseLoops(const std::vector<LoopCall>& calls) ABSL_LOCKS_EXCLUDED(mu_);
  // Asks the registry to promote the job's version to the policy's alias: what became of it, for
  // the job's reason; when the registry could not be asked, sets `unreachable` (tried again next
  // tick).
  std::string Promote(const LoopCall& call, absl::Status* unreachable) ABSL_LOCKS_EXCLUDED(mu_);
  bool ClosesLoop(const v1::Job& job) const;
  void Report() ABSL_LOCKS_EXCLUDED(mu_);
  void Wake();

  Options options_;
  core::Clock* clock_;
  core::IdGenerator ids_;

  absl::Mutex mu_;
  std::unique_ptr<JobStore> store_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<QuotaBook> quotas_ ABSL_GUARDED_BY(mu_);
  // Unfinished jobs by id (PENDING_APPROVAL, QUEUED, ADMITTED, RUNNING).
  absl::flat_hash_map<std::string, v1::Job> active_ ABSL_GUARDED_BY(mu_);
  // Jobs being stopped after a preemption: their run's last update is not the job's end.
  std::set<std::string> stopping_ ABSL_GUARDED_BY(mu_);
  // Succeeded retraining jobs whose loop is still to close.
  std::set<std::string> loops_due_ ABSL_GUARDED_BY(mu_);
  // Squads whose queue the scheduler has, with what it was last told (to tell it only changes).
  std::map<std::string, std::string> queues_ ABSL_GUARDED_BY(mu_);
  // Budget answers of the current cycle, by squad and use case.
  std::map<std::pair<std::string, std::string>, std::string> budget_cache_ ABSL_GUARDED_BY(mu_);
  // Every (squad, state) reported, so a state emptied reports 0.
  std::map<std::pair<std::string, v1::JobState>, int> counts_seen_ ABSL_GUARDED_BY(mu_);
  // Jobs restored as admitted at load, followed when the dispatcher starts.
  std::vector<v1::Job> to_follow_ ABSL_GUARDED_BY(mu_);

  // The newest revision stored, for watchers to wait on.
  absl::Mutex revision_mu_;
  int64_t revision_ ABSL_GUARDED_BY(revision_mu_) = 0;

  absl::Mutex wake_mu_;
  bool woken_ ABSL_GUARDED_BY(wake_mu_) = false;
  bool stopping_thread_ ABSL_GUARDED_BY(wake_mu_) = false;
  std::thread dispatcher_;
  // Serialises dispatcher steps (the thread's and RunOnce's).
  absl::Mutex step_mu_;
};

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_JOBS_JOB_QUEUE_H_
