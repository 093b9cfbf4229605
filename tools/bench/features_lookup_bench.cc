// Online lookup over gRPC on loopback, against Redis in the same run: the real
// fabrique-features binary and a redis-server of its own both hold --entities entities x
// --features float features of one group; both are asked for the same random entities, 1 and 100
// per lookup, by one sequential client (p50, p99) and by --threads concurrent clients
// (lookups/s). The same lookups go, in the same run, over LookupOnlineStream (one stream per
// client, opened once, one request in flight), as an inference server issuing many small lookups
// would call. Every figure is the median of --repeats runs, printed beside Redis's with the
// ratio and the target. Fabrique is served and called as a deployment does: mutual-TLS-capable
// TLS from a local authority, and a bearer token (JWT) on every call, checked against the policy.
//
// In the same run, the cost of that security: a second fabrique-features started with
// --insecure (plaintext, no authentication) holds the same data, and both are measured alike at
// 1 entity per lookup (p50, p99, lookups/s), plus the time a new connection takes to its first
// answer (a fresh channel with connections of its own: TCP, TLS handshake, token check, lookup)
// over --handshakes new connections per repeat; printed side by side with the goal (at most 10%
// slower).
//
//   features_lookup_bench [--entities=1000000] [--repeats=3] [--threads=4] [--perf_dir=DIR]
//                         [--stream=true] [--security=true] [--small]
//
// Every 25th sequential answer (every one with --small) and every 1000th concurrent one (every
// 40th) is checked against the stored values, on every system; a wrong answer exits 1.
// --small: 10,000 entities, 200 timed lookups after 50, 2 clients for 0.5 s, one repeat: the
// checks alone, in seconds (tools/bench/run_small).
//
// --perf_dir records `perf record` (with call graphs) of the server and of this client during one
// more throughput run per size, of LookupOnlineStream and of the --insecure server at 1 entity,
// for the profiles that explain a missed goal.

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "fabrique/v1/features.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "libs/core/flags.h"
#include "tools/bench/bench_support.h"
#include "tools/bench/lookup_clients.h"
#include "tools/bench/redis_baseline.h"

namespace fabrique::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct Flags {
  int64_t entities = 1'000'000;
  int features = 50;
  int lookups = 5000;  // Timed sequential lookups per size.
  int warmup = 500;    // Untimed sequential lookups before them.
  int threads = 4;
  absl::Duration duration = absl::Seconds(3);  // Of each throughput run.
  int repeats = 3;
  int batch_rows = 10'000;
  int lookup_threads = 0;     // Passed to fabrique-features; 0 = its default (one per core).
  int online_cache_mib = -1;  // Passed to fabrique-features; -1 = its default.
  std::string data_dir = "/tmp/features_lookup_bench";
  std::string redis_server = "/usr/bin/redis-server";
  std::string redis_flags;  // Extra redis-server flags, space-separated.
  std::string perf_dir;
  int perf_seconds = 5;
  // Our binaries are built without frame pointers, so "fp" stacks stop at the first library
  // frame; DWARF unwinding costs bigger files but attributes malloc and gRPC to their callers.
  std::string perf_call_graph = "dwarf,16384";
  int verify_every = 25;  // Sequential lookups per checked one; concurrent: 40 times as many.
  int handshakes = 200;   // New connections timed per repeat and mode (security comparison).
  bool small = false;
  bool security = true;  // Whether to run the security comparison.
  bool stream = true;    // Whether to measure LookupOnlineStream.
  // Whether every entity the measurements will read is read once, untimed, by each system first:
  // a working set already in memory, as in Redis, instead of cold caches.
  bool prewarm = false;
};

// The --small sizes: every check, few figures.
void MakeSmall(Flags* flags) {
  flags->entities = 10'000;
  flags->lookups = 200;
  flags->warmup = 50;
  flags->threads = 2;
  flags->duration = absl::Milliseconds(500);
  flags->repeats = 1;
  flags->verify_every = 1;
  flags->handshakes = 20;
}

