// Kueue's preemption scenarios, restated: reclaiming nominal quota from borrowers of the cohort,
// and higher priority preempting lower priority inside a queue that allows it.

#include <catch2/catch.hpp>

#include "tests/scheduling/scheduler_fixtures.h"

namespace fabrique::scheduling {
namespace {

using testing::AdmittedIds;
using testing::CpuQuota;
using testing::CpuUsage;
using testing::Job;
using testing::PreemptedIds;
using testing::Queue;
using testing::Sorted;
using Ids = std::vector<std::string>;

// risk and fraud each own 4000m; risk has borrowed all of fraud's.
std::unique_ptr<Scheduler> RiskBorrowsAllOfFraud() {
  auto scheduler = Scheduler::Create({});
  REQUIRE(scheduler->SetQueue(Queue("risk", "analytics", {CpuQuota(4000)})).ok());
  REQUIRE(scheduler->SetQueue(Queue("fraud", "analytics", {CpuQuota(4000)})).ok());
  for (const char* id : {"r1", "r2", "r3", "r4"}) {
    REQUIRE(scheduler->Enqueue(Job(id, "risk", 2000)).ok());
  }
  REQUIRE(scheduler->RunCycle().admitted.size() == 4);
  REQUIRE(CpuUsage(*scheduler, "risk").borrowed == 4000);
  return scheduler;
}

TEST_CASE("a queue reclaims its nominal quota by preempting borrowers, newest first") {
  auto scheduler = RiskBorrowsAllOfFraud();
  REQUIRE(scheduler->Enqueue(Job("f1", "fraud", 2000)).ok());

  CycleResult cycle = scheduler->RunCycle();
  CHECK(AdmittedIds(cycle) == Ids{"f1"});
  REQUIRE(cycle.preempted.size() == 1);
  const Preemption& preemption = cycle.preempted[0];
  CHECK(preemption.workload_id == "r4");
  CHECK(preemption.preemptor_id == "f1");
  CHECK(preemption.kind == Preemption::Kind::kReclaimWithinCohort);
  CHECK(preemption.reason == "preempted by job f1: squad fraud reclaims its nominal cpu (default)");

  // The evicted workload is pending again, first in its queue, and waits for quota.
  CHECK(scheduler->PositionInQueue("r4") == 1);
  CHECK(scheduler->PendingReason("r4") ==
        "waiting for cpu (default): 2000m requested, 0m free to squad risk");
  CHECK(CpuUsage(*scheduler, "risk").used == 6000);
  CHECK(CpuUsage(*scheduler, "fraud").used == 2000);
  CHECK(scheduler->RunCycle().admitted.empty());
}

TEST_CASE("reclaim takes the lowest priority borrower first, whatever its age") {
  auto scheduler = Scheduler::Create({});
  REQUIRE(scheduler->SetQueue(Queue("risk", "analytics", {CpuQuota(4000)})).ok());
  REQUIRE(scheduler->SetQueue(Queue("fraud", "analytics", {CpuQuota(4000)})).ok());
  REQUIRE(scheduler->Enqueue(Job("r-low", "risk", 2000, -1)).ok());
  for (const char* id : {"r2", "r3", "r4"}) REQUIRE(scheduler->Enqueue(Job(id, "risk", 2000)).ok());
  REQUIRE(scheduler->RunCycle().admitted.size() == 4);

  REQUIRE(scheduler->Enqueue(Job("f1", "fraud", 4000)).ok());
  CycleResult cycle = scheduler->RunCycle();
  CHECK(AdmittedIds(cycle) == Ids{"f1"});
  CHECK(Sorted(PreemptedIds(cycle)) == Ids{"r-low", "r4"});
}

TEST_CASE("no reclaim for a workload that would borrow itself") {
  auto scheduler = RiskBorrowsAllOfFraud();
  // 6000m is past fraud's nominal 4000m: it may only take what is free.
  REQUIRE(scheduler->Enqueue(Job("f-big", "fraud", 6000)).ok());
  CycleResult cycle = scheduler->RunCycle();
  CHECK(cycle.admitted.empty());
  CHECK(cycle.preempted.empty());
  CHECK(scheduler->admitted() == 4);
}

TEST_CASE("queues in no cohort, or not borrowing, are never reclaimed from") {
  auto scheduler = Scheduler::Create({});
  REQUIRE(scheduler->SetQueue(Queue("risk", "analytics", {CpuQuota(4000)})).ok());
  REQUIRE(scheduler->SetQueue(Queue("fraud", "analytics", {CpuQuota(4000)})).ok());
  for (const char* id : {"f1", "f2"}) REQUIRE(scheduler->Enqueue(Job(id, "fraud", 2000)).ok());
  REQUIRE(scheduler->RunCycle().admitted.size() == 2);
  // fraud is within its nominal quota: risk's workload waits for its own.
  REQUIRE(scheduler->Enqueue(Job("r-big", "risk", 6000)).ok());
  CycleResult cycle = scheduler->RunCycle();
  CHECK(cycle.admitted.empty());
  CHECK(cycle.preempted.empty());
}

TEST_CASE("a higher priority workload preempts lower ones of its queue when the queue allows") {
  auto scheduler = Scheduler::Create({});
  REQUIRE(scheduler->SetQueue(Queue("risk", "", {CpuQuota(4000)}, 1.0, true)).ok());
  // Preempting low-old (1000m) alone would not be enough; low-new (3000m) alone is.
  REQUIRE(scheduler->Enqueue(Job("low-old", "risk", 1000, 0)).ok());
  REQUIRE(scheduler->Enqueue(Job("mid-new", "risk", 3000, 1)).ok());
  REQUIRE(scheduler->RunCycle().admitted.size() == 2);

  REQUIRE(scheduler->Enqueue(Job("urgent", "risk", 3000, 5)).ok());
  CycleResult cycle = scheduler->RunCycle();
  CHECK(AdmittedIds(cycle) == Ids{"urgent"});
  REQUIRE(cycle.preempted.size() == 1);
  // The lowest priority went first but turned out not to be needed: it keeps running.
  CHECK(cycle.preempted[0].workload_id == "mid-new");
  CHECK(cycle.preempted[0].kind == Preemption::Kind::kLowerPriorityInQueue);
  CHECK(cycle.preempted[0].reason == "preempted by job urgent of squad risk, priority 5 above 1");
  CHECK(scheduler->PendingReason("low-old").empty());
}

TEST_CASE("without preempt_within_queue a higher priority workload waits") {
  auto scheduler = Scheduler::Create({});
  REQUIRE(scheduler->SetQueue(Queue("risk", "", {CpuQuota(4000)})).ok());
  REQUIRE(scheduler->Enqueue(Job("low", "risk", 4000, 0)).ok());
  REQUIRE(scheduler->RunCycle().admitted.size() == 1);
  REQUIRE(scheduler->Enqueue(Job("urgent", "risk", 2000, 5)).ok());
  CycleResult cycle = scheduler->RunCycle();
  CHECK(cycle.admitted.empty());
  CHECK(cycle.preempted.empty());
}

TEST_CASE("nothing is preempted for a workload that would not fit even then") {
  auto scheduler = Scheduler::Create({});
  REQUIRE(scheduler->SetQueue(Queue("risk", "", {CpuQuota(4000)}, 1.0, true)).ok());
  REQUIRE(scheduler->Enqueue(Job("low", "risk", 2000, 0)).ok());
  REQUIRE(scheduler->Enqueue(Job("high", "risk", 2000, 9)).ok());
  REQUIRE(scheduler->RunCycle().admitted.size() == 2);

  REQUIRE(scheduler->Enqueue(Job("mid", "risk", 4000, 5)).ok());
  CycleResult cycle = scheduler->RunCycle();
  CHECK(cycle.preempted.empty());
  CHECK(cycle.admitted.empty());
  CHECK(scheduler->admitted() == 2);
  CHECK(CpuUsage(*scheduler, "risk").used == 4000);
}

TEST_CASE("an evicted workload is not admitted again in the cycle that evicted it") {
  auto scheduler = RiskBorrowsAllOfFraud();
  REQUIRE(scheduler->Enqueue(Job("f1", "fraud", 1000)).ok());
  CycleResult cycle = scheduler->RunCycle();
  CHECK(AdmittedIds(cycle) == Ids{"f1"});
  CHECK(PreemptedIds(cycle) == Ids{"r4"});
  // 1000m is left free; r4 needs 2000m and stays pending.
  CHECK(scheduler->pending() == 1);
  scheduler->Remove("f1");
  CHECK(AdmittedIds(scheduler->RunCycle()) == Ids{"r4"});
}

}  // namespace
}  // namespace fabrique::scheduling
