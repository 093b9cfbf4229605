// Admission within quota, order within a queue, removal, restoring running workloads, positions,
// the admission filter, and a quota lowered below usage.

#include <catch2/catch.hpp>

#include "tests/scheduling/scheduler_fixtures.h"

namespace fabrique::scheduling {
namespace {

using testing::AdmittedIds;
using testing::CpuQuota;
using testing::CpuUsage;
using testing::Job;
using testing::Queue;
using Ids = std::vector<std::string>;

TEST_CASE("a queue admits what its nominal quota covers, in arrival order") {
  auto scheduler = Scheduler::Create({});
  REQUIRE(scheduler->SetQueue(Queue("risk", "", {CpuQuota(4000)})).ok());
  REQUIRE(scheduler->Enqueue(Job("j1", "risk", 2000)).ok());
  REQUIRE(scheduler->Enqueue(Job("j2", "risk", 2000)).ok());
  REQUIRE(scheduler->Enqueue(Job("j3", "risk", 2000)).ok());

  CycleResult cycle = scheduler->RunCycle();
  CHECK(AdmittedIds(cycle) == Ids{"j1", "j2"});
  CHECK_FALSE(cycle.admitted[0].borrowing);
  CHECK(scheduler->admitted() == 2);
  CHECK(scheduler->pending() == 1);
  CHECK(scheduler->PendingReason("j3") ==
        "waiting for cpu (default): 2000m requested, 0m free to squad risk");
  CHECK(scheduler->PendingReason("j1").empty());
  CHECK(CpuUsage(*scheduler, "risk").used == 4000);

  // Nothing changed: the next cycle admits nothing.
  CHECK(scheduler->RunCycle().admitted.empty());
}

TEST_CASE("removing an admitted workload frees its quota for the next one") {
  auto scheduler = Scheduler::Create({});
  REQUIRE(scheduler->SetQueue(Queue("risk", "", {CpuQuota(4000)})).ok());
  for (const char* id : {"j1", "j2", "j3"}) REQUIRE(scheduler->Enqueue(Job(id, "risk", 2000)).ok());
  scheduler->RunCycle();

  scheduler->Remove("j1");
  CHECK(CpuUsage(*scheduler, "risk").used == 2000);
  CHECK(AdmittedIds(scheduler->RunCycle()) == Ids{"j3"});
  CHECK(scheduler->pending() == 0);

  // A pending workload removed is simply gone; an unknown id is ignored.
  REQUIRE(scheduler->Enqueue(Job("j4", "risk", 2000)).ok());
  scheduler->Remove("j4");
  scheduler->Remove("never-seen");
  CHECK(scheduler->pending() == 0);
  CHECK(scheduler->PositionInQueue("j4") == 0);
  scheduler->Remove("j2");
  scheduler->Remove("j3");
  CHECK(scheduler->admitted() == 0);
  CHECK(CpuUsage(*scheduler, "risk").used == 0);
}

TEST_CASE("within a queue, higher priority goes first, then arrival order") {
  auto scheduler = Scheduler::Create({});
  REQUIRE(scheduler->SetQueue(Queue("risk", "", {CpuQuota(2000)})).ok());
  REQUIRE(scheduler->Enqueue(Job("low-first", "risk", 1000, 0)).ok());
  REQUIRE(scheduler->Enqueue(Job("high", "risk", 1000, 5)).ok());
  REQUIRE(scheduler->Enqueue(Job("low-second", "risk", 1000, 0)).ok());

  CHECK(scheduler->PositionInQueue("high") == 1);
  CHECK(scheduler->PositionInQueue("low-first") == 2);
  CHECK(scheduler->PositionInQueue("low-second") == 3);
  CHECK(scheduler->PositionInQueue("unknown") == 0);
  CHECK(scheduler->PendingReason("high") == "fits; waiting for the next admission cycle");
  CHECK(scheduler->PendingReason("low-second") == "waiting behind 2 jobs of squad risk");
  CHECK(scheduler->PendingReason("unknown").empty());

  CHECK(AdmittedIds(scheduler->RunCycle()) == Ids{"high", "low-first"});
  CHECK(scheduler->PositionInQueue("high") == 0);
  CHECK(scheduler->PositionInQueue("low-second") == 1);
}

TEST_CASE("a head that does not fit holds back only its own queue for the cycle") {
  // BestEffortFIFO: the big head waits aside, the next workload of its queue gets the next
  // cycle, and the big one is first again once quota frees.
  auto scheduler = Scheduler::Create({});
  REQUIRE(scheduler->SetQueue(Queue("risk", "", {CpuQuota(4000)})).ok());
  REQUIRE(scheduler->SetQueue(Queue("fraud", "", {CpuQuota(1000)})).ok());
  REQUIRE(scheduler->Enqueue(Job("running", "risk", 3000)).ok());
  REQUIRE(scheduler->RunCycle().admitted.size() == 1);
  REQUIRE(scheduler->Enqueue(Job("big", "risk", 2000)).ok());
  REQUIRE(scheduler->Enqueue(Job("small", "risk", 1000)).ok());
  REQUIRE(scheduler->Enqueue(Job("other", "fraud", 1000)).ok());

  CHECK(AdmittedIds(scheduler->RunCycle()) == Ids{"other"});
  CHECK(AdmittedIds(scheduler->RunCycle()) == Ids{"small"});
  CHECK(scheduler->PendingReason("big") ==
        "waiting for cpu (default): 2000m requested, 0m free to squad risk");

  scheduler->Remove("running");
  CHECK(AdmittedIds(scheduler->RunCycle()) == Ids{"big"});
}

TEST_CASE("queues added while others wait keep the order of the waiting ones") {
  auto scheduler = Scheduler::Create({});
  REQUIRE(scheduler->SetQueue(Queue("a", "shared", {CpuQuota(1000)})).ok());
  REQUIRE(scheduler->SetQueue(Queue("b", "shared", {CpuQuota(1000)})).ok());
  REQUIRE(scheduler->Enqueue(Job("a1", "a", 1000)).ok());
  REQUIRE(scheduler->Enqueue(Job("b1", "b", 1000)).ok());
  for (int i = 0; i < 200; ++i) {
    REQUIRE(scheduler->SetQueue(Queue("q" + std::to_string(i), "other", {CpuQuota(1000)})).ok());
  }
  CHECK(testing::Sorted(AdmittedIds(scheduler->RunCycle())) == Ids{"a1", "b1"});
}

TEST_CASE("max_admissions_per_cycle bounds one cycle") {
  auto scheduler = Scheduler::Create({.max_admissions_per_cycle = 2});
  REQUIRE(scheduler->SetQueue(Queue("risk", "", {CpuQuota(10000)})).ok());
  for (const char* id : {"j1", "j2", "j3"}) REQUIRE(scheduler->Enqueue(Job(id, "risk", 1000)).ok());
  CHECK(AdmittedIds(scheduler->RunCycle()) == Ids{"j1", "j2"});
  CHECK(AdmittedIds(scheduler->RunCycle()) == Ids{"j3"});
}

TEST_CASE("RestoreAdmitted charges running workloads without a cycle") {
  auto scheduler = Scheduler::Create({});
  REQUIRE(scheduler->SetQueue(Queue("risk", "", {CpuQuota(4000)})).ok());
  REQUIRE(scheduler->RestoreAdmitted(Job("running", "risk", 3000), false).ok());
  CHECK(scheduler->admitted() == 1);
  CHECK(CpuUsage(*scheduler, "risk").used == 3000);

  REQUIRE(scheduler->Enqueue(Job("next", "risk", 2000)).ok());
  CHECK(scheduler->RunCycle().admitted.empty());

  CHECK(scheduler->RestoreAdmitted(Job("running", "risk", 3000), false).code() ==
        absl::StatusCode::kAlreadyExists);
  CHECK(scheduler->RestoreAdmitted(Job("elsewhere", "nobody", 1000), false).code() ==
        absl::StatusCode::kNotFound);

  scheduler->Remove("running");
  CHECK(AdmittedIds(scheduler->RunCycle()) == Ids{"next"});
}

TEST_CASE("the admission filter holds a squad back with its reason") {
  auto scheduler = Scheduler::Create({});
  REQUIRE(scheduler->SetQueue(Queue("risk", "", {CpuQuota(4000)})).ok());
  REQUIRE(scheduler->SetQueue(Queue("fraud", "", {CpuQuota(4000)})).ok());
  bool over_budget = true;
  scheduler->SetAdmissionFilter([&over_budget](const Workload& workload) -> std::string {
    if (over_budget && workload.squad == "risk") {
      return "squad risk is over its hard budget threshold; ask for a budget overrun approval";
    }
    return "";
  });
  REQUIRE(scheduler->Enqueue(Job("r1", "risk", 1000)).ok());
  REQUIRE(scheduler->Enqueue(Job("f1", "fraud", 1000)).ok());

  CHECK(AdmittedIds(scheduler->RunCycle()) == Ids{"f1"});
  CHECK(scheduler->PendingReason("r1") ==
        "squad risk is over its hard budget threshold; ask for a budget overrun approval");
  CHECK(scheduler->PositionInQueue("r1") == 1);
  CHECK(scheduler->RunCycle().admitted.empty());

  over_budget = false;
  CHECK(AdmittedIds(scheduler->RunCycle()) == Ids{"r1"});
}

TEST_CASE("a quota lowered below usage keeps running workloads and admits nothing new") {
  auto scheduler = Scheduler::Create({});
  REQUIRE(scheduler->SetQueue(Queue("risk", "", {CpuQuota(6000)})).ok());
  for (const char* id : {"j1", "j2", "j3"}) REQUIRE(scheduler->Enqueue(Job(id, "risk", 2000)).ok());
  REQUIRE(scheduler->RunCycle().admitted.size() == 3);

  REQUIRE(scheduler->SetQueue(Queue("risk", "", {CpuQuota(2000)})).ok());
  CHECK(scheduler->admitted() == 3);
  CHECK(CpuUsage(*scheduler, "risk").used == 6000);
  // Newest first: the ones that would have to finish to be back under.
  CHECK(scheduler->OverQuota("risk") == Ids{"j3", "j2"});

  REQUIRE(scheduler->Enqueue(Job("j4", "risk", 1000)).ok());
  CHECK(scheduler->RunCycle().admitted.empty());
  CHECK(scheduler->PendingReason("j4") ==
        "squad risk is over its quota in cpu (default): 6000m used, at most 2000m; nothing new is "
        "admitted until running jobs finish");

  // Not even what another resource has room for.
  Workload gpu_only;
  gpu_only.id = "gpu-only";
  gpu_only.squad = "risk";
  gpu_only.requests = {{testing::Gpu(), 1}};
  REQUIRE(
      scheduler->SetQueue(Queue("risk", "", {CpuQuota(2000), {testing::Gpu(), 1, {}, {}}})).ok());
  REQUIRE(scheduler->Enqueue(gpu_only).ok());
  CHECK(scheduler->RunCycle().admitted.empty());

  scheduler->Remove("j3");
  scheduler->Remove("j2");
  CHECK(scheduler->OverQuota("risk").empty());
  CHECK(AdmittedIds(scheduler->RunCycle()) == Ids{"gpu-only"});
  CHECK(scheduler->RunCycle().admitted.empty());  // Back at nominal: still no room.
  scheduler->Remove("j1");
  CHECK(AdmittedIds(scheduler->RunCycle()) == Ids{"j4"});
}

}  // namespace
}  // namespace fabrique::scheduling
