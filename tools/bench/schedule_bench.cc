// The tower's admission scheduler under a flowing queue, side by side in one run:
//
//   scheduler  libs/scheduling (Kueue's semantics): per-queue ordered pending sets, queues kept
//              in fair-share order, cohort aggregates updated on each admission and removal;
//   naive      the same quota arithmetic, but every cycle sorts all pending workloads by
//              (fair share, priority, arrival) and walks them (schedule_bench_naive.h).
//
// Scenario: --squads squads in --cohorts cohorts; quotas of cpu, memory and gpu in two flavours
// ("on-demand", "spot"), some with borrowing or lending limits, weights 1 to 3, a quarter of the
// squads letting higher priority preempt in their queue. --jobs workloads wait from the start,
// with mixed requests (cpu 500m-6000m, memory 1-16Gi, a quarter also 1-2 gpus) and priorities
// 0-3; after each cycle the admitted workloads run for 1 to 6 cycles and then finish, and new
// workloads arrive so that --jobs are pending again: the queue keeps flowing until --admissions
// workloads were admitted. Both sides get the same seeded arrivals.
//
// Figures: admissions per second of scheduler time (cycles, submissions and removals timed;
// the benchmark's own bookkeeping not), and the admission cycle's p50 and p99. Each is the median
// of --repeats runs. Kueue publishes about 43 admissions/s for its own scheduler (a Kubernetes
// controller, API writes included); that figure is printed beside ours, not measured here.
//
// Checks, on both sides (exit 1 when one fails): no workload admitted while it is already
// running, every queue's usage equal to the sum of the requests of what runs in it, no queue
// over what it may ever use, admitted and pending counts equal to the benchmark's own.
//
//   schedule_bench [--jobs=10000] [--squads=50] [--cohorts=5] [--admissions=50000]
//                  [--repeats=5] [--small]
//
// --small: 1,000 jobs over 10 squads in 2 cohorts, 3,000 admissions, one repeat: the checks
// alone, in well under a second (tools/bench/run_small).

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/scheduling/scheduler.h"
#include "tools/bench/schedule_bench_naive.h"

