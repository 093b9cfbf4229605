#ifndef FABRIQUE_TESTS_TOWER_JOBS_JOB_QUEUE_FAKES_H_
#define FABRIQUE_TESTS_TOWER_JOBS_JOB_QUEUE_FAKES_H_

// Fakes of the ports the job queue uses, and a fixture that builds a queue over a store in a
// temp dir (reopenable, as a restart would), a FakeClock and the real scheduler.

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "catch2/catch.hpp"
#include "libs/core/clock.h"
#include "libs/kv/store.h"
#include "libs/scheduling/scheduler.h"
#include "libs/tower/jobs/job_queue.h"
#include "libs/tower/ports.h"
#include "tests/util/test_util.h"

namespace fabrique::tower::testing {

class FakeExecutor : public JobExecutor {
 public:
  absl::Status Start(const v1::Job& job, ExecutionSink* sink) override {
    absl::MutexLock lock(&mu_);
    sink_ = sink;
    starts.push_back(job);
    return start_error;
  }
  absl::Status Follow(const v1::Job& job, ExecutionSink* sink) override {
    absl::MutexLock lock(&mu_);
    sink_ = sink;
    follows.push_back(job);
    return absl::OkStatus();
  }
  absl::Status Stop(const v1::Job& job, absl::string_view reason) override {
    absl::MutexLock lock(&mu_);
    stops.push_back(job);
    return absl::OkStatus();
  }
  // Reports on a job as its run would.
  void Report(const std::string& job_id, v1::JobState state, int32_t epoch = 0,
              const v1::ModelVersionRef& version = {}, const std::string& reason = "") {
    ExecutionUpdate update;
    update.job_id = job_id;
    update.state = state;
    update.checkpoint_epoch = epoch;
    update.result_version = version;
    update.reason = reason;
    update.usage.set_cpu_seconds(10.0 * (epoch + 1));
    update.trainer_run_id = "run-" + job_id;
    ExecutionSink* sink;
    {
      absl::MutexLock lock(&mu_);
      sink = sink_;
    }
    REQUIRE(sink != nullptr);
    sink->OnUpdate(update);
  }

  std::vector<v1::Job> starts, follows, stops;
  absl::Status start_error;

 private:
  absl::Mutex mu_;
  ExecutionSink* sink_ = nullptr;
};

class FakeOrg : public OrgDirectory {
 public:
  FakeOrg() {
    v1::OrgEntity bank;
    bank.set_id("bank");
    v1::ResourceQuota cpu;
    cpu.set_resource(v1::RESOURCE_CPU);
    cpu.set_nominal(2000);
    *bank.add_default_quotas() = cpu;
    v1::ResourceQuota memory;
    memory.set_resource(v1::RESOURCE_MEMORY);
    memory.set_nominal(int64_t{8} << 30);
    *bank.add_default_quotas() = memory;
    entities["bank"] = bank;
    for (const char* id : {"risk", "fraud", "growth"}) {
      v1::Squad squad;
      squad.set_id(id);
      squad.set_entity("bank");
      squads[id] = squad;
    }
  }
  absl::StatusOr<v1::Squad> GetSquad(absl::string_view id) override {
    auto it = squads.find(std::string(id));
    if (it == squads.end()) return absl::NotFoundError(absl::StrCat("no squad '", id, "'"));
    return it->second;
  }
  absl::StatusOr<v1::OrgEntity> GetEntity(absl::string_view id) override {
    auto it = entities.find(std::string(id));
    if (it == entities.end()) return absl::NotFoundError(absl::StrCat("no entity '", id, "'"));
    return it->second;
  }
  absl::StatusOr<std::vector<v1::Squad>> ListSquads(absl::string_view) override {
    std::vector<v1::Squad> all;
    for (const auto& [id, squad] : squads) all.push_back(squad);
    return all;
  }
  std::map<std::string, v1::Squad> squads;
  std::map<std::string, v1::OrgEntity> entities;
};

class FakeUseCases : public UseCaseDirectory {
 public:
  FakeUseCases() {
    v1::UseCase fraud;
    fraud.set_id("fraud-scoring");
    fraud.set_squad("fraud");
    fraud.set_wsjf(2.345);
    fraud.mutable_retraining()->set_candidate_alias("challenger");
    fraud.mutable_retraining()->set_canary_percent(25);
    use_cases["fraud-scoring"] = fraud;
  }
  absl::StatusOr<v1::UseCase> GetUseCase(absl::string_view id) override {
    auto it = use_cases.find(std::string(id));
    if (it == use_cases.end()) return absl::NotFoundError(absl::StrCat("no use case '", id, "'"));
    return it->second;
  }
  std::map<std::string, v1::UseCase> use_cases;
};

class FakeBudget : public BudgetGate {
 public:
  absl::Status CheckAdmission(absl::string_view squad, absl::string_view) override {
    absl::MutexLock lock(&mu_);
    ++checks;
    if (hard_squads.count(std::string(squad)) > 0) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the budget of squad ", squad, " is past its hard threshold"));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<v1::Money> MeterJob(const v1::Job& job) override {
    absl::MutexLock lock(&mu_);
    metered[job.id()] = job.usage().cpu_seconds();
    v1::Money money;
    money.set_currency_code("EUR");
    money.set_units(static_cast<int64_t>(job.usage().cpu_seconds()));
    return money;
  }
  absl::StatusOr<v1::Money> SpentByUseCase(absl::string_view) override { return v1::Money(); }

