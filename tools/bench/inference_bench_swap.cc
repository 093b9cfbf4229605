// The swap phase: tabular50's production alias moved between two versions while an open-loop
// load runs, every answer naming the version that gave it.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <limits>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tools/bench/inference_bench_phases.h"

namespace fabrique::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
constexpr int kAfterSwap = 100;  // Requests after a move whose latency is compared.

// The first answer from each version since it was last reset, in seconds of the load's clock
// (which starts when the load does); fed from gRPC's threads.
class FirstAnswers {
 public:
  void Reset(int64_t version) { first_[Slot(version)].store(kUnseen); }
  void Saw(const Sample& sample) {
    if (!sample.ok) return;
    double unseen = kUnseen;
    first_[Slot(sample.version)].compare_exchange_strong(unseen, sample.answered_s);
  }
  // When `version` first answered since its reset; negative while it has not.
  double First(int64_t version) const { return first_[Slot(version)].load(); }

 private:
  static constexpr double kUnseen = -1;
  static size_t Slot(int64_t version) { return version >= 0 && version < 8 ? version : 0; }
  std::atomic<double> first_[8] = {};
};

// What the moves saw: when each observed move was made (seconds of the load's clock), how long
// until the new version answered, the server's memory after it, and the moves never observed.
struct Moves {
  std::vector<double> at;
  std::vector<double> swap_ms;
  std::vector<double> rss_mib;
  int unobserved = 0;
};

// Moves tabular50's production alias `count` times between versions 1 and 2, each time waiting
// (up to 60 s) for the new version's first answer, then `dwell`, then reading the server's
// memory. `now_s` is the load's clock.
Moves MoveAlias(Bench& bench, FirstAnswers& first, int count, absl::Duration dwell,
                const std::function<double()>& now_s) {
  Moves moves;
  int64_t serving = 1;
  for (int k = 0; k < count; ++k) {
    const int64_t to = serving == 1 ? 2 : 1;
    first.Reset(to);
    const double at = now_s();
    bench.stack->SetProduction("tabular50", to);
    const Clock::time_point deadline = Clock::now() + std::chrono::seconds(60);
    while (first.First(to) < 0 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (first.First(to) < 0) {
      ++moves.unobserved;
      std::printf("  move %d to version %lld: no answer from it within 60 s\n", k + 1,
                  static_cast<long long>(to));
      continue;
    }
    moves.at.push_back(at);
    moves.swap_ms.push_back((first.First(to) - at) * 1000);
    serving = to;
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(dwell));
    moves.rss_mib.push_back(bench.stack->InferenceRssMib());
    std::printf("  move %2d to version %lld: first answer after %.1f ms; server RSS %.1f MiB\n",
                k + 1, static_cast<long long>(to), moves.swap_ms.back(), moves.rss_mib.back());
  }
  return moves;
}