// One run's figures for one lookup size and one system.
struct Figures {
  double p50_ms = 0;
  double p99_ms = 0;
  double lookups_per_s = 0;
  double server_cpu_us = 0;  // Server CPU per lookup during the throughput run.
};

// CPU seconds (user + system) used so far by process `pid`.
double ProcessCpuSeconds(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');  // The command name may hold spaces.
  if (close == std::string::npos) return 0;
  std::vector<std::string> fields;
  size_t at = close + 2;
  while (at < text.size() && fields.size() < 13) {
    const size_t end = text.find(' ', at);
    fields.push_back(text.substr(at, end - at));
    at = end == std::string::npos ? text.size() : end + 1;
  }
  if (fields.size() < 13) return 0;  // utime and stime are fields 14 and 15 of the line.
  return (std::stod(fields[11]) + std::stod(fields[12])) / sysconf(_SC_CLK_TCK);
}

// The service's Prometheus metrics at `port`, summed over labels except `family`, which stays in
// the name ("fabrique_features_live_data_bytes{family=\"online\"}" is its own entry).
std::map<std::string, double> ScrapeMetrics(int port) {
  absl::StatusOr<std::string> text = RunAndCapture(
      {"curl", "-s", "--max-time", "5", absl::StrCat("http://127.0.0.1:", port, "/metrics")});
  CheckOk(text.status(), "scraping the service's metrics");
  std::map<std::string, double> metrics;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    double value = 0;
    if (space == absl::string_view::npos || !absl::SimpleAtod(line.substr(space + 1), &value)) {
      continue;
    }
    absl::string_view series = line.substr(0, space);
    const size_t brace = series.find('{');
    metrics[std::string(series.substr(0, brace))] += value;
    if (absl::StrContains(series, "family=")) metrics[std::string(series)] += value;
  }
  return metrics;
}

// The metric `name` of `metrics`, 0 when absent.
double MetricOr0(const std::map<std::string, double>& metrics, const std::string& name) {
  const auto it = metrics.find(name);
  return it == metrics.end() ? 0 : it->second;
}

// Waits (up to 5 minutes) until RocksDB owes no compaction and the server is idle, so that the
// measurements neither compete with a compaction for the cores nor read a half-compacted tree.
void WaitUntilSettled(int metrics_port, pid_t server) {
  const SteadyClock::time_point start = SteadyClock::now();
  double pending = 0;
  double busy = 0;
  do {
    const double cpu = ProcessCpuSeconds(server);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    busy = ProcessCpuSeconds(server) - cpu;  // Cores used over that second.
    pending = MetricOr0(ScrapeMetrics(metrics_port), "fabrique_features_pending_compaction_bytes");
  } while ((pending > 0 || busy > 0.05) && SteadyClock::now() - start < std::chrono::minutes(5));
  const std::map<std::string, double> metrics = ScrapeMetrics(metrics_port);
  std::printf(
      "  settled after %.0f s: %.0f bytes of compaction pending, server at %.2f cores; "
      "live data: online %.0f MiB, history %.0f MiB\n",
      std::chrono::duration<double>(SteadyClock::now() - start).count(), pending, busy,
      MetricOr0(metrics, "fabrique_features_live_data_bytes{family=\"online\"}") / (1 << 20),
      MetricOr0(metrics, "fabrique_features_live_data_bytes{family=\"history\"}") / (1 << 20));
}

// Times `lookups` sequential lookups of `n` entities after `warmup` untimed ones, the entities
// taken in order from `sequence`; every 25th answer is checked outside the timed part.
void MeasureLatency(LookupClient& client, const std::vector<int32_t>& sequence, int n,
                    const Flags& flags, Figures* figures) {
  std::vector<double> micros;
  micros.reserve(flags.lookups);
  const size_t batches = sequence.size() / n;
  for (int i = 0; i < flags.warmup + flags.lookups; ++i) {
    const absl::Span<const int32_t> entities(&sequence[(i % batches) * n], n);
    const SteadyClock::time_point start = SteadyClock::now();
    CheckOk(client.Lookup(entities), "lookup");
    const double elapsed =
        std::chrono::duration<double, std::micro>(SteadyClock::now() - start).count();
    if (i >= flags.warmup) micros.push_back(elapsed);
    if (i % flags.verify_every == 0) CheckOk(client.Verify(entities), "checking a lookup's values");
  }
  figures->p50_ms = Percentile(micros, 50) / 1000;
  figures->p99_ms = Percentile(micros, 99) / 1000;
}

