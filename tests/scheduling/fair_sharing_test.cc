// Fair sharing among the queues of a cohort: the weighted dominant resource share of what each
// uses beyond its nominal quota decides which goes first.

#include <catch2/catch.hpp>
#include <random>

#include "tests/scheduling/scheduler_fixtures.h"

namespace fabrique::scheduling {
namespace {

using testing::CpuQuota;
using testing::CpuUsage;
using testing::Job;
using testing::Queue;

// Two squads with no quota of their own borrow from a lender with 30 cpus.
std::unique_ptr<Scheduler> TwoSquadsOnALender(Scheduler::Options options) {
  auto scheduler = Scheduler::Create(options);
  REQUIRE(scheduler->SetQueue(Queue("lender", "shared", {CpuQuota(30000)})).ok());
  REQUIRE(scheduler->SetQueue(Queue("light", "shared", {CpuQuota(0)}, 1.0)).ok());
  REQUIRE(scheduler->SetQueue(Queue("heavy", "shared", {CpuQuota(0)}, 2.0)).ok());
  return scheduler;
}

TEST_CASE("weights 1 and 2 share the cohort 1:2") {
  auto scheduler = TwoSquadsOnALender({});
  for (int i = 0; i < 40; ++i) {
    REQUIRE(scheduler->Enqueue(Job("l" + std::to_string(i), "light", 1000)).ok());
    REQUIRE(scheduler->Enqueue(Job("h" + std::to_string(i), "heavy", 1000)).ok());
  }
  CHECK(scheduler->RunCycle().admitted.size() == 30);
  CHECK(CpuUsage(*scheduler, "light").used == 10000);
  CHECK(CpuUsage(*scheduler, "heavy").used == 20000);
}

TEST_CASE("the 1:2 share holds while jobs of mixed sizes come and go") {
  auto scheduler = TwoSquadsOnALender({});
  std::mt19937 random(7);
  std::uniform_int_distribution<int> size(1, 4);
  int next = 0;
  auto submit = [&](const std::string& squad) {
    REQUIRE(
        scheduler->Enqueue(Job(squad + std::to_string(next++), squad, 500 * size(random))).ok());
  };
  for (int i = 0; i < 50; ++i) {
    submit("light");
    submit("heavy");
  }
  std::vector<std::string> running;
  double light_total = 0;
  double heavy_total = 0;
  for (int cycle = 0; cycle < 200; ++cycle) {
    for (const Admission& admission : scheduler->RunCycle().admitted) {
      running.push_back(admission.workload_id);
    }
    light_total += CpuUsage(*scheduler, "light").used;
    heavy_total += CpuUsage(*scheduler, "heavy").used;
    // A third of what runs finishes; each squad submits as much again.
    std::shuffle(running.begin(), running.end(), random);
    const size_t finishing = running.size() / 3;
    for (size_t i = 0; i < finishing; ++i) {
      const std::string id = running.back();
      running.pop_back();
      scheduler->Remove(id);
      submit(id.rfind("light", 0) == 0 ? "light" : "heavy");
    }
  }
  const double ratio = heavy_total / light_total;
  INFO("heavy / light cpu-cycles = " << ratio);
  CHECK(ratio > 1.8);
  CHECK(ratio < 2.2);
}

TEST_CASE("without fair sharing queues go by name") {
  auto scheduler = TwoSquadsOnALender({.fair_sharing = false});
  for (int i = 0; i < 40; ++i) {
    REQUIRE(scheduler->Enqueue(Job("l" + std::to_string(i), "light", 1000)).ok());
    REQUIRE(scheduler->Enqueue(Job("h" + std::to_string(i), "heavy", 1000)).ok());
  }
  CHECK(scheduler->RunCycle().admitted.size() == 30);
  CHECK(CpuUsage(*scheduler, "heavy").used == 30000);
  CHECK(CpuUsage(*scheduler, "light").used == 0);
}

TEST_CASE("a queue within its nominal quota is not held back by fair sharing") {
  auto scheduler = TwoSquadsOnALender({});
  for (int i = 0; i < 40; ++i) {
    REQUIRE(scheduler->Enqueue(Job("h" + std::to_string(i), "heavy", 1000)).ok());
  }
  scheduler->RunCycle();
  REQUIRE(CpuUsage(*scheduler, "heavy").used == 30000);
  // The lender's own work reclaims its nominal quota from the borrower.
  REQUIRE(scheduler->Enqueue(Job("own", "lender", 5000)).ok());
  CycleResult cycle = scheduler->RunCycle();
  CHECK(cycle.admitted.size() == 1);
  CHECK(cycle.preempted.size() == 5);
}

}  // namespace
}  // namespace fabrique::scheduling
