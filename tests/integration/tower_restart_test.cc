// Black-box crash test of fabrique-tower's job queue: the real binary, scheduling only
// (--executor=none keeps admitted jobs ADMITTED, so admissions are all there is to see), is
// killed with SIGKILL while clients submit jobs and the dispatcher admits them, several times,
// on one data dir. After every restart, and at the end:
//   - every submission that was acknowledged is there, under the id it was given;
//   - a submission retried with its request_id returns the first job, never a second one;
//   - the quota admits exactly what it holds (4 one-core jobs of 4 cores), no more: a restart
//     restores admissions instead of admitting again;
//   - the event log shows each job admitted at most once, and no job lost on the way.
// The squad is seeded into the data dir before the first start, as an approved onboarding
// writes it, so the test needs no approvers.

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/tower.grpc.pb.h"
#include "libs/kv/store.h"
#include "libs/tower/org/organisation.h"
#include "tests/integration/killable_service.h"
#include "tests/util/test_util.h"

namespace fabrique {
namespace {

constexpr int kJobs = 24;
constexpr int kKills = 4;
constexpr int kQuotaCores = 4;

std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout = absl::Seconds(10)) {
  return testing::TokenContext(testing::LocalIdentity(), "root", {}, timeout);
}

// Writes entity "bank" (default quota: 4 cores, 64 GiB, no cohort to borrow from) and its squad
// "risk" into the tower's store, as an approved onboarding does.
void SeedOrganisation(const std::string& data_dir) {
  kv::StoreOptions options;
  options.path = data_dir + "/kv";
  options.column_families = tower::Organisation::ColumnFamilies();
  auto store = kv::Store::Open(options);
  REQUIRE(store.ok());
  tower::Organisation::Options org_options;
  org_options.store = store->get();
  auto org = tower::Organisation::Create(std::move(org_options));
  REQUIRE(org.ok());
  v1::Approval approval;
  approval.set_id("seed");
  approval.set_kind(v1::APPROVAL_KIND_ENTITY_ONBOARDING);
  approval.set_state(v1::APPROVAL_STATE_APPROVED);
  v1::OnboardEntityRequest* onboarding = approval.mutable_entity_onboarding();
  v1::OrgEntity* entity = onboarding->mutable_entity();
  entity->set_id("bank");
  entity->set_default_cohort("bank-only");
  v1::ResourceQuota* cpu = entity->add_default_quotas();
  cpu->set_resource(v1::RESOURCE_CPU);
  cpu->set_nominal(kQuotaCores * 1000);
  cpu->mutable_borrowing_limit()->set_value(0);
  v1::ResourceQuota* memory = entity->add_default_quotas();
  memory->set_resource(v1::RESOURCE_MEMORY);
  memory->set_nominal(int64_t{64} << 30);
  v1::Squad* squad = onboarding->add_squads();
  squad->set_id("risk");
  squad->set_entity("bank");
  const absl::Status applied = (*org)->onboarding_handler()->Apply(approval);
  INFO(applied.ToString());
  REQUIRE(applied.ok());
  org->reset();
  REQUIRE((*store)->Close().ok());
}

v1::SubmitJobRequest Submission(int i) {
  v1::SubmitJobRequest request;
  request.set_squad("risk");
  request.set_request_id(absl::StrCat("restart-job-", i));
  request.mutable_spec()->mutable_training()->set_model_name("fraud");
  request.mutable_spec()->mutable_resources()->set_cpu_cores(1);
  return request;
}

// Every job, newest first, all pages.
std::vector<v1::Job> ListAll(v1::Tower::Stub& tower) {
  std::vector<v1::Job> jobs;
  v1::ListJobsRequest request;
  request.set_page_size(100);
  while (true) {
    v1::ListJobsResponse response;
    const grpc::Status status = tower.ListJobs(Context().get(), request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    jobs.insert(jobs.end(), response.jobs().begin(), response.jobs().end());
    if (response.next_page_token().empty()) return jobs;
    request.set_page_token(response.next_page_token());
  }
}

// Every stored job event after revision 1 (the first job's creation, never an admission): the
// watch streams what is stored, then waits for more until its deadline ends it.
std::vector<v1::JobEvent> EventsAfterFirst(v1::Tower::Stub& tower) {
  std::vector<v1::JobEvent> events;
  auto context = Context(absl::Seconds(3));
  v1::WatchJobsRequest request;
  request.set_after_revision(1);
  auto reader = tower.WatchJobs(context.get(), request);
  v1::JobEvent event;
  while (reader->Read(&event)) events.push_back(event);
  const grpc::Status status = reader->Finish();
  INFO(status.error_message());
  CHECK(status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  return events;
}

TEST_CASE("a tower killed mid-cycle loses no job and admits none twice", "[tower][crash]") {
  testing::TempDir dir;
  const std::string data_dir = dir.Sub("data");
  SeedOrganisation(data_dir);
  const std::vector<std::string> flags = {"--executor=none", "--dispatch_tick=20ms"};

  std::map<int, std::string> acknowledged;  // Submission -> job id.
  absl::Mutex mu;
  for (int round = 0; round <= kKills; ++round) {
    testing::KillableService tower("fabrique-tower", data_dir,
                                   dir.Sub(absl::StrCat("tower-", round, ".log")), flags);
    auto stub = v1::Tower::NewStub(tower.channel());
    // Submitters retry every submission not acknowledged yet, with its request id, until the
    // kill; acknowledged ones are sent again too, and must answer the same job.
    std::atomic<bool> killed{false};
    std::atomic<int> answered{0};
    std::vector<std::thread> submitters;
    for (int t = 0; t < 3; ++t) {
      submitters.emplace_back([&, t] {
        for (int i = t; i < kJobs && !killed.load(); i += 3) {
          v1::Job job;
          const grpc::Status status =
              stub->SubmitJob(Context(absl::Seconds(5)).get(), Submission(i), &job);
          if (!status.ok()) continue;
          answered.fetch_add(1);
          absl::MutexLock lock(&mu);
          auto [it, inserted] = acknowledged.try_emplace(i, job.id());
          CHECK(it->second == job.id());
        }
      });
    }
    if (round < kKills) {
      // Kill once a few submissions of this round are in, while the others still flow.
      testing::PollUntil([&] { return answered.load() >= 2 + round; }, absl::Seconds(20));
      tower.Kill();
      killed = true;
    }
    for (std::thread& t : submitters) t.join();
    if (round < kKills) continue;

    // The last run: every submission acknowledged, nothing lost, nothing doubled.
    REQUIRE(acknowledged.size() == kJobs);
    bool settled = testing::PollUntil(
        [&] {
          int admitted = 0;
          for (const v1::Job& job : ListAll(*stub)) {
            admitted += job.state() == v1::JOB_STATE_ADMITTED;
          }
          return admitted == kQuotaCores;
        },
        absl::Seconds(20));
    CHECK(settled);
    const std::vector<v1::Job> jobs = ListAll(*stub);
    CHECK(jobs.size() == kJobs);
    std::set<std::string> ids;
    std::map<v1::JobState, int> states;
    for (const v1::Job& job : jobs) {
      ids.insert(job.id());
      ++states[job.state()];
      CHECK(job.preemptions() == 0);
    }
    for (const auto& [i, id] : acknowledged) CHECK(ids.count(id) == 1);
    CHECK(states[v1::JOB_STATE_ADMITTED] == kQuotaCores);
    CHECK(states[v1::JOB_STATE_QUEUED] == kJobs - kQuotaCores);

    // Each job admitted at most once across the kills: admissions in the log are exactly the
    // admitted jobs.
    std::vector<v1::JobEvent> events = EventsAfterFirst(*stub);
    std::map<std::string, int> admissions;
    int64_t last_revision = 1;
    for (const v1::JobEvent& event : events) {
      CHECK(event.revision() > last_revision);
      last_revision = event.revision();
      if (event.job().state() == v1::JOB_STATE_ADMITTED &&
          event.previous_state() == v1::JOB_STATE_QUEUED) {
        ++admissions[event.job().id()];
      }
    }
    CHECK(admissions.size() == static_cast<size_t>(kQuotaCores));
    for (const auto& [id, count] : admissions) CHECK(count == 1);
  }
}

}  // namespace
}  // namespace fabrique