// Runs --threads clients, each with its own connection, for --duration; counts lookups and the
// server's CPU time over the run. Each client starts at its own place in `sequence`.
void MeasureThroughput(const ClientFactory& connect, pid_t server,
                       const std::vector<int32_t>& sequence, int n, const Flags& flags,
                       Figures* figures) {
  std::vector<std::unique_ptr<LookupClient>> clients;
  for (int t = 0; t < flags.threads; ++t) clients.push_back(connect());
  const size_t batches = sequence.size() / n;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> total{0};
  std::vector<std::thread> threads;
  const double cpu_before = ProcessCpuSeconds(server);
  const SteadyClock::time_point start = SteadyClock::now();
  for (int t = 0; t < flags.threads; ++t) {
    threads.emplace_back([&, t] {
      int64_t done = 0;
      for (size_t i = t * batches / flags.threads; !stop.load(std::memory_order_relaxed); ++i) {
        const absl::Span<const int32_t> entities(&sequence[(i % batches) * n], n);
        CheckOk(clients[t]->Lookup(entities), "lookup");
        if (done++ % (40 * flags.verify_every) == 0) {
          CheckOk(clients[t]->Verify(entities), "checking a lookup");
        }
      }
      total.fetch_add(done);
    });
  }
  std::this_thread::sleep_for(absl::ToChronoNanoseconds(flags.duration));
  stop = true;
  for (std::thread& thread : threads) thread.join();
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  figures->lookups_per_s = total.load() / seconds;
  figures->server_cpu_us = (ProcessCpuSeconds(server) - cpu_before) * 1e6 / total.load();
}

// Median of one field over the repeats.
double MedianOf(const std::vector<Figures>& runs, double Figures::*field) {
  std::vector<double> values;
  for (const Figures& run : runs) values.push_back(run.*field);
  return Median(values);
}

// What a row of the table is held to.
enum class Goal { kNone, kBelowMs, kAtLeastRatio, kAtMostRatio };

// One row: the measured value, its baseline's, their ratio, and the goal, which a ratio goal
// states against `baseline`.
void PrintRow(const std::string& label, double fabrique, double redis, Goal goal = Goal::kNone,
              double target = 0, const char* baseline = "Redis") {
  const double ratio = redis > 0 ? fabrique / redis : 0;
  std::string goal_text = "-";
  std::string met = "-";
  if (goal == Goal::kBelowMs) {
    goal_text = absl::StrCat("< ", target, " ms");
    met = fabrique < target ? "yes" : "NO";
  } else if (goal == Goal::kAtLeastRatio) {
    goal_text = absl::StrCat(">= ", target, "x ", baseline);
    met = ratio >= target ? "yes" : "NO";
  } else if (goal == Goal::kAtMostRatio) {
    goal_text = absl::StrCat("<= ", target, "x ", baseline);
    met = ratio <= target ? "yes" : "NO";
  }
  std::printf("%-36s %12.4g %12.4g %8.2fx   %-16s %s\n", label.c_str(), fabrique, redis, ratio,
              goal_text.c_str(), met.c_str());
}

// The systems under test as the measurements see them: Fabrique (LookupOnline), Redis and
// Fabrique's LookupOnlineStream, or Fabrique over TLS with tokens and Fabrique --insecure.
struct Systems {
  std::vector<ClientFactory> connect;
  std::vector<pid_t> server;
  std::vector<const char*> names;
  int size() const { return static_cast<int>(connect.size()); }
};
// runs[size][system]: one Figures per repeat.
using Runs = std::vector<std::vector<std::vector<Figures>>>;

