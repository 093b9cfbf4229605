// Random sequences of quota changes, submissions, removals, filter changes and cycles: after each
// step the scheduler's usage must equal the sum of what it admitted, no workload may be admitted
// twice, evicted workloads must have been running, and no queue may take more than it ever could
// (quotas only lowered by SetQueue may leave one over, which OverQuota then names).

#include <catch2/catch.hpp>
#include <random>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "tests/scheduling/scheduler_fixtures.h"

namespace fabrique::scheduling {
namespace {

using testing::Cpu;
using testing::Gpu;
using testing::Queue;

constexpr int kSquads = 6;

QueueConfig RandomQueue(int squad, std::mt19937& random) {
  const std::string cohort = squad < 4 ? "left" : (squad == 4 ? "right" : "");
  QuotaLimit cpu{Cpu(), 1000 * static_cast<int64_t>(random() % 8), {}, {}};
  if (random() % 3 == 0 && !cohort.empty()) cpu.borrowing_limit = 1000 * (random() % 4);
  if (random() % 3 == 0) cpu.lending_limit = std::min<int64_t>(cpu.nominal, 1000 * (random() % 4));
  QuotaLimit gpu{Gpu(), static_cast<int64_t>(random() % 3), {}, {}};
  return Queue("s" + std::to_string(squad), cohort, {cpu, gpu}, 1 + random() % 3,
               random() % 2 == 0);
}

TEST_CASE("usage always equals what is admitted, whatever happens") {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 random(seed);
    auto scheduler = Scheduler::Create({});
    for (int s = 0; s < kSquads; ++s) REQUIRE(scheduler->SetQueue(RandomQueue(s, random)).ok());
    std::set<std::string> blocked_squads;
    scheduler->SetAdmissionFilter([&blocked_squads](const Workload& w) -> std::string {
      return blocked_squads.count(w.squad) ? "held back" : "";
    });
    absl::flat_hash_map<std::string, Workload> running, waiting;
    int64_t next = 0;
    for (int step = 0; step < 400; ++step) {
      const int action = static_cast<int>(random() % 10);
      if (action < 4) {
        Workload w;
        w.id = "w" + std::to_string(++next);
        w.squad = "s" + std::to_string(random() % kSquads);
        w.priority = static_cast<int32_t>(random() % 3);
        w.sequence = next;
        w.requests = {{Cpu(), 500 * static_cast<int64_t>(random() % 6)}};
        if (random() % 3 == 0) w.requests.push_back({Gpu(), 1});
        absl::Status status = scheduler->Enqueue(w);
        if (status.ok()) {
          waiting.emplace(w.id, w);
        } else {
          REQUIRE(status.code() == absl::StatusCode::kFailedPrecondition);
        }
      } else if (action < 6 && !running.empty()) {
        auto it = std::next(running.begin(), random() % running.size());
        scheduler->Remove(it->first);
        running.erase(it);
      } else if (action == 6 && !waiting.empty()) {
        auto it = std::next(waiting.begin(), random() % waiting.size());
        scheduler->Remove(it->first);
        waiting.erase(it);
      } else if (action == 7) {
        REQUIRE(scheduler->SetQueue(RandomQueue(random() % kSquads, random)).ok());
      } else if (action == 8) {
        const std::string squad = "s" + std::to_string(random() % kSquads);
        if (!blocked_squads.erase(squad)) blocked_squads.insert(squad);
      } else {
        CycleResult cycle = scheduler->RunCycle();
        for (const Preemption& p : cycle.preempted) {
          auto it = running.find(p.workload_id);
          REQUIRE(it != running.end());
          waiting.emplace(*it);
          running.erase(it);
        }
        for (const Admission& a : cycle.admitted) {
          auto it = waiting.find(a.workload_id);
          REQUIRE(it != waiting.end());
          CHECK_FALSE(blocked_squads.count(it->second.squad));
          CHECK(scheduler->OverQuota(it->second.squad).empty());
          running.emplace(*it);
          waiting.erase(it);
        }
      }
      REQUIRE(scheduler->admitted() == running.size());
      REQUIRE(scheduler->pending() == waiting.size());
      for (int s = 0; s < kSquads; ++s) {
        const std::string squad = "s" + std::to_string(s);
        absl::flat_hash_map<FlavorResource, int64_t> expected;
        for (const auto& [id, w] : running) {
          if (w.squad != squad) continue;
          for (const auto& [what, amount] : w.requests) expected[what] += amount;
        }
        for (const QueueUsage& usage : scheduler->Usage(squad)) {
          INFO("seed " << seed << " step " << step << " " << squad);
          REQUIRE(usage.used == expected[usage.what]);
          REQUIRE(usage.borrowed == std::max<int64_t>(0, usage.used - usage.nominal));
          REQUIRE(usage.lent >= 0);
        }
      }
      for (const auto& [id, w] : waiting) REQUIRE(scheduler->PositionInQueue(id) >= 1);
      for (const auto& [id, w] : running) REQUIRE(scheduler->PositionInQueue(id) == 0);
    }
  }
}

}  // namespace
}  // namespace fabrique::scheduling
