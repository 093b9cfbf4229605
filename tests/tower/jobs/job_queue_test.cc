// The job queue over fakes of its ports, the real scheduler and a FakeClock: the lifecycle of a
// job, preemption, cancellation, idempotent submission, the codes of bad input, quotas and the
// capacity check, the budget, approvals, the closed loop, restarts and the event log.

#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "libs/tower/jobs/job_approval_handlers.h"
#include "tests/tower/jobs/job_queue_fakes.h"

namespace fabrique::tower::testing {
namespace {

v1::Quota CpuQuota(const std::string& squad, int64_t millicores, bool preempt = false) {
  v1::Quota quota;
  quota.set_squad(squad);
  quota.set_preempt_within_squad(preempt);
  v1::ResourceQuota* cpu = quota.add_resources();
  cpu->set_resource(v1::RESOURCE_CPU);
  cpu->set_nominal(millicores);
  v1::ResourceQuota* memory = quota.add_resources();
  memory->set_resource(v1::RESOURCE_MEMORY);
  memory->set_nominal(int64_t{64} << 30);
  return quota;
}

v1::SetQuotaRequest SetQuotaRequest(const v1::Quota& quota) {
  v1::SetQuotaRequest request;
  *request.mutable_quota() = quota;
  return request;
}

v1::ModelVersionRef Version(const std::string& model, int64_t version) {
  v1::ModelVersionRef ref;
  ref.set_model(model);
  ref.set_version(version);
  return ref;
}

TEST_CASE("a job goes from queued to admitted, running and succeeded", "[jobs]") {
  QueueFixture f;
  v1::Job job = f.Submit(f.Request("risk"));
  CHECK(job.state() == v1::JOB_STATE_QUEUED);
  CHECK(job.queue_position() == 1);
  CHECK(job.executor() == v1::EXECUTOR_LOCAL);
  CHECK(job.kind() == v1::JOB_KIND_TRAINING);
  CHECK(job.submitted_by().subject() == "alice");

  f.clock.Advance(absl::Seconds(2));
  f.jobs->RunOnce();
  REQUIRE(f.executor.starts.size() == 1);
  // Stored as admitted before the executor was asked to start it.
  CHECK(f.executor.starts[0].state() == v1::JOB_STATE_ADMITTED);
  CHECK(f.Get(job.id()).state() == v1::JOB_STATE_ADMITTED);

  f.executor.Report(job.id(), v1::JOB_STATE_RUNNING, 1);
  v1::Job running = f.Get(job.id());
  CHECK(running.state() == v1::JOB_STATE_RUNNING);
  CHECK(running.trainer_run_id() == "run-" + job.id());
  CHECK(running.checkpoint_epoch() == 1);

  f.executor.Report(job.id(), v1::JOB_STATE_SUCCEEDED, 4, Version("fraud", 3));
  v1::Job done = f.Get(job.id());
  CHECK(done.state() == v1::JOB_STATE_SUCCEEDED);
  CHECK(done.result_version().version() == 3);
  CHECK(done.has_end_time());
  CHECK(done.cost().units() == 50);
  CHECK(f.budget.metered.at(job.id()) == 50.0);
  // A training job started by hand closes no loop.
  f.jobs->RunOnce();
  CHECK(f.registry.calls.empty());
}

TEST_CASE("priority comes from the use case's WSJF unless overridden", "[jobs]") {
  QueueFixture f;
  v1::SubmitJobRequest request = f.Request("fraud");
  request.set_use_case_id("fraud-scoring");
  CHECK(f.Submit(request).priority() == 235);
  request.mutable_spec()->mutable_priority()->set_value(7);
  CHECK(f.Submit(request).priority() == 7);
}

TEST_CASE("bad submissions get the code that says what to fix", "[jobs]") {
  QueueFixture f;
  v1::SubmitJobRequest request = f.Request("risk");
  request.clear_squad();
  CHECK(f.jobs->SubmitJob(request, f.alice).status().code() == absl::StatusCode::kInvalidArgument);
  request = f.Request("risk");
  request.mutable_spec()->clear_training();
  CHECK(f.jobs->SubmitJob(request, f.alice).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(f.jobs->SubmitJob(f.Request("nobody"), f.alice).status().code() ==
        absl::StatusCode::kNotFound);
  request = f.Request("risk");
  request.set_use_case_id("no-such-use-case");
  CHECK(f.jobs->SubmitJob(request, f.alice).status().code() == absl::StatusCode::kNotFound);
  // The entity's default quota is 2 cores and the squad has no cohort to borrow from.
  absl::Status too_big = f.jobs->SubmitJob(f.Request("risk", 8), f.alice).status();
  CHECK(too_big.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(too_big.message()), Catch::Contains("cpu"));
  request = f.Request("risk");
  request.mutable_spec()->set_executor(v1::EXECUTOR_KUBERNETES);
  CHECK(f.jobs->SubmitJob(request, f.alice).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(f.jobs->GetJob("no-such-job").status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("a duplicate request id returns the first job", "[jobs]") {
  QueueFixture f;
  v1::SubmitJobRequest request = f.Request("risk");
  request.set_request_id("retrain-42");
  v1::Job first = f.Submit(request);
  v1::Job again = f.Submit(request);
  CHECK(again.id() == first.id());
  auto listed = f.jobs->ListJobs({});
  REQUIRE(listed.ok());
  CHECK(listed->jobs_size() == 1);
}

TEST_CASE("a preempted job is stopped and requeued with its checkpoint", "[jobs]") {
  QueueFixture f;
  REQUIRE(f.jobs->SetQuota(SetQuotaRequest(CpuQuota("risk", 1000, true)), f.alice).ok());
  v1::SubmitJobRequest low = f.Request("risk");
  low.mutable_spec()->mutable_priority()->set_value(1);
  v1::Job victim = f.Submit(low);
  f.jobs->RunOnce();
  f.executor.Report(victim.id(), v1::JOB_STATE_RUNNING, 3);

  v1::SubmitJobRequest high = f.Request("risk");
  high.mutable_spec()->mutable_priority()->set_value(100);
  v1::Job urgent = f.Submit(high);
  f.jobs->RunOnce();
  f.jobs->RunOnce();  // The freed quota admits the urgent job.
  REQUIRE(f.executor.stops.size() == 1);
  CHECK(f.executor.stops[0].id() == victim.id());
  v1::Job requeued = f.Get(victim.id());
  CHECK(requeued.state() == v1::JOB_STATE_QUEUED);
  CHECK(requeued.preemptions() == 1);
  CHECK(requeued.checkpoint_epoch() == 3);
  CHECK(f.Get(urgent.id()).state() == v1::JOB_STATE_ADMITTED);

  // The stopped run's last word does not end the requeued job; its checkpoint still counts.
  f.executor.Report(victim.id(), v1::JOB_STATE_CANCELLED, 4);
  v1::Job after = f.Get(victim.id());
  CHECK(after.state() == v1::JOB_STATE_QUEUED);
  CHECK(after.checkpoint_epoch() == 4);

  // Once the urgent job ends, the victim runs again, resuming after its checkpoint.
  f.executor.Report(urgent.id(), v1::JOB_STATE_SUCCEEDED);
  f.jobs->RunOnce();
  REQUIRE(f.executor.starts.size() == 3);
  CHECK(f.executor.starts[2].id() == victim.id());
  CHECK(f.executor.starts[2].preemptions() == 1);
  CHECK(f.executor.starts[2].checkpoint_epoch() == 4);
}

TEST_CASE("cancelling is idempotent and stops a running job", "[jobs]") {
  QueueFixture f;
  v1::Job queued = f.Submit(f.Request("risk", 2));
  v1::Job waiting = f.Submit(f.Request("risk", 2));
  f.jobs->RunOnce();
  REQUIRE(f.Get(queued.id()).state() == v1::JOB_STATE_ADMITTED);
  REQUIRE(f.Get(waiting.id()).state() == v1::JOB_STATE_QUEUED);
  CHECK_THAT(f.Get(waiting.id()).state_reason(), Catch::Contains("cpu"));

  auto cancelled = f.jobs->CancelJob(waiting.id(), "not needed", f.alice);
  REQUIRE(cancelled.ok());
  CHECK(cancelled->state() == v1::JOB_STATE_CANCELLED);
  CHECK(f.executor.stops.empty());

  auto stopped = f.jobs->CancelJob(queued.id(), "", f.alice);
  REQUIRE(stopped.ok());
  CHECK(stopped->state() == v1::JOB_STATE_CANCELLED);
  REQUIRE(f.executor.stops.size() == 1);
  auto again = f.jobs->CancelJob(queued.id(), "", f.alice);
  REQUIRE(again.ok());
  CHECK(again->state() == v1::JOB_STATE_CANCELLED);
  CHECK(f.executor.stops.size() == 1);
  // The executor's last word about a cancelled job changes nothing.
  f.executor.Report(queued.id(), v1::JOB_STATE_CANCELLED);
  CHECK(f.Get(queued.id()).state() == v1::JOB_STATE_CANCELLED);
}

TEST_CASE("an executor that cannot start a job fails it and frees the quota", "[jobs]") {
  QueueFixture f;
  f.executor.start_error = absl::UnavailableError("the trainer is unreachable");
  v1::Job job = f.Submit(f.Request("risk"));
  f.jobs->RunOnce();
  v1::Job failed = f.Get(job.id());
  CHECK(failed.state() == v1::JOB_STATE_FAILED);
  CHECK_THAT(failed.failure_reason(), Catch::Contains("the trainer is unreachable"));
}

TEST_CASE("a quota lowered below usage is accepted and names the running jobs", "[quotas]") {
  QueueFixture f;
  v1::Job a = f.Submit(f.Request("risk"));
  v1::Job b = f.Submit(f.Request("risk"));
  f.jobs->RunOnce();
  auto set = f.jobs->SetQuota(SetQuotaRequest(CpuQuota("risk", 1000)), f.alice);
  REQUIRE(set.ok());
  CHECK_FALSE(set->has_approval());
  CHECK_THAT(set->note(), Catch::Contains("running jobs"));
  CHECK(set->quota().jobs_over_quota_size() >= 1);
  CHECK(set->quota().running_jobs() == 2);
  v1::Job c = f.Submit(f.Request("risk"));
  f.jobs->RunOnce();
  CHECK(f.Get(c.id()).state() == v1::JOB_STATE_QUEUED);
  CHECK(f.Get(a.id()).state() == v1::JOB_STATE_ADMITTED);
  CHECK(f.Get(b.id()).state() == v1::JOB_STATE_ADMITTED);

  auto quota = f.jobs->GetQuota("risk");
  REQUIRE(quota.ok());
  CHECK(quota->resources(0).used() == 2000);
  // An etag that is not the quota's is refused.
  v1::SetQuotaRequest stale = SetQuotaRequest(CpuQuota("risk", 4000));
  stale.set_etag("not-the-etag");
  CHECK(f.jobs->SetQuota(stale, f.alice).status().code() == absl::StatusCode::kAborted);
  CHECK(f.jobs->SetQuota(SetQuotaRequest(CpuQuota("nobody", 1)), f.alice).status().code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("new squads start with their entity's default quotas", "[quotas]") {
  QueueFixture f;
  auto quota = f.jobs->GetQuota("growth");
  REQUIRE(quota.ok());
  CHECK(quota->cohort() == "bank");
  REQUIRE(quota->resources_size() == 2);
  CHECK(quota->resources(0).nominal() == 2000);
}

TEST_CASE("a quota past the capacity waits for its approval", "[quotas]") {
  QueueFixture f;
  v1::Capacity capacity;
  v1::FlavorCapacity* cpu = capacity.add_flavors();
  cpu->set_resource(v1::RESOURCE_CPU);
  cpu->set_amount(4000);
  capacity.set_oversubscription_factor(1.5);
  REQUIRE(f.jobs->SetCapacity(capacity).ok());
  REQUIRE(f.jobs->SetQuota(SetQuotaRequest(CpuQuota("risk", 3000)), f.alice).ok());

  auto held = f.jobs->SetQuota(SetQuotaRequest(CpuQuota("fraud", 4000)), f.alice);
  REQUIRE(held.ok());
  REQUIRE(held->has_approval());
  CHECK(held->approval().kind() == v1::APPROVAL_KIND_QUOTA_INCREASE);
  CHECK_THAT(held->note(), Catch::Contains("7000"));
  CHECK(f.jobs->GetQuota("fraud")->resources(0).nominal() == 2000);  // The default still.

  QuotaIncreaseHandler handler(f.jobs.get(), &f.org);
  REQUIRE(handler.Validate(f.approvals.opened.at(0)).ok());
  REQUIRE(handler.Apply(f.approvals.opened.at(0)).ok());
  CHECK(f.jobs->GetQuota("fraud")->resources(0).nominal() == 4000);
  auto totals = f.jobs->GetCapacity();
  REQUIRE(totals.ok());
  CHECK(totals->flavors(0).quota_total() == 7000);
}

TEST_CASE("a hard budget refuses a job, or holds it for an approval", "[budget]") {
  QueueFixture f;
  f.budget.hard_squads.insert("fraud");
  absl::Status refused = f.jobs->SubmitJob(f.Request("fraud"), f.alice).status();
  CHECK(refused.code() == absl::StatusCode::kResourceExhausted);

  v1::SubmitJobRequest waiting = f.Request("fraud");
  waiting.set_wait_for_approval(true);
  v1::Job held = f.Submit(waiting);
  CHECK(held.state() == v1::JOB_STATE_PENDING_APPROVAL);
  REQUIRE(f.approvals.opened.size() == 1);
  v1::Approval approval = f.approvals.opened[0];
  CHECK(approval.kind() == v1::APPROVAL_KIND_BUDGET_OVERRUN);
  CHECK(approval.budget_overrun().job_id() == held.id());
  CHECK(held.approval_id() == approval.id());
  f.jobs->RunOnce();
  CHECK(f.executor.starts.empty());

  JobBudgetOverrunHandler handler(f.jobs.get(), nullptr);
  f.budget.hard_squads.clear();  // What the budget's own handler does when approved.
  approval.set_state(v1::APPROVAL_STATE_APPROVED);
  REQUIRE(handler.Apply(approval).ok());
  REQUIRE(handler.Apply(approval).ok());  // Idempotent.
  CHECK(f.Get(held.id()).state() == v1::JOB_STATE_QUEUED);
  f.jobs->RunOnce();
  CHECK(f.Get(held.id()).state() == v1::JOB_STATE_ADMITTED);
}

TEST_CASE("a job whose approval is rejected fails with the reason", "[budget]") {
  QueueFixture f;
  f.budget.hard_squads.insert("fraud");
  v1::SubmitJobRequest waiting = f.Request("fraud");
  waiting.set_wait_for_approval(true);
  v1::Job held = f.Submit(waiting);
  v1::Approval approval = f.approvals.opened.at(0);
  approval.set_state(v1::APPROVAL_STATE_REJECTED);
  approval.set_close_reason("no more spend this month");
  JobBudgetOverrunHandler handler(f.jobs.get(), nullptr);
  handler.Closed(approval);
  v1::Job failed = f.Get(held.id());
  CHECK(failed.state() == v1::JOB_STATE_FAILED);
  CHECK_THAT(failed.failure_reason(), Catch::Contains("rejected"));
  CHECK_THAT(failed.failure_reason(), Catch::Contains("no more spend this month"));
}

TEST_CASE("the budget holds back admissions once its hard threshold is reached", "[budget]") {
  QueueFixture f;
  v1::Job job = f.Submit(f.Request("risk"));
  f.budget.hard_squads.insert("risk");
  f.jobs->RunOnce();
  v1::Job held = f.Get(job.id());
  CHECK(held.state() == v1::JOB_STATE_QUEUED);
  CHECK(f.executor.starts.empty());
}

TEST_CASE("a successful retraining job canaries its version, retrying the registry", "[loop]") {
  QueueFixture f;
  f.registry.failures_left = 1;
  v1::SubmitJobRequest request = f.Request("fraud");
  request.set_use_case_id("fraud-scoring");
  request.set_trigger(v1::JOB_TRIGGER_MONITOR);
  request.set_reason("drift alert a-1 on fraud v2");
  v1::Job job = f.Submit(request);
  CHECK(job.kind() == v1::JOB_KIND_RETRAINING);
  f.jobs->RunOnce();
  f.executor.Report(job.id(), v1::JOB_STATE_SUCCEEDED, 5, Version("fraud", 3));
  f.jobs->RunOnce();
  CHECK(f.registry.calls.empty());
  CHECK_THAT(f.Get(job.id()).state_reason(), Catch::Contains("the registry is away"));

  // A restart in between does not lose the loop still due.
  f.Restart();
  f.jobs->RunOnce();
  REQUIRE(f.registry.calls.size() == 2);
  CHECK(f.registry.calls[0] == "alias fraud challenger=3 for alice");
  CHECK(f.registry.calls[1] == "canary fraud challenger 25% for alice");
  CHECK_THAT(f.Get(job.id()).state_reason(), Catch::Contains("points at version 3"));
  f.jobs->RunOnce();
  CHECK(f.registry.calls.size() == 2);
}

// A monitor's retraining job of fraud-scoring, whose policy promotes to production, that
// succeeded with fraud:3, and one dispatcher step since.
v1::Job RetrainedForProduction(QueueFixture& f) {
  f.use_cases.use_cases["fraud-scoring"].mutable_retraining()->set_promote_to_alias("production");
  v1::SubmitJobRequest request = f.Request("fraud");
  request.set_use_case_id("fraud-scoring");
  request.set_trigger(v1::JOB_TRIGGER_MONITOR);
  v1::Job job = f.Submit(request);
  f.jobs->RunOnce();
  f.executor.Report(job.id(), v1::JOB_STATE_SUCCEEDED, 5, Version("fraud", 3));
  f.jobs->RunOnce();
  return job;
}

TEST_CASE(
    "a retraining policy's promotion alias is asked for after the canary, retried while the "
    "registry is away",
    "[loop]") {
  QueueFixture f;
  f.registry.promotion_failures_left = 1;
  v1::Job job = RetrainedForProduction(f);
  CHECK_THAT(f.Get(job.id()).state_reason(), Catch::Contains("tried again next tick"));

  f.jobs->RunOnce();
  REQUIRE(f.registry.calls.size() == 5);
  CHECK(f.registry.calls[2] == "alias fraud challenger=3 for alice");
  CHECK(f.registry.calls[3] == "canary fraud challenger 25% for alice");
  CHECK(f.registry.calls[4] == "promote fraud production=3 for alice");
  CHECK_THAT(f.Get(job.id()).state_reason(),
             Catch::Contains("promotion p1 to production asked, its gates decide"));
  f.jobs->RunOnce();
  CHECK(f.registry.calls.size() == 5);
}

TEST_CASE("a promotion refused by a gate ends the loop with the refusal in the job's reason",
          "[loop]") {
  QueueFixture f;
  f.registry.promotion_refusal = absl::FailedPreconditionError("gate auc >= 0.8 failed: 0.71");
  v1::Job job = RetrainedForProduction(f);
  v1::Job done = f.Get(job.id());
  CHECK(done.state() == v1::JOB_STATE_SUCCEEDED);
  CHECK_THAT(done.state_reason(), Catch::Contains("points at version 3"));
  CHECK_THAT(done.state_reason(), Catch::Contains("refused: gate auc >= 0.8 failed: 0.71"));
  f.jobs->RunOnce();
  CHECK(f.registry.calls.size() == 2);
}

TEST_CASE("a restart keeps every job and admits none twice", "[restart]") {
  QueueFixture f;
  std::vector<v1::Job> jobs;
  for (int i = 0; i < 3; ++i) jobs.push_back(f.Submit(f.Request("risk")));
  f.jobs->RunOnce();
  CHECK(f.executor.starts.size() == 2);
  f.executor.Report(jobs[0].id(), v1::JOB_STATE_RUNNING);

  f.Restart();
  CHECK(f.Get(jobs[0].id()).state() == v1::JOB_STATE_RUNNING);
  CHECK(f.Get(jobs[1].id()).state() == v1::JOB_STATE_ADMITTED);
  CHECK(f.Get(jobs[2].id()).state() == v1::JOB_STATE_QUEUED);
  f.jobs->RunOnce();  // The restored admissions still hold the quota.
  CHECK(f.Get(jobs[2].id()).state() == v1::JOB_STATE_QUEUED);
  CHECK(f.executor.starts.size() == 2);

  f.jobs->Start();
  REQUIRE(fabrique::testing::PollUntil(
      [&] { return f.executor.follows.size() == 1 && f.executor.starts.size() == 3; },
      absl::Seconds(10)));
  f.jobs->Stop();
  CHECK(f.executor.follows[0].id() == jobs[0].id());
  // The admitted job is started again, which the executor answers idempotently.
  CHECK(f.executor.starts[2].id() == jobs[1].id());
  CHECK(f.executor.starts[2].preemptions() == 0);
}

TEST_CASE("job events are in revision order, resumable and bounded", "[watch]") {
  QueueFixture f;
  f.event_retention = 5;
  f.Restart();
  v1::Job job = f.Submit(f.Request("risk"));
  f.jobs->RunOnce();
  f.executor.Report(job.id(), v1::JOB_STATE_RUNNING);

  auto collect = [&](const v1::WatchJobsRequest& request, size_t want) {
    std::vector<v1::JobEvent> events;
    absl::Status status = f.jobs->WatchJobs(
        request,
        [&](const v1::JobEvent& event) {
          events.push_back(event);
          return events.size() < want;
        },
        [&] { return events.size() >= want; });
    return std::make_pair(status, events);
  };
  v1::WatchJobsRequest resume;
  resume.set_after_revision(1);
  auto [status, events] = collect(resume, 2);
  REQUIRE(status.ok());
  REQUIRE(events.size() == 2);
  CHECK(events[0].revision() == 2);
  CHECK(events[0].job().state() == v1::JOB_STATE_ADMITTED);
  CHECK(events[0].previous_state() == v1::JOB_STATE_QUEUED);
  CHECK(events[1].revision() == 3);
  CHECK(events[1].job().state() == v1::JOB_STATE_RUNNING);

  v1::WatchJobsRequest snapshot;
  snapshot.set_include_snapshot(true);
  auto [snap_status, snap] = collect(snapshot, 1);
  REQUIRE(snap_status.ok());
  REQUIRE(snap.size() == 1);
  CHECK(snap[0].snapshot());
  CHECK(snap[0].job().id() == job.id());

  for (int i = 0; i < 6; ++i) f.Submit(f.Request("growth"));
  auto [old_status, old] = collect(resume, 1);
  CHECK(old_status.code() == absl::StatusCode::kOutOfRange);
}

TEST_CASE("jobs list newest first, filtered and paged", "[jobs]") {
  QueueFixture f;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(f.Submit(f.Request(i % 2 == 0 ? "risk" : "growth")).id());
    f.clock.Advance(absl::Milliseconds(5));
  }
  v1::ListJobsRequest request;
  request.set_page_size(2);
  auto page = f.jobs->ListJobs(request);
  REQUIRE(page.ok());
  REQUIRE(page->jobs_size() == 2);
  CHECK(page->jobs(0).id() == ids[4]);
  CHECK(page->jobs(1).id() == ids[3]);
  request.set_page_token(page->next_page_token());
  auto next = f.jobs->ListJobs(request);
  REQUIRE(next.ok());
  CHECK(next->jobs(0).id() == ids[2]);
  v1::ListJobsRequest risk;
  risk.set_squad("risk");
  CHECK(f.jobs->ListJobs(risk)->jobs_size() == 3);
}

}  // namespace
}  // namespace fabrique::tower::testing