// Reads every entity of `sequence` once through each system, 100 a lookup, untimed.
void Prewarm(const Systems& systems, const std::vector<int32_t>& sequence) {
  for (int system = 0; system < systems.size(); ++system) {
    const SteadyClock::time_point start = SteadyClock::now();
    std::unique_ptr<LookupClient> client = systems.connect[system]();
    for (size_t i = 0; i + 100 <= sequence.size(); i += 100) {
      CheckOk(client->Lookup(absl::Span<const int32_t>(&sequence[i], 100)), "prewarm lookup");
    }
    std::printf("  prewarm: %s read the %zu entities of the sequence in %.1f s\n",
                systems.names[system], sequence.size(),
                std::chrono::duration<double>(SteadyClock::now() - start).count());
  }
}

// Measures both systems at every size, --repeats times, printing each repeat's figures.
Runs MeasureAll(const Systems& systems, const std::vector<int>& sizes,
                const std::vector<int32_t>& sequence, const Flags& flags) {
  const int count = systems.size();
  Runs runs(sizes.size(), std::vector<std::vector<Figures>>(count));
  for (auto& by_system : runs) {
    for (auto& repeats : by_system) repeats.resize(flags.repeats);
  }
  for (int repeat = 0; repeat < flags.repeats; ++repeat) {
    for (size_t s = 0; s < sizes.size(); ++s) {
      // Alternating which system goes first spreads slow drifts of the machine over both.
      for (int k = 0; k < count; ++k) {
        const int system = (repeat + k) % count;
        Figures& figures = runs[s][system][repeat];
        MeasureLatency(*systems.connect[system](), sequence, sizes[s], flags, &figures);
        MeasureThroughput(systems.connect[system], systems.server[system], sequence, sizes[s],
                          flags, &figures);
      }
      for (int system = 0; system < count; ++system) {
        const Figures& f = runs[s][system][repeat];
        std::printf(
            "  repeat %d, %3d entities, %-22s p50 %.3f ms  p99 %.3f ms  %8.0f lookups/s"
            "  server CPU %.1f us/lookup\n",
            repeat + 1, sizes[s], systems.names[system], f.p50_ms, f.p99_ms, f.lookups_per_s,
            f.server_cpu_us);
      }
    }
  }
  return runs;
}

// Prints the medians of `runs` beside each other, with the targets: LookupOnline (system 0)
// against Redis (1), held to the goals, then LookupOnlineStream (2) against Redis.
void PrintTable(const std::vector<int>& sizes, const Runs& runs) {
  std::printf("%-36s %12s %12s %9s   %-16s %s\n", "", "Fabrique", "Redis", "ratio", "goal", "met?");
  for (size_t s = 0; s < sizes.size(); ++s) {
    const auto& fabrique = runs[s][0];
    const auto& redis = runs[s][1];
    const std::string label = sizes[s] == 1 ? "1 entity" : absl::StrCat(sizes[s], " entities");
    PrintRow(label + " p50 (ms)", MedianOf(fabrique, &Figures::p50_ms),
             MedianOf(redis, &Figures::p50_ms));
    PrintRow(label + " p99 (ms)", MedianOf(fabrique, &Figures::p99_ms),
             MedianOf(redis, &Figures::p99_ms), Goal::kBelowMs, sizes[s] == 1 ? 0.3 : 1.0);
    PrintRow(label + " lookups/s", MedianOf(fabrique, &Figures::lookups_per_s),
             MedianOf(redis, &Figures::lookups_per_s), Goal::kAtLeastRatio, 0.5);
    PrintRow(label + " server CPU/lookup (us)", MedianOf(fabrique, &Figures::server_cpu_us),
             MedianOf(redis, &Figures::server_cpu_us));
    if (runs[s].size() < 3) continue;  // --stream=false.
    const auto& stream = runs[s][2];
    PrintRow(label + " stream p50 (ms)", MedianOf(stream, &Figures::p50_ms),
             MedianOf(redis, &Figures::p50_ms));
    PrintRow(label + " stream p99 (ms)", MedianOf(stream, &Figures::p99_ms),
             MedianOf(redis, &Figures::p99_ms));
    PrintRow(label + " stream lookups/s", MedianOf(stream, &Figures::lookups_per_s),
             MedianOf(redis, &Figures::lookups_per_s));
    PrintRow(label + " stream CPU/lookup (us)", MedianOf(stream, &Figures::server_cpu_us),
             MedianOf(redis, &Figures::server_cpu_us));
  }
}