  std::set<std::string> hard_squads;
  std::map<std::string, double> metered;
  int checks = 0;

 private:
  absl::Mutex mu_;
};

class FakeApprovals : public ApprovalOpener {
 public:
  absl::StatusOr<v1::Approval> Open(v1::Approval draft, const v1::Principal& requester,
                                    absl::string_view) override {
    draft.set_id(absl::StrCat("appr-", opened.size() + 1));
    draft.set_state(v1::APPROVAL_STATE_PENDING);
    *draft.mutable_requested_by() = requester;
    opened.push_back(draft);
    return draft;
  }
  std::vector<v1::Approval> opened;
};

class FakeRegistry : public RegistryPort {
 public:
  absl::Status SetAlias(absl::string_view model, absl::string_view alias, int64_t version,
                        absl::string_view, const v1::Principal& on_behalf_of) override {
    if (failures_left > 0) {
      --failures_left;
      return absl::UnavailableError("the registry is away");
    }
    calls.push_back(
        absl::StrCat("alias ", model, " ", alias, "=", version, " for ", on_behalf_of.subject()));
    return absl::OkStatus();
  }
  absl::Status SetCanary(absl::string_view model, absl::string_view alias, double percent,
                         const v1::Principal& on_behalf_of) override {
    calls.push_back(
        absl::StrCat("canary ", model, " ", alias, " ", percent, "% for ", on_behalf_of.subject()));
    return absl::OkStatus();
  }
  absl::StatusOr<v1::PromotionRequest> RequestPromotion(
      absl::string_view model, absl::string_view alias, int64_t version, absl::string_view,
      const v1::Principal& on_behalf_of) override {
    if (promotion_failures_left > 0) {
      --promotion_failures_left;
      return absl::UnavailableError("the registry is away");
    }
    if (!promotion_refusal.ok()) return promotion_refusal;
    calls.push_back(
        absl::StrCat("promote ", model, " ", alias, "=", version, " for ", on_behalf_of.subject()));
    v1::PromotionRequest request;
    request.set_id("p1");
    request.set_state(v1::PROMOTION_STATE_PENDING);
    return request;
  }
  absl::StatusOr<std::vector<v1::PortfolioModel>> ModelsOf(absl::string_view) override {
    return std::vector<v1::PortfolioModel>();
  }
  std::vector<std::string> calls;
  int failures_left = 0;
  int promotion_failures_left = 0;
  absl::Status promotion_refusal;
};

// A job queue over its fakes. Restart() drops the queue, scheduler and store and opens them
// again on the same files, as a tower restarted after a crash would.
class QueueFixture {
 public:
  QueueFixture() { Open(); }
  ~QueueFixture() { jobs.reset(); }

  void Open() {
    kv::StoreOptions options;
    options.path = dir_.Sub("kv");
    options.column_families = JobQueue::ColumnFamilies();
    store_ = *kv::Store::Open(options);
    scheduler_ = scheduling::Scheduler::Create({});
    JobQueue::Options queue;
    queue.store = store_.get();
    queue.clock = &clock;
    queue.scheduler = scheduler_.get();
    queue.org = &org;
    queue.use_cases = &use_cases;
    queue.budget = &budget;
    queue.approvals = &approvals;
    queue.registry = &registry;
    queue.executors[v1::EXECUTOR_LOCAL] = &executor;
    queue.event_retention = event_retention;
    auto created = JobQueue::Create(queue);
    INFO(created.status().ToString());
    REQUIRE(created.ok());
    jobs = *std::move(created);
  }
  void Restart() {
    jobs.reset();
    scheduler_.reset();
    store_.reset();
    Open();
  }

  v1::SubmitJobRequest Request(const std::string& squad, double cores = 1) {
    v1::SubmitJobRequest request;
    request.set_squad(squad);
    request.mutable_spec()->mutable_training()->set_model_name("fraud");
    request.mutable_spec()->mutable_resources()->set_cpu_cores(cores);
    return request;
  }
  v1::Job Submit(const v1::SubmitJobRequest& request) {
    auto job = jobs->SubmitJob(request, alice);
    INFO(job.status().ToString());
    REQUIRE(job.ok());
    return *job;
  }
  v1::Job Get(const std::string& id) {
    auto job = jobs->GetJob(id);
    REQUIRE(job.ok());
    return *job;
  }

  core::FakeClock clock;
  FakeExecutor executor;
  FakeOrg org;
  FakeUseCases use_cases;
  FakeBudget budget;
  FakeApprovals approvals;
  FakeRegistry registry;
  int64_t event_retention = 100'000;
  v1::Principal alice = [] {
    v1::Principal p;
    p.set_subject("alice");
    return p;
  }();
  std::unique_ptr<JobQueue> jobs;

 private:
  fabrique::testing::TempDir dir_;
  std::unique_ptr<kv::Store> store_;
  std::unique_ptr<scheduling::Scheduler> scheduler_;
};

}  // namespace fabrique::tower::testing

#endif  // FABRIQUE_TESTS_TOWER_JOBS_JOB_QUEUE_FAKES_H_