// Checks and summarises the run: failures, move latency, the first requests after each move
// against the steady ones due in [steady_from, first move), memory growth.
void Summarise(Bench& bench, const LoadRun& run, const Moves& moves, double steady_from) {
  std::vector<double> steady_ms;
  const double first_move = moves.at.empty() ? 1e18 : moves.at.front();
  for (const Sample& s : run.samples) {
    if (s.ok && s.due_s >= steady_from && s.due_s < first_move) steady_ms.push_back(s.latency_ms);
  }
  // The first requests due from each moment on, a failure counting as the slowest.
  const auto first_after = [&](const std::vector<double>& moments) {
    std::vector<double> ms;
    for (double at : moments) {
      int taken = 0;
      for (const Sample& s : run.samples) {
        if (s.due_s < at) continue;
        if (taken++ == kAfterSwap) break;
        ms.push_back(s.ok ? s.latency_ms : 1e9);
      }
    }
    return ms;
  };
  // From the alias move: they share the two cores with the registry's write and the new
  // version's download, load and warm-up beside the old one. From the switch (the new version's
  // first answer): what warm-up is for, the new version's first requests.
  std::vector<double> switched_at;
  for (size_t i = 0; i < moves.at.size(); ++i) {
    switched_at.push_back(moves.at[i] + moves.swap_ms[i] / 1000);
  }
  const double steady_p99 = Percentile(steady_ms, 99);
  const double after_p99 = Percentile(first_after(moves.at), 99);
  const double switched_p99 = Percentile(first_after(switched_at), 99);
  const double swap_p99 = Percentile(moves.swap_ms, 99);
  const std::vector<double>& rss = moves.rss_mib;
  std::printf(
      "  %lld requests, %lld failed; steady p99 %.3f ms, first %d after each move p99 "
      "%.3f ms, after each switch p99 %.3f ms\n",
      static_cast<long long>(run.samples.size()), static_cast<long long>(run.failed), steady_p99,
      kAfterSwap, after_p99, switched_p99);
  bench.Require(run.failed == 0 && run.wrong == 0,
                absl::StrCat("swap: ", run.failed, " failed and ", run.wrong,
                             " wrong answers; the first: ", run.first_problem));
  bench.Require(moves.unobserved == 0,
                absl::StrCat("swap: ", moves.unobserved, " moves never observed"));
  bench.Require(!rss.empty() && rss.front() > 0 && rss.back() > 0,
                "swap: the server's resident memory could not be read");
  const double moved = static_cast<double>(moves.at.size());
  bench.summary.push_back(
      {"swap: failed requests", static_cast<double>(run.failed), kNone, "", "0", run.failed == 0});
  bench.summary.push_back({"swap: moves observed", moved, moved + moves.unobserved, "moves made",
                           "all", moves.unobserved == 0});
  bench.summary.push_back(
      {"swap: move -> new version p50 (ms)", Percentile(moves.swap_ms, 50), kNone, "", "", true});
  bench.summary.push_back(
      {"swap: move -> new version p99 (ms)", swap_p99, kNone, "", "< 1000 ms", swap_p99 < 1000});
  bench.summary.push_back(
      {absl::StrCat("swap: p99 of the first ", kAfterSwap, " requests after a switch (ms)"),
       switched_p99, steady_p99, "steady p99", "<= 2x", switched_p99 <= 2 * steady_p99});
  bench.summary.push_back(
      {absl::StrCat("swap: p99 of the first ", kAfterSwap, " requests after a move (ms)"),
       after_p99, steady_p99, "steady p99", "", true});
  if (!rss.empty()) {
    bench.summary.push_back({absl::StrCat("swap: server RSS after move ", rss.size(), " (MiB)"),
                             rss.back(), rss.front(), "after move 1", "< 1.05x",
                             rss.back() < 1.05 * rss.front()});
  }
}

}  // namespace

void RunSwap(Bench& bench) {
  const BenchFlags& flags = bench.flags;
  const double rate = bench.HalfLoad("tabular50");
  // Long enough for 100 requests after each move, and for the old version to drain.
  const absl::Duration dwell = std::max(flags.small ? absl::Milliseconds(300) : absl::Seconds(1),
                                        absl::Seconds(1.5 * kAfterSwap / rate));
  const absl::Duration steady = flags.small ? absl::Milliseconds(500) : absl::Seconds(3);
  std::printf(
      "\nSwap: tabular50's production moved %d times between versions 1 and 2 at %.0f "
      "rows/s\n",
      flags.swaps, rate);
  FirstAnswers first;
  for (int64_t v : {0, 1, 2}) first.Reset(v);
  LoadTarget target = bench.Target(bench.models.at("tabular50"), bench.stack->inference().target());
  target.on_answer = [&first](const Sample& sample) { first.Saw(sample); };
  std::atomic<bool> stop{false};
  LoadRun run;
  const Clock::time_point base = Clock::now();
  std::thread load([&] { run = OpenLoop(target, rate, absl::Hours(1), &stop); });
  std::this_thread::sleep_for(absl::ToChronoNanoseconds(steady));
  const Moves moves = MoveAlias(bench, first, flags.swaps, dwell, [base] {
    return std::chrono::duration<double>(Clock::now() - base).count();
  });
  stop = true;
  load.join();
  // Steady: the requests due before the first move, past the first 10% (connections warming).
  Summarise(bench, run, moves, absl::ToDoubleSeconds(steady) / 10);
}

}  // namespace fabrique::bench