// Milliseconds from making a fresh channel (connections of its own) to the first answer of a
// 1-entity lookup over it, for each of `count` new connections: connect, handshake, the token's
// first check, the lookup.
std::vector<double> TimeNewConnections(const ClientFactory& connect,
                                       const std::vector<int32_t>& sequence, int count) {
  std::vector<double> millis;
  for (int i = 0; i < count; ++i) {
    const absl::Span<const int32_t> entity(&sequence[i % sequence.size()], 1);
    const SteadyClock::time_point start = SteadyClock::now();
    std::unique_ptr<LookupClient> client = connect();
    CheckOk(client->Lookup(entity), "a new connection's first lookup");
    millis.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count());
    CheckOk(client->Verify(entity), "checking a new connection's first lookup");
  }
  return millis;
}

// The security comparison: `systems` are Fabrique over TLS with tokens (0) and --insecure (1).
// Measures both alike at 1 entity per lookup and the new-connection time, --repeats times
// (alternating which goes first), and prints the medians side by side.
void CompareSecurity(const Systems& systems, const std::vector<int32_t>& sequence,
                     const Flags& flags) {
  std::printf("\nSecurity: the same lookups over TLS + token and over --insecure...\n");
  const Runs runs = MeasureAll(systems, {1}, sequence, flags);
  std::array<std::vector<double>, 2> connect_p50, connect_p99;
  for (int repeat = 0; repeat < flags.repeats; ++repeat) {
    for (int k = 0; k < 2; ++k) {
      const int system = (repeat + k) % 2;
      const std::vector<double> millis =
          TimeNewConnections(systems.connect[system], sequence, flags.handshakes);
      connect_p50[system].push_back(Percentile(millis, 50));
      connect_p99[system].push_back(Percentile(millis, 99));
      std::printf("  repeat %d, %-22s %d new connections: p50 %.3f ms  p99 %.3f ms\n", repeat + 1,
                  systems.names[system], flags.handshakes, connect_p50[system].back(),
                  connect_p99[system].back());
    }
  }
  const auto& secure = runs[0][0];
  const auto& plain = runs[0][1];
  std::printf(
      "\nThe cost of security, 1 entity per lookup (medians of %d repeats): fabrique-features "
      "with TLS\n(a local authority's certificate) and a bearer JWT checked on every call against "
      "the policy, against\nthe same binary and data with --insecure (plaintext, no "
      "authentication).\n\n",
      flags.repeats);
  std::printf("%-36s %12s %12s %9s   %-16s %s\n", "", "TLS+token", "insecure", "ratio", "goal",
              "met?");
  constexpr char kPlain[] = "insecure";
  PrintRow("1 entity p50 (ms)", MedianOf(secure, &Figures::p50_ms),
           MedianOf(plain, &Figures::p50_ms), Goal::kAtMostRatio, 1.1, kPlain);
  PrintRow("1 entity p99 (ms)", MedianOf(secure, &Figures::p99_ms),
           MedianOf(plain, &Figures::p99_ms), Goal::kAtMostRatio, 1.1, kPlain);
  PrintRow("1 entity lookups/s", MedianOf(secure, &Figures::lookups_per_s),
           MedianOf(plain, &Figures::lookups_per_s), Goal::kAtLeastRatio, 0.9, kPlain);
  PrintRow("1 entity server CPU/lookup (us)", MedianOf(secure, &Figures::server_cpu_us),
           MedianOf(plain, &Figures::server_cpu_us));
  PrintRow("new connection to 1st answer p50 (ms)", Median(connect_p50[0]), Median(connect_p50[1]));
  PrintRow("new connection to 1st answer p99 (ms)", Median(connect_p99[0]), Median(connect_p99[1]));
}

