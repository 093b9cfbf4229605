// Kueue's cohort scenarios, restated: borrowing up to the borrowing limit, lending down to the
// lending limit, and what CheckFits says about a workload no state could ever admit.

#include <catch2/catch.hpp>

#include "tests/scheduling/scheduler_fixtures.h"

namespace fabrique::scheduling {
namespace {

using testing::AdmittedIds;
using testing::Cpu;
using testing::CpuQuota;
using testing::CpuUsage;
using testing::Gpu;
using testing::Job;
using testing::Queue;
using Ids = std::vector<std::string>;

TEST_CASE("a queue borrows unused quota of its cohort up to its borrowing limit") {
  auto scheduler = Scheduler::Create({});
  REQUIRE(scheduler->SetQueue(Queue("risk", "analytics", {CpuQuota(4000, 2000)})).ok());
  REQUIRE(scheduler->SetQueue(Queue("fraud", "analytics", {CpuQuota(6000)})).ok());
  for (const char* id : {"r1", "r2", "r3", "r4"}) {
    REQUIRE(scheduler->Enqueue(Job(id, "risk", 2000)).ok());
  }

  CycleResult cycle = scheduler->RunCycle();
  REQUIRE(AdmittedIds(cycle) == Ids{"r1", "r2", "r3"});
  CHECK_FALSE(cycle.admitted[1].borrowing);
  CHECK(cycle.admitted[2].borrowing);
  CHECK(scheduler->PendingReason("r4") ==
        "waiting for cpu (default): 2000m requested, 0m free to squad risk");

  QueueUsage risk = CpuUsage(*scheduler, "risk");
  CHECK(risk.used == 6000);
  CHECK(risk.borrowed == 2000);
  CHECK(risk.lent == 0);
  QueueUsage fraud = CpuUsage(*scheduler, "fraud");
  CHECK(fraud.used == 0);
  CHECK(fraud.lent == 2000);

  // What it borrowed is fraud's: fraud still has 4000m it did not lend out.
  REQUIRE(scheduler->Enqueue(Job("f1", "fraud", 4000)).ok());
  CHECK(AdmittedIds(scheduler->RunCycle()) == Ids{"f1"});
}

TEST_CASE("without a borrowing limit a queue may take all its cohort lends") {
  auto scheduler = Scheduler::Create({});
  REQUIRE(scheduler->SetQueue(Queue("risk", "analytics", {CpuQuota(2000)})).ok());
  REQUIRE(scheduler->SetQueue(Queue("fraud", "analytics", {CpuQuota(6000)})).ok());
  REQUIRE(scheduler->Enqueue(Job("r1", "risk", 8000)).ok());
  CycleResult cycle = scheduler->RunCycle();
  REQUIRE(AdmittedIds(cycle) == Ids{"r1"});
  CHECK(cycle.admitted[0].borrowing);
}

TEST_CASE("a lending limit keeps the rest of the nominal quota for its queue") {
  auto scheduler = Scheduler::Create({});
  REQUIRE(scheduler->SetQueue(Queue("risk", "analytics", {CpuQuota(4000)})).ok());
  REQUIRE(
      scheduler->SetQueue(Queue("fraud", "analytics", {CpuQuota(6000, std::nullopt, 1000)})).ok());

  // risk may reach 4000m + 1000m lent by fraud, never more.
  CHECK(scheduler->CheckFits(Job("huge", "risk", 6000)).message() ==
        "cpu (default): 6000m requested, at most 5000m ever available to squad risk (nominal "
        "4000m + 1000m lent by cohort analytics)");
  for (const char* id : {"r1", "r2", "r3"}) REQUIRE(scheduler->Enqueue(Job(id, "risk", 2000)).ok());
  REQUIRE(scheduler->Enqueue(Job("r4", "risk", 1000)).ok());
  CHECK(AdmittedIds(scheduler->RunCycle()) == Ids{"r1", "r2"});
  CHECK(AdmittedIds(scheduler->RunCycle()) == Ids{"r4"});  // r3 waits aside (BestEffortFIFO).
  CHECK(CpuUsage(*scheduler, "risk").used == 5000);
  CHECK(CpuUsage(*scheduler, "fraud").lent == 1000);

  // fraud's guaranteed 5000m stays its own without any preemption.
  REQUIRE(scheduler->Enqueue(Job("f1", "fraud", 5000)).ok());
  CycleResult cycle = scheduler->RunCycle();
  CHECK(AdmittedIds(cycle) == Ids{"f1"});
  CHECK(cycle.preempted.empty());
}

TEST_CASE("CheckFits names the resource, the flavour and the amounts") {
  auto scheduler = Scheduler::Create({});
  REQUIRE(scheduler->SetQueue(Queue("risk", "analytics", {CpuQuota(2000, 2000)})).ok());
  REQUIRE(scheduler->SetQueue(Queue("fraud", "analytics", {CpuQuota(8000)})).ok());
  REQUIRE(scheduler
              ->SetQueue(Queue(
                  "alone", "",
                  {CpuQuota(2000), {{"default", Resource::kMemory}, int64_t{8} << 30, {}, {}}}))
              .ok());

  absl::Status status = scheduler->CheckFits(Job("j", "risk", 8000));
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(status.message() ==
        "cpu (default): 8000m requested, at most 4000m ever available to squad risk (nominal "
        "2000m + borrowing limit 2000m)");
  CHECK(scheduler->CheckFits(Job("j", "risk", 4000)).ok());

  CHECK(scheduler->CheckFits(Job("j", "alone", 3000)).message() ==
        "cpu (default): 3000m requested, at most 2000m ever available to squad alone (nominal "
        "2000m, in no cohort)");

  Workload gpu_job = Job("g", "risk", 1000);
  gpu_job.requests.push_back({Gpu("h100"), 2});
  CHECK(scheduler->CheckFits(gpu_job).message() ==
        "gpu (h100): 2 requested, at most 0 ever available to squad risk (no squad has quota for "
        "it)");

  Workload memory_job = Job("m", "alone", 1000);
  memory_job.requests.push_back({{"default", Resource::kMemory}, int64_t{16} << 30});
  CHECK(scheduler->CheckFits(memory_job).message() ==
        "memory (default): 16Gi requested, at most 8Gi ever available to squad alone (nominal "
        "8Gi, in no cohort)");

  CHECK(scheduler->CheckFits(Job("j", "nobody", 1000)).code() == absl::StatusCode::kNotFound);
  CHECK(scheduler->CheckFits(Job("j", "risk", -1)).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Enqueue refuses what could never be admitted, unknown squads and known ids") {
  auto scheduler = Scheduler::Create({});
  REQUIRE(scheduler->SetQueue(Queue("risk", "", {CpuQuota(2000)})).ok());

  absl::Status status = scheduler->Enqueue(Job("big", "risk", 3000));
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(scheduler->pending() == 0);
  CHECK(scheduler->PositionInQueue("big") == 0);
  // Refused, it is not remembered: the same id may come back smaller.
  CHECK(scheduler->Enqueue(Job("big", "risk", 2000)).ok());

  CHECK(scheduler->Enqueue(Job("big", "risk", 1000)).code() == absl::StatusCode::kAlreadyExists);
  CHECK(scheduler->Enqueue(Job("x", "nobody", 1000)).code() == absl::StatusCode::kNotFound);
  CHECK(scheduler->Enqueue(Job("", "risk", 1000)).code() == absl::StatusCode::kInvalidArgument);
  CHECK(scheduler->Enqueue(Job("neg", "risk", -5)).code() == absl::StatusCode::kInvalidArgument);
  CHECK(scheduler->pending() == 1);
}

TEST_CASE("SetQueue refuses quotas that make no sense") {
  auto scheduler = Scheduler::Create({});
  CHECK(scheduler->SetQueue(Queue("", "", {CpuQuota(1000)})).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(scheduler->SetQueue(Queue("risk", "", {CpuQuota(1000)}, 0)).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(scheduler->SetQueue(Queue("risk", "", {CpuQuota(-1)})).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(scheduler->SetQueue(Queue("risk", "", {CpuQuota(1000), CpuQuota(2000)})).code() ==
        absl::StatusCode::kInvalidArgument);
  absl::Status status =
      scheduler->SetQueue(Queue("risk", "c", {CpuQuota(1000, std::nullopt, 3000)}));
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.message() ==
        "squad risk: cpu (default): lending limit 3000m is above nominal 1000m; lend at most the "
        "nominal quota");
}

TEST_CASE("a queue that moves to another cohort takes its lendable quota with it") {
  auto scheduler = Scheduler::Create({});
  REQUIRE(scheduler->SetQueue(Queue("risk", "analytics", {CpuQuota(1000)})).ok());
  REQUIRE(scheduler->SetQueue(Queue("fraud", "analytics", {CpuQuota(4000)})).ok());
  CHECK(scheduler->CheckFits(Job("j", "risk", 5000)).ok());
  REQUIRE(scheduler->SetQueue(Queue("fraud", "payments", {CpuQuota(4000)})).ok());
  CHECK(scheduler->CheckFits(Job("j", "risk", 5000)).code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(scheduler->CheckFits(Job("j", "risk", 1000)).ok());
}

TEST_CASE("flavours are separate quotas") {
  auto scheduler = Scheduler::Create({});
  REQUIRE(scheduler
              ->SetQueue(Queue("vision", "",
                               {{Gpu("a100"), 2, std::nullopt, std::nullopt},
                                {Gpu("h100"), 1, std::nullopt, std::nullopt},
                                CpuQuota(8000)}))
              .ok());
  Workload a = Job("a", "vision", 1000);
  a.requests.push_back({Gpu("a100"), 2});
  Workload h = Job("h", "vision", 1000);
  h.requests.push_back({Gpu("h100"), 1});
  Workload more = Job("more", "vision", 1000);
  more.requests.push_back({Gpu("a100"), 1});
  for (const Workload& w : {a, h, more}) REQUIRE(scheduler->Enqueue(w).ok());
  CHECK(AdmittedIds(scheduler->RunCycle()) == Ids{"a", "h"});
  CHECK(scheduler->PendingReason("more") ==
        "waiting for gpu (a100): 1 requested, 0 free to squad vision");
}

}  // namespace
}  // namespace fabrique::scheduling
