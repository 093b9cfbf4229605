// The batching, latency and python phases: rows/s under closed-loop load against LibTorch's
// forward in this process, latency at half that load, and the same two measures of the Python
// baseline server.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tools/bench/inference_bench_phases.h"

namespace fabrique::bench {
namespace {

constexpr double kNone = std::numeric_limits<double>::quiet_NaN();

// Sends a short closed-loop run first, so connections, the batcher and the module are warm.
void WarmUp(const LoadTarget& target, const BenchFlags& flags) {
  ClosedLoop(target, flags.clients, flags.small ? absl::Milliseconds(200) : absl::Seconds(1));
}

// Checks that `run` had no failure and no wrong answer, naming `what`.
void CheckRun(Bench& bench, const LoadRun& run, const std::string& what) {
  bench.Require(run.failed == 0 && run.wrong == 0,
                absl::StrCat(what, ": ", run.failed, " failed and ", run.wrong,
                             " wrong answers; the first: ", run.first_problem));
  bench.Require(run.answered > 0, absl::StrCat(what, ": no answer at all"));
}

}  // namespace

void RunBatching(Bench& bench) {
  const BenchFlags& flags = bench.flags;
  std::printf("\nBatching: %d closed-loop clients, 1-row ModelInfer, %s per run\n", flags.clients,
              absl::FormatDuration(flags.duration).c_str());
  for (auto& [name, model] : bench.models) {
    const LoadTarget target = bench.Target(model, bench.stack->inference().target());
    WarmUp(target, flags);
    std::vector<double> served, local, batches;
    for (int r = 0; r < flags.repeats; ++r) {
      const std::string label = absl::StrCat("model=\"", name, "\"");
      const auto before = bench.stack->ScrapeInferenceMetrics();
      const double server_cpu = bench.stack->InferenceCpuSeconds(), own_cpu = OwnCpuSeconds();
      const LoadRun run = ClosedLoop(target, flags.clients, flags.duration);
      // Cores used by the server and by the clients: on a small machine they share them.
      const double server_cores = (bench.stack->InferenceCpuSeconds() - server_cpu) / run.seconds;
      const double client_cores = (OwnCpuSeconds() - own_cpu) / run.seconds;
      const auto after = bench.stack->ScrapeInferenceMetrics();
      CheckRun(bench, run, absl::StrCat("batching ", name));
      const double rows = SumSeries(after, "fabrique_inference_batch_rows_sum", label) -
                          SumSeries(before, "fabrique_inference_batch_rows_sum", label);
      const double requests = SumSeries(after, "fabrique_inference_batch_rows_count", label) -
                              SumSeries(before, "fabrique_inference_batch_rows_count", label);
      const double mean_batch = requests > 0 ? rows / requests : 1;
      bench.Require(requests > 0, absl::StrCat("batching ", name, ": no batch in the metrics"));
      // The baseline at the batch size the batcher chose, with the server's threads.
      const int batch = std::clamp(static_cast<int>(std::lround(mean_batch)), 1,
                                   static_cast<int>(model.rows.rows));
      absl::StatusOr<serving::TensorBatch> rows_in = serving::SliceRows(model.rows, 0, batch);
      CheckOk(rows_in.status(), "slicing rows");
      const double in_process =
          InProcessRowsPerSecond(*model.local.at(1), *rows_in, flags.instances, flags.duration);
      served.push_back(run.RowsPerSecond());
      local.push_back(in_process);
      batches.push_back(mean_batch);
      std::printf(
          "  repeat %d, %-9s %9.0f rows/s served, mean batch %5.2f rows, server %.2f cores, "
          "clients %.2f cores; LibTorch in process at batch %d: %9.0f rows/s (%.2fx)\n",
          r + 1, name.c_str(), run.RowsPerSecond(), mean_batch, server_cores, client_cores, batch,
          in_process, run.RowsPerSecond() / in_process);
      std::fflush(stdout);
    }
    const double a = Median(served), b = Median(local);
    bench.max_rows_per_s[name] = a;
    bench.summary.push_back(
        {absl::StrCat("batching: ", name, " rows/s, ", flags.clients, " clients"), a, b,
         "LibTorch in process", ">= 0.9x", a / b >= 0.9});
    bench.summary.push_back({absl::StrCat("batching: ", name, " mean batch (rows)"),
                             Median(batches), kNone, "", "", true});
  }
}

void RunLatency(Bench& bench) {
  const BenchFlags& flags = bench.flags;
  std::printf("\nLatency: open loop at half of the batching phase's rows/s, 1-row ModelInfer\n");
  for (auto& [name, model] : bench.models) {
    const LoadTarget target = bench.Target(model, bench.stack->inference().target());
    const double rate = bench.HalfLoad(name);
    std::vector<double> p50, p99;
    for (int r = 0; r < flags.repeats; ++r) {
      const LoadRun run = OpenLoop(target, rate, flags.duration);
      CheckRun(bench, run, absl::StrCat("latency ", name));
      p50.push_back(run.LatencyMs(50));
      p99.push_back(run.LatencyMs(99));
      std::printf("  repeat %d, %-9s at %7.0f rows/s: p50 %.3f ms, p99 %.3f ms\n", r + 1,
                  name.c_str(), rate, p50.back(), p99.back());
      std::fflush(stdout);
    }
    const std::string at = absl::StrFormat(" at %.0f rows/s", rate);
    const std::string phase = "latency: ";
    bench.summary.push_back({phase + name + " p50 (ms)" + at, Median(p50), kNone, "", "", true});
    const bool tabular = name == "tabular50";
    bench.summary.push_back({phase + name + " p99 (ms)" + at, Median(p99), kNone, "",
                             tabular ? "< 2 ms" : "", !tabular || Median(p99) < 2});
  }
}

void RunPython(Bench& bench) {
  const BenchFlags& flags = bench.flags;
  std::printf(
      "\nPython baseline: grpcio + torch.jit.load (%s), the same clients and load; torch threads "
      "%d, %d gRPC workers\n",
      bench.stack->security().insecure() ? "plaintext" : "TLS, no token check",
      flags.instances * flags.intra_op_threads, flags.clients);
  for (auto& [name, model] : bench.models) {
    PythonServer::Options options;
    options.source_dir = flags.source_dir;
    options.dir = absl::StrCat(flags.data_dir, "/python-", name);
    options.model = name;
    options.module = model.module_paths.at(1);
    options.threads = flags.instances * flags.intra_op_threads;
    options.workers = flags.clients;
    auto python =
        PythonServer::Start(options, bench.stack->security(), AuthorityDir(flags.data_dir));
    LoadTarget theirs = bench.Target(model, python->target());
    LoadTarget ours = bench.Target(model, bench.stack->inference().target());
    // A server that cannot keep up is charged the queue it builds, not a deadline: at a tenth
    // of the offered load it drains a run's queue in ten runs' time.
    theirs.timeout = ours.timeout = std::max(absl::Minutes(2), 10 * flags.duration);
    WarmUp(theirs, flags);
    const double rate = bench.HalfLoad(name);
    std::vector<double> our_rate, their_rate, our_p99, their_p99;
    for (int r = 0; r < flags.repeats; ++r) {
      // Fabrique first, then Python, then a pause: a Python server that has just been
      // overloaded goes on using the cores for a while, which would be charged to the next run.
      const LoadRun our_closed = ClosedLoop(ours, flags.clients, flags.duration);
      const LoadRun our_open = OpenLoop(ours, rate, flags.duration);
      const LoadRun their_closed = ClosedLoop(theirs, flags.clients, flags.duration);
      const LoadRun their_open = OpenLoop(theirs, rate, flags.duration);
      absl::SleepFor(flags.small ? absl::Milliseconds(200) : absl::Seconds(2));
      CheckRun(bench, our_closed, absl::StrCat("python phase, Fabrique ", name));
      CheckRun(bench, our_open, absl::StrCat("python phase, Fabrique open loop ", name));
      CheckRun(bench, their_closed, absl::StrCat("python phase, Python ", name));
      CheckRun(bench, their_open, absl::StrCat("python phase, Python open loop ", name));
      our_rate.push_back(our_closed.RowsPerSecond());
      their_rate.push_back(their_closed.RowsPerSecond());
      our_p99.push_back(our_open.LatencyMs(99));
      their_p99.push_back(their_open.LatencyMs(99));
      std::printf(
          "  repeat %d, %-9s rows/s: Fabrique %9.0f, Python %8.0f (%.1fx); p99 at %.0f rows/s: "
          "Fabrique %.3f ms, Python %.3f ms\n",
          r + 1, name.c_str(), our_rate.back(), their_rate.back(),
          our_rate.back() / their_rate.back(), rate, our_p99.back(), their_p99.back());
      std::fflush(stdout);
    }
    const double a = Median(our_rate), b = Median(their_rate);
    bench.summary.push_back({absl::StrCat("python: ", name, " rows/s, ", flags.clients, " clients"),
                             a, b, "Python grpcio", ">= 5x", a / b >= 5});
    const double p = Median(our_p99), q = Median(their_p99);
    bench.summary.push_back({absl::StrFormat("python: %s p99 (ms) at %.0f rows/s", name, rate), p,
                             q, "Python grpcio", "<= 1x", p <= q});
  }
}

}  // namespace fabrique::bench