// Starts `perf record` with call graphs on `pid` for --perf_seconds, into DIR/NAME.data.
std::unique_ptr<cli::ChildProcess> StartPerf(pid_t pid, const std::string& name,
                                             const Flags& flags) {
  const std::string out = absl::StrCat(flags.perf_dir, "/", name, ".data");
  auto perf = cli::ChildProcess::Spawn(
      {"/usr/bin/perf", "record", "--call-graph", flags.perf_call_graph, "-p", std::to_string(pid),
       "-o", out, "--", "sleep", std::to_string(flags.perf_seconds)},
      absl::StrCat(flags.perf_dir, "/", name, ".log"));
  CheckOk(perf.status(), "starting perf");
  return *std::move(perf);
}

// Records perf profiles of system `system`'s server and of this client during one more
// throughput run per size, into DIR/<label>-server-N.data and DIR/<label>-client-N.data.
void Profile(const Systems& systems, int system, const std::string& label,
             const std::vector<int>& sizes, const std::vector<int32_t>& sequence,
             const Flags& flags) {
  std::filesystem::create_directories(flags.perf_dir);
  for (const int n : sizes) {
    const std::string name = absl::StrCat("-", n);
    std::printf("Profiling %s, a %d-entity throughput run, into %s ...\n", systems.names[system], n,
                flags.perf_dir.c_str());
    auto server_perf = StartPerf(systems.server[system], label + "-server" + name, flags);
    auto client_perf = StartPerf(getpid(), label + "-client" + name, flags);
    Flags profiled = flags;
    profiled.duration = absl::Seconds(flags.perf_seconds + 1);
    Figures figures;
    MeasureThroughput(systems.connect[system], systems.server[system], sequence, n, profiled,
                      &figures);
    server_perf->Wait(absl::Seconds(60));
    client_perf->Wait(absl::Seconds(60));
    std::printf("  profiled run: %.0f lookups/s; perf report -i %s/%s-server%s.data\n",
                figures.lookups_per_s, flags.perf_dir.c_str(), label.c_str(), name.c_str());
  }
}