namespace fabrique::bench {
namespace {

using Clock = std::chrono::steady_clock;

// CPU seconds of this thread: on a shared machine, wall time also counts other processes' turns.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}
using scheduling::FlavorResource;
using scheduling::QueueConfig;
using scheduling::QuotaLimit;
using scheduling::Resource;
using scheduling::Scheduler;
using scheduling::Workload;

constexpr double kKueuePublished = 43;
constexpr double kGoalAdmissions = 1000;
constexpr double kGoalCycleMs = 10;
constexpr int64_t kGi = int64_t{1} << 30;
constexpr const char* kFlavors[] = {"on-demand", "spot"};

struct Flags {
  int jobs = 10'000;
  int squads = 50;
  int cohorts = 5;
  int64_t admissions = 50'000;
  int repeats = 5;
};

[[noreturn]] void Fail(const std::string& why) {
  std::fprintf(stderr, "schedule_bench: check failed: %s\n", why.c_str());
  std::exit(1);
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return values[index];
}
double Median(std::vector<double> values) { return Percentile(std::move(values), 0.5); }

std::string Squad(int i) { return absl::StrCat("squad-", i); }

std::vector<QueueConfig> Queues(const Flags& flags) {
  std::vector<QueueConfig> queues;
  const int per_cohort = std::max(1, flags.squads / flags.cohorts);
  for (int i = 0; i < flags.squads; ++i) {
    QueueConfig q;
    q.squad = Squad(i);
    q.cohort = absl::StrCat("cohort-", std::min(i / per_cohort, flags.cohorts - 1));
    q.weight = 1 + i % 3;
    q.preempt_within_queue = i % 4 == 0;
    QuotaLimit cpu{{kFlavors[0], Resource::kCpu}, 16'000 + 4'000 * (i % 4), {}, {}};
    if (i % 5 == 1) cpu.borrowing_limit = cpu.nominal / 2;
    if (i % 5 == 2) cpu.lending_limit = cpu.nominal / 2;
    q.quotas = {cpu,
                {{kFlavors[1], Resource::kCpu}, 8'000, {}, {}},
                {{kFlavors[0], Resource::kMemory}, 64 * kGi, {}, {}},
                {{kFlavors[1], Resource::kMemory}, 32 * kGi, {}, {}},
                {{kFlavors[0], Resource::kGpu}, i % 2 == 0 ? 4 : 0, {}, {}},
                {{kFlavors[1], Resource::kGpu}, i % 3 == 0 ? 2 : 0, {}, {}}};
    queues.push_back(std::move(q));
  }
  return queues;
}

// Seeded arrivals, the same for both sides.
class Arrivals {
 public:
  Arrivals(const Flags& flags, uint32_t seed) : flags_(flags), random_(seed) {}
  Workload Next() {
    Workload w;
    w.sequence = ++sequence_;
    w.id = absl::StrCat("job-", w.sequence);
    w.squad = Squad(Uniform(flags_.squads));
    w.priority = Uniform(4);
    const char* flavor = kFlavors[Uniform(3) == 0 ? 1 : 0];
    w.requests = {{{flavor, Resource::kCpu}, 500 * (1 + Uniform(12))},
                  {{flavor, Resource::kMemory}, kGi * (1 + Uniform(16))}};
    if (Uniform(4) == 0) w.requests.push_back({{flavor, Resource::kGpu}, 1 + Uniform(2)});
    return w;
  }
  int Uniform(int n) { return static_cast<int>(random_() % static_cast<uint32_t>(n)); }

 private:
  const Flags& flags_;
  std::mt19937 random_;
  int64_t sequence_ = 0;
};

// The two sides behind one shape.
class RealSide {
 public:
  RealSide() : scheduler_(Scheduler::Create({})) {}
  absl::Status SetQueue(const QueueConfig& q) { return scheduler_->SetQueue(q); }
  absl::Status Enqueue(const Workload& w) { return scheduler_->Enqueue(w); }
  void Remove(const std::string& id) { scheduler_->Remove(id); }
  void Cycle(std::vector<std::string>* admitted, std::vector<std::string>* preempted) {
    scheduling::CycleResult result = scheduler_->RunCycle();
    for (const auto& a : result.admitted) admitted->push_back(a.workload_id);
    for (const auto& p : result.preempted) preempted->push_back(p.workload_id);
  }
  int64_t Used(const std::string& squad, const FlavorResource& what) const {
    for (const auto& u : scheduler_->Usage(squad)) {
      if (u.what == what) return u.used;
    }
    return 0;
  }
  bool Over(const std::string& squad) const { return !scheduler_->OverQuota(squad).empty(); }
  size_t pending() const { return scheduler_->pending(); }
  size_t admitted() const { return scheduler_->admitted(); }

 private:
  std::unique_ptr<Scheduler> scheduler_;
};

class NaiveSide {
 public:
  absl::Status SetQueue(const QueueConfig& q) { return naive_.SetQueue(q); }
  absl::Status Enqueue(const Workload& w) { return naive_.Enqueue(w); }
  void Remove(const std::string& id) { naive_.Remove(id); }
  void Cycle(std::vector<std::string>* admitted, std::vector<std::string>*) {
    *admitted = naive_.RunCycle();
  }
  int64_t Used(const std::string& squad, const FlavorResource& what) const {
    const int fr = naive_.ledger().FindFlavorResource(what);
    return fr < 0 ? 0 : naive_.ledger().Used(naive_.ledger().FindQueue(squad), fr);
  }
  bool Over(const std::string& squad) const {
    const auto& ledger = naive_.ledger();
    const int q = ledger.FindQueue(squad);
    for (int fr : ledger.Known(q)) {
      if (ledger.Used(q, fr) > ledger.MaxEver(q, fr)) return true;
    }
    return false;
  }
  size_t pending() const { return naive_.pending(); }
  size_t admitted() const { return naive_.admitted(); }

 private:
  NaiveScheduler naive_;
};

struct Figures {
  double admissions_per_second = 0;  // Wall time.
  double cycle_p50_ms = 0;
  double cycle_p99_ms = 0;
  double admissions_per_cpu_second = 0;  // This thread's CPU time.
  double cycle_cpu_p50_ms = 0;
  double cycle_cpu_p99_ms = 0;
  int64_t admissions = 0;
  int64_t cycles = 0;
  int64_t preemptions = 0;
};

template <typename Side>
void Verify(const Side& side, const Flags& flags,
            const absl::flat_hash_map<std::string, Workload>& running, size_t pending,
            const char* name) {
  if (side.admitted() != running.size()) {
    Fail(absl::StrCat(name, ": ", side.admitted(), " admitted, ", running.size(), " running"));
  }
  if (side.pending() != pending) {
    Fail(absl::StrCat(name, ": ", side.pending(), " pending, expected ", pending));
  }
  absl::flat_hash_map<std::string, absl::flat_hash_map<FlavorResource, int64_t>> expected;
  for (const auto& [id, w] : running) {
    for (const auto& [what, amount] : w.requests) expected[w.squad][what] += amount;
  }
  for (int i = 0; i < flags.squads; ++i) {
    const std::string squad = Squad(i);
    for (const char* flavor : kFlavors) {
      for (Resource r : {Resource::kCpu, Resource::kMemory, Resource::kGpu}) {
        const FlavorResource what{flavor, r};
        const int64_t want = expected[squad][what];
        if (side.Used(squad, what) != want) {
          Fail(absl::StrCat(name, ": ", squad, " uses ", side.Used(squad, what), " of ", flavor,
                            "/", static_cast<int>(r), ", its running jobs ", want));
        }
      }
    }
    if (side.Over(squad)) Fail(absl::StrCat(name, ": ", squad, " is over its quota"));
  }
}

template <typename Side>
Figures RunOnce(const Flags& flags, uint32_t seed, const char* name) {
  Side side;
  for (const QueueConfig& q : Queues(flags)) {
    if (absl::Status s = side.SetQueue(q); !s.ok()) Fail(std::string(s.message()));
  }
  Arrivals arrivals(flags, seed);
  std::mt19937 lifetimes(seed + 1);
  absl::flat_hash_map<std::string, Workload> waiting;
  absl::flat_hash_map<std::string, Workload> running;
  absl::flat_hash_map<std::string, int64_t> finishes_at;
  std::vector<std::vector<std::string>> finishing(8);  // Ring of cycles.
  double scheduler_seconds = 0;
  double scheduler_cpu_seconds = 0;
  auto submit_up_to_target = [&] {
    std::vector<Workload> fresh;
    while (waiting.size() + fresh.size() < static_cast<size_t>(flags.jobs)) {
      fresh.push_back(arrivals.Next());
    }
    const auto made = Clock::now();
    const double made_cpu = ThreadCpuSeconds();
    for (const Workload& w : fresh) {
      if (absl::Status s = side.Enqueue(w); !s.ok()) Fail(std::string(s.message()));
    }
    scheduler_cpu_seconds += ThreadCpuSeconds() - made_cpu;
    scheduler_seconds += std::chrono::duration<double>(Clock::now() - made).count();
    for (Workload& w : fresh) waiting.emplace(w.id, std::move(w));
  };
  submit_up_to_target();

  Figures figures;
  std::vector<double> cycle_ms, cycle_cpu_ms;
  std::vector<std::string> admitted, preempted;
  for (int64_t cycle = 0; figures.admissions < flags.admissions; ++cycle) {
    admitted.clear();
    preempted.clear();
    const auto start = Clock::now();
    const double start_cpu = ThreadCpuSeconds();
    side.Cycle(&admitted, &preempted);
    const double cpu_seconds = ThreadCpuSeconds() - start_cpu;
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    scheduler_seconds += seconds;
    scheduler_cpu_seconds += cpu_seconds;
    cycle_ms.push_back(seconds * 1e3);
    cycle_cpu_ms.push_back(cpu_seconds * 1e3);
    for (const std::string& id : preempted) {
      auto it = running.find(id);
      if (it == running.end()) Fail(absl::StrCat(name, ": preempted ", id, " was not running"));
      waiting.emplace(id, std::move(it->second));
      running.erase(it);
      finishes_at.erase(id);
    }
    for (const std::string& id : admitted) {
      auto it = waiting.find(id);
      if (it == waiting.end()) Fail(absl::StrCat(name, ": admitted ", id, " was not pending"));
      running.emplace(id, std::move(it->second));
      waiting.erase(it);
      const int64_t at = cycle + 1 + static_cast<int64_t>(lifetimes() % 6);
      finishes_at[id] = at;
      finishing[at % finishing.size()].push_back(id);
    }
    figures.admissions += static_cast<int64_t>(admitted.size());
    figures.preemptions += static_cast<int64_t>(preempted.size());
    if (admitted.empty() && running.empty()) Fail(absl::StrCat(name, ": the queue is stuck"));

    // Those whose time is up finish (a preempted one's stale entry is skipped).
    auto& due = finishing[(cycle + 1) % finishing.size()];
    const auto remove_start = Clock::now();
    const double remove_start_cpu = ThreadCpuSeconds();
    for (const std::string& id : due) {
      auto it = finishes_at.find(id);
      if (it == finishes_at.end() || it->second != cycle + 1) continue;
      side.Remove(id);
    }
    scheduler_cpu_seconds += ThreadCpuSeconds() - remove_start_cpu;
    scheduler_seconds += std::chrono::duration<double>(Clock::now() - remove_start).count();
    for (const std::string& id : due) {
      auto it = finishes_at.find(id);
      if (it == finishes_at.end() || it->second != cycle + 1) continue;
      finishes_at.erase(it);
      running.erase(id);
    }
    due.clear();
    submit_up_to_target();
    if (cycle % 64 == 0) Verify(side, flags, running, waiting.size(), name);
    figures.cycles = cycle + 1;
  }
  Verify(side, flags, running, waiting.size(), name);
  figures.admissions_per_second = figures.admissions / scheduler_seconds;
  figures.cycle_p50_ms = Percentile(cycle_ms, 0.5);
  figures.cycle_p99_ms = Percentile(cycle_ms, 0.99);
  figures.admissions_per_cpu_second = figures.admissions / scheduler_cpu_seconds;
  figures.cycle_cpu_p50_ms = Percentile(cycle_cpu_ms, 0.5);
  figures.cycle_cpu_p99_ms = Percentile(cycle_cpu_ms, 0.99);
  return figures;
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&arg](const char* name) -> const char* {
      const std::string prefix = absl::StrCat("--", name, "=");
      return absl::StartsWith(arg, prefix) ? arg.c_str() + prefix.size() : nullptr;
    };
    bool ok = true;
    if (arg == "--help") {
      std::printf(
          "schedule_bench: admissions/s and cycle time of the tower's admission scheduler with\n"
          "a flowing queue, against a naive re-sort of all pending jobs per cycle. Flags:\n"
          "  --jobs=10000 --squads=50 --cohorts=5 --admissions=50000 --repeats=5\n"
          "  --small: 1000 jobs, 10 squads, 2 cohorts, 3000 admissions, one repeat\n");
      std::exit(0);
    } else if (arg == "--small") {
      flags = Flags{1'000, 10, 2, 3'000, 1};
    } else if (const char* v = value("jobs")) {
      ok = absl::SimpleAtoi(v, &flags.jobs);
    } else if (const char* v = value("squads")) {
      ok = absl::SimpleAtoi(v, &flags.squads);
    } else if (const char* v = value("cohorts")) {
      ok = absl::SimpleAtoi(v, &flags.cohorts);
    } else if (const char* v = value("admissions")) {
      ok = absl::SimpleAtoi(v, &flags.admissions);
    } else if (const char* v = value("repeats")) {
      ok = absl::SimpleAtoi(v, &flags.repeats);
    } else {
      ok = false;
    }
    if (!ok || flags.jobs < 1 || flags.squads < 1 || flags.cohorts < 1 ||
        flags.cohorts > flags.squads || flags.admissions < 1 || flags.repeats < 1) {
      std::fprintf(stderr, "bad flag %s (see --help)\n", arg.c_str());
      std::exit(2);
    }
  }
  return flags;
}

void PrintRun(const char* name, int run, const Figures& f) {
  std::printf(
      "  %-10s run %d: wall %9.0f admissions/s, cycle p50 %.3f ms p99 %.3f ms; cpu %9.0f "
      "admissions/s, cycle p50 %.3f ms p99 %.3f ms (%lld admissions in %lld cycles, %lld "
      "preemptions)\n",
      name, run + 1, f.admissions_per_second, f.cycle_p50_ms, f.cycle_p99_ms,
      f.admissions_per_cpu_second, f.cycle_cpu_p50_ms, f.cycle_cpu_p99_ms,
      static_cast<long long>(f.admissions), static_cast<long long>(f.cycles),
      static_cast<long long>(f.preemptions));
  std::fflush(stdout);
}

int Main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  std::printf(
      "Admission scheduling: %d pending jobs over %d squads in %d cohorts (cpu, memory, gpu in "
      "two flavours), kept pending while %lld are admitted and finish; median of %d runs\n",
      flags.jobs, flags.squads, flags.cohorts, static_cast<long long>(flags.admissions),
      flags.repeats);
  std::vector<Figures> real, naive;
  for (int r = 0; r < flags.repeats; ++r) {
    const uint32_t seed = 1000 + r;
    real.push_back(RunOnce<RealSide>(flags, seed, "scheduler"));
    PrintRun("scheduler", r, real.back());
    naive.push_back(RunOnce<NaiveSide>(flags, seed, "naive"));
    PrintRun("naive", r, naive.back());
  }
  auto median = [](const std::vector<Figures>& runs, double Figures::*field) {
    std::vector<double> values;
    for (const Figures& f : runs) values.push_back(f.*field);
    return Median(values);
  };
  std::printf("\n%-34s %14s %12s %12s\n", "median of runs", "admissions/s", "cycle p50",
              "cycle p99");
  auto row = [&median](const char* label, const std::vector<Figures>& runs, double Figures::*rate,
                       double Figures::*p50, double Figures::*p99) {
    std::printf("%-34s %14.0f %9.3f ms %9.3f ms\n", label, median(runs, rate), median(runs, p50),
                median(runs, p99));
  };
  row("scheduler, wall time", real, &Figures::admissions_per_second, &Figures::cycle_p50_ms,
      &Figures::cycle_p99_ms);
  row("scheduler, thread CPU time", real, &Figures::admissions_per_cpu_second,
      &Figures::cycle_cpu_p50_ms, &Figures::cycle_cpu_p99_ms);
  row("naive re-sort, wall time", naive, &Figures::admissions_per_second, &Figures::cycle_p50_ms,
      &Figures::cycle_p99_ms);
  row("naive re-sort, thread CPU time", naive, &Figures::admissions_per_cpu_second,
      &Figures::cycle_cpu_p50_ms, &Figures::cycle_cpu_p99_ms);
  std::printf("%-34s %14s %12s %12s\n", "Kueue (published, not measured)", "~43", "-", "-");
  const double rate = median(real, &Figures::admissions_per_second);
  const double p99 = median(real, &Figures::cycle_p99_ms);
  std::printf(
      "goals (wall time): >= %.0f admissions/s %s (%.0fx Kueue's published figure); cycle "
      "p99 < %.0f ms %s\n",
      kGoalAdmissions, rate >= kGoalAdmissions ? "met" : "NOT MET", rate / kKueuePublished,
      kGoalCycleMs, p99 < kGoalCycleMs ? "met" : "NOT MET");
  std::printf(
      "checks passed: no double admission, usage equal to running jobs, no queue over "
      "quota\n");
  return 0;
}

}  // namespace
}  // namespace fabrique::bench

int main(int argc, char** argv) { return fabrique::bench::Main(argc, argv); }