int Main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // Progress shows up at once even when piped.
  Flags flags;
  core::FlagSet set("features_lookup_bench",
                    "Online lookup over gRPC (fabrique-features) against Redis pipelined HMGET.");
  set.Add("entities", &flags.entities, "Entities stored in both systems");
  set.Add("features", &flags.features, "Float features of the group (all read by every lookup)");
  set.Add("lookups", &flags.lookups, "Timed sequential lookups per size, for p50 and p99");
  set.Add("warmup", &flags.warmup, "Untimed sequential lookups before the timed ones");
  set.Add("threads", &flags.threads, "Concurrent clients of the throughput runs");
  set.Add("duration", &flags.duration, "Length of each throughput run");
  set.Add("repeats", &flags.repeats, "Runs of the whole measurement; figures are their medians");
  set.Add("batch_rows", &flags.batch_rows, "Rows per ingest batch (and per HSET pipeline call)");
  set.Add("lookup_threads", &flags.lookup_threads, "fabrique-features --lookup_threads");
  set.Add("online_cache_mib", &flags.online_cache_mib,
          "fabrique-features --online_cache_mib (0: no online row cache); -1 = its default");
  set.Add("data_dir", &flags.data_dir, "Scratch dir for the service's data and redis's dir");
  set.Add("redis_server", &flags.redis_server, "The redis-server binary");
  set.Add("redis_flags", &flags.redis_flags,
          "Extra redis-server flags, e.g. '--hash-max-listpack-entries 0' (hashtable hashes)");
  set.Add("perf_dir", &flags.perf_dir, "If set, perf profiles of server and client go there");
  set.Add("perf_seconds", &flags.perf_seconds, "Length of the profiled run");
  set.Add("perf_call_graph", &flags.perf_call_graph, "perf record --call-graph mode");
  set.Add("handshakes", &flags.handshakes,
          "New connections timed per repeat, over TLS and plaintext (security comparison)");
  set.Add("security", &flags.security,
          "Run the security comparison (TLS + token against --insecure) after the main table");
  set.Add("stream", &flags.stream,
          "Measure LookupOnlineStream beside LookupOnline (false: a server without it)");
  set.Add("prewarm", &flags.prewarm,
          "Read every entity of the measurements once, untimed, in each system before measuring "
          "(a working set in memory rather than cold caches)");
  set.Add("small", &flags.small,
          "10,000 entities, 200 lookups, 0.5 s runs, every answer checked (overrides the sizes)");
  absl::StatusOr<core::ParsedArgs> parsed = set.Parse(argc, argv);
  CheckOk(parsed.status(), "flags");
  if (parsed->help) {
    std::printf("%s", set.Usage().c_str());
    return 0;
  }
  if (flags.small) MakeSmall(&flags);
  const BenchData data = BenchData::Make("bench", flags.features, flags.entities,
                                         absl::ToUnixMicros(absl::Now() - absl::Hours(1)));
  absl::StatusOr<std::string> redis_version = RunAndCapture({flags.redis_server, "--version"});
  CheckOk(redis_version.status(), "redis-server --version");

  std::filesystem::create_directories(flags.data_dir + "/redis");
  const absl::StatusOr<Security> secure = Security::Local(flags.data_dir + "/auth");
  CheckOk(secure.status(), "making a local authority");
  const Security plain = Security::Insecure();
  std::vector<std::string> server_flags = {absl::StrCat("--lookup_threads=", flags.lookup_threads)};
  if (flags.online_cache_mib >= 0) {
    server_flags.push_back(absl::StrCat("--online_cache_mib=", flags.online_cache_mib));
  }
  auto features = SpawnedService::Start("fabrique-features", flags.data_dir + "/features", *secure,
                                        server_flags);
  CheckOk(features.status(), "starting fabrique-features");
  auto insecure = SpawnedService::Start("fabrique-features", flags.data_dir + "/features-insecure",
                                        plain, server_flags);
  CheckOk(insecure.status(), "starting fabrique-features --insecure");
  auto redis = RedisServer::Start(flags.redis_server, flags.data_dir + "/redis",
                                  absl::StrSplit(flags.redis_flags, ' ', absl::SkipEmpty()));
  CheckOk(redis.status(), "starting redis-server");
  const std::string target = (*features)->target();
  const int port = (*redis)->port();

  std::printf("Loading %lld entities x %d float features into both...\n",
              static_cast<long long>(flags.entities), flags.features);
  SteadyClock::time_point start = SteadyClock::now();
  CheckOk(LoadFabrique(target, *secure, data, flags.batch_rows), "loading fabrique");
  const double fabrique_load = std::chrono::duration<double>(SteadyClock::now() - start).count();
  CheckOk(LoadFabrique((*insecure)->target(), plain, data, flags.batch_rows),
          "loading fabrique --insecure");
  start = SteadyClock::now();
  CheckOk(LoadRedis(port, data, flags.batch_rows), "loading redis");
  const double redis_load = std::chrono::duration<double>(SteadyClock::now() - start).count();
  std::printf("  load: Fabrique %.1f s (gRPC Ingest, durable), Redis %.1f s (pipelined HSET)\n",
              fabrique_load, redis_load);
  const int metrics_port = (*features)->metrics_port();
  WaitUntilSettled((*insecure)->metrics_port(), (*insecure)->pid());
  WaitUntilSettled(metrics_port, (*features)->pid());
  const std::map<std::string, double> cache_before = ScrapeMetrics(metrics_port);

  // The same random entities, in the same order, for both systems.
  std::mt19937_64 random(42);
  std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(flags.entities - 1));
  std::vector<int32_t> sequence(static_cast<size_t>(flags.warmup + flags.lookups) * 100);
  for (int32_t& entity : sequence) entity = pick(random);

  Systems systems = {{[&] { return ConnectFabrique(target, *secure, data); },
                      [&] { return ConnectRedis(port, data); }},
                     {(*features)->pid(), (*redis)->pid()},
                     {"Fabrique", "Redis"}};
  if (flags.stream) {
    systems.connect.push_back([&] { return ConnectFabriqueStream(target, *secure, data); });
    systems.server.push_back((*features)->pid());
    systems.names.push_back("Fabrique stream");
  }
  const std::vector<int> sizes = {1, 100};
  if (flags.prewarm) Prewarm(systems, sequence);
  const Runs runs = MeasureAll(systems, sizes, sequence, flags);

  std::printf(
      "\nOnline lookup, %lld entities x %d float features stored; each lookup reads n entities x "
      "%d features.\nSequential: %d timed lookups after %d warm-up; throughput: %d clients x %s. "
      "Medians of %d repeats.\nFabrique: LookupOnline over gRPC, TLS + token (one channel per "
      "client); "
      "stream: LookupOnlineStream, one stream per client, one request in flight.\nRedis "
      "%s%s: n pipelined HMGET, one hash per entity.\n\n",
      static_cast<long long>(flags.entities), flags.features, flags.features, flags.lookups,
      flags.warmup, flags.threads, absl::FormatDuration(flags.duration).c_str(), flags.repeats,
      std::string(absl::StripAsciiWhitespace(*redis_version)).c_str(),
      flags.redis_flags.empty() ? "" : absl::StrCat(" (", flags.redis_flags, ")").c_str());
  PrintTable(sizes, runs);
  const std::map<std::string, double> cache_after = ScrapeMetrics(metrics_port);
  const char* kHits = "fabrique_features_block_cache_hits_total";
  const char* kMisses = "fabrique_features_block_cache_misses_total";
  const double hits = MetricOr0(cache_after, kHits) - MetricOr0(cache_before, kHits);
  const double misses = MetricOr0(cache_after, kMisses) - MetricOr0(cache_before, kMisses);
  std::printf(
      "\nFabrique's RocksDB block cache during the measurements: %.1f%% hits (%.0f hits, "
      "%.0f misses).",
      hits + misses > 0 ? 100 * hits / (hits + misses) : 0, hits, misses);
  const char* kRowHits = "fabrique_features_row_cache_hits_total";
  const char* kRowMisses = "fabrique_features_row_cache_misses_total";
  const double row_hits = MetricOr0(cache_after, kRowHits) - MetricOr0(cache_before, kRowHits);
  const double row_misses =
      MetricOr0(cache_after, kRowMisses) - MetricOr0(cache_before, kRowMisses);
  std::printf(
      "\nFabrique's online row cache during the measurements: %.1f%% of entities read from it "
      "(%.0f hits, %.0f misses), %.0f MiB held.",
      row_hits + row_misses > 0 ? 100 * row_hits / (row_hits + row_misses) : 0, row_hits,
      row_misses, MetricOr0(cache_after, "fabrique_features_row_cache_bytes") / (1 << 20));
  std::printf("\nMemory: fabrique-features peak %ld MiB, redis-server peak %ld MiB.\n",
              (*features)->PeakRssMib(), PeakRssMib((*redis)->pid()));

  const Systems security = {{[&] { return ConnectFabrique(target, *secure, data); },
                             [&] { return ConnectFabrique((*insecure)->target(), plain, data); }},
                            {(*features)->pid(), (*insecure)->pid()},
                            {"TLS + token", "--insecure"}};
  if (flags.security) CompareSecurity(security, sequence, flags);

  if (!flags.perf_dir.empty()) {
    Profile(systems, 0, "tls", sizes, sequence, flags);
    if (flags.stream) Profile(systems, 2, "stream", {1}, sequence, flags);
    // The plaintext server alike, for the profile that explains the cost of security.
    Profile(security, 1, "insecure", {1}, sequence, flags);
  }
  // Both servers stop before their data goes: a 1M-entity run leaves about 1 GiB behind.
  features->reset();
  insecure->reset();
  redis->reset();
  std::filesystem::remove_all(flags.data_dir);
  return 0;
}

}  // namespace
}  // namespace fabrique::bench

int main(int argc, char** argv) { return fabrique::bench::Main(argc, argv); }
