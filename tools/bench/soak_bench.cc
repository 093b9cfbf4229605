// The factory under a long steady load: does it keep its memory, its descriptors and its latency,
// and fail no call? Through the real binaries (see soak_factory.h): a feature group of 50 FLOAT
// features for --entities entities, a model fed from it (the inference benchmark's tabular50: 50
// inputs, 256-128 ReLU MLP, binary; weights new in every version) with its production alias, and
// the calls of soak_calls.h:
//   lookup   LookupOnline, 1 entity x 50 features;
//   predict  Predict by entity key, 1 entity, logged to the monitor;
//   ingest   Ingest of --ingest_rows rows x 50 features;
//   swap     once a minute, half way through it: a new version registered (a module built in this
//            process with new weights) and the production alias moved to it; timed until the
//            inference server answers from it (it hot-swaps while the load runs).
//
// Capacity first: each of lookup, predict and ingest alone, --clients closed-loop callers for
// --capacity_duration, then the three together likewise; printed. Then --minutes minutes of
// open-loop load at --load (0.5: half) of what each achieved together, every call timed from when
// it was due. Every minute it prints each service's process_resident_memory_bytes (at the
// minute's end, and the peak of samples every 5 s) and process_open_fds from its /metrics, and
// each call's count, failures, p50 and p99 in that minute;
// at the end the goals (soak_report.h) with PASS or FAIL. Every answer is checked: lookups against
// what was ingested, predictions against the answering version run in this process.
// Exits 1 when a call failed (or answered wrong), 0 otherwise, whatever the other goals say.
//
// --small: 3 minutes of 6 s, 1 s capacity runs, 2,000 entities; tools/bench/run_small runs it for
// its checks (no failed call, every swap observed).
//
//   soak_bench [--minutes=10] [--minute=60s] [--load=0.5] [--capacity_duration=15s]
//              [--clients=8] [--workers=32] [--entities=10000] [--ingest_rows=10] [--insecure]
//              [--small] [--data_dir=/tmp/fabrique_soak] [--trace=FILE]
//              [--offered=LOOKUPS,PREDICTIONS,INGESTS]
//
// --offered: the calls a second offered, per kind, instead of --load x the capacity (still
// measured and printed), so that two builds are compared under the same load.
//
// --trace=FILE: each second of the steady load, each call's count, p99 and maximum, with the
// wall-clock time and the load average (soak_trace.h), to set the bad seconds beside RocksDB's
// LOG files in --data_dir (kept when --trace is set).

#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/core/flags.h"
#include "tools/bench/inference_bench_models.h"
#include "tools/bench/soak_calls.h"
#include "tools/bench/soak_factory.h"
#include "tools/bench/soak_load.h"
#include "tools/bench/soak_report.h"
#include "tools/bench/soak_trace.h"
#include "tools/cli/command_flags.h"

namespace fabrique::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kEntity[] = "soak_customer";
// Memory samples per minute: the last at the minute's end.
constexpr int kRssSamples = 12;
constexpr char kGroup[] = "soak_profile";
constexpr char kModel[] = "soak_model";

struct SoakFlags {
  int minutes = 10;
  absl::Duration minute = absl::Seconds(60);
  double load = 0.5;
  absl::Duration capacity_duration = absl::Seconds(15);
  int clients = 8;
  int workers = 32;
  int entities = 10'000;
  int ingest_rows = 10;
  bool insecure = false;
  bool small = false;
  bool swaps = true;
  std::string data_dir = "/tmp/fabrique_soak";
  std::string trace;
  std::vector<double> offered;  // Calls/s of lookup, predict, ingest; empty = --load x capacity.
};

SoakFlags ParseFlags(int argc, char** argv) {
  SoakFlags flags;
  core::FlagSet set("soak_bench",
                    "The factory at half its measured capacity for minutes: memory, descriptors "
                    "and p99 per minute, and no failed call.");
  set.Add("minutes", &flags.minutes, "Minutes of steady load");
  set.Add("minute", &flags.minute, "Length of one reported minute (shorter for a quick check)");
  set.Add("load", &flags.load, "Fraction of the measured capacity offered");
  set.Add("capacity_duration", &flags.capacity_duration, "Length of each capacity run");
  set.Add("clients", &flags.clients, "Closed-loop callers per call kind in the capacity runs");
  set.Add("workers", &flags.workers, "Threads per call kind making the open-loop calls");
  set.Add("entities", &flags.entities, "Entities looked up and predicted");
  set.Add("ingest_rows", &flags.ingest_rows, "Rows per Ingest call");
  set.Add("insecure", &flags.insecure, "Serve everything in plaintext without tokens");
  set.Add("small", &flags.small, "3 minutes of 6 s, for the checks only");
  set.Add("swaps", &flags.swaps,
          "Register a new version and move the production alias to it once a minute; false "
          "serves one version all run, which tells memory kept per version from the rest");
  set.Add("data_dir", &flags.data_dir, "Scratch directory (removed at the end unless --trace)");
  set.Add("trace", &flags.trace, "File for a per-second trace of the steady load; \"\" = none");
  std::string offered;
  set.Add("offered", &offered,
          "Calls a second offered, LOOKUPS,PREDICTIONS,INGESTS, instead of --load x capacity");
  core::ParsedArgs parsed;
  if (std::optional<int> code =
          cli::ParseCommandFlags(set, std::vector<std::string>(argv + 1, argv + argc), &parsed)) {
    std::exit(*code);
  }
  bool offered_ok = true;
  for (absl::string_view rate : absl::StrSplit(offered, ',', absl::SkipEmpty())) {
    double value = 0;
    offered_ok = offered_ok && absl::SimpleAtod(rate, &value) && value > 0;
    flags.offered.push_back(value);
  }
  if (!offered.empty() && (!offered_ok || flags.offered.size() != 3)) {
    std::fprintf(stderr, "--offered takes three rates > 0: LOOKUPS,PREDICTIONS,INGESTS\n");
    std::exit(2);
  }
  if (flags.small) {
    flags.minutes = std::min(flags.minutes, 3);
    flags.minute = std::min(flags.minute, absl::Seconds(6));
    flags.capacity_duration = std::min(flags.capacity_duration, absl::Seconds(1));
    flags.entities = std::min(flags.entities, 2000);
  }
  if (flags.minutes < 1 || flags.minute < absl::Seconds(1) || !(flags.load > 0) ||
      flags.capacity_duration < absl::Seconds(1) || flags.clients < 1 || flags.workers < 1 ||
      flags.entities < 1 || flags.ingest_rows < 1) {
    std::fprintf(stderr,
                 "--minutes, --clients, --workers, --entities and --ingest_rows must be "
                 ">= 1, --minute and --capacity_duration >= 1s, --load > 0\n");
    std::exit(2);
  }
  return flags;
}

// Sets up the data and the served model's versions: version 1 registered and in production, one
// module per later swap written, and every version's answers for every entity computed in this
// process. Returns the later versions' module paths.
std::vector<std::string> PrepareModel(const SoakFlags& flags, SoakFactory& factory,
                                      SoakData& data) {
  ModelShape shape = Tabular50Shape();
  data.entity = kEntity;
  data.group = kGroup;
  data.model = kModel;
  data.width = shape.width;
  data.ingest_rows = flags.ingest_rows;
  serving::TensorBatch rows = RandomRows(shape, flags.entities, 5);
  data.values = rows.tensors[0].fp32;
  for (int e = 0; e < flags.entities; ++e) data.keys.push_back(absl::StrCat("c", e));
  factory.stack().IngestGroup(kEntity, kGroup, shape.width, data.keys, data.values);
  auto in_process = InProcessModels::Create(1);
  CheckOk(in_process.status(), "making the in-process loader");
  const std::string modules = flags.data_dir + "/modules";
  std::filesystem::create_directories(modules);
  std::vector<std::string> later;
  // Without swaps one version serves the whole run.
  const int versions = flags.swaps ? flags.minutes + 1 : 1;
  for (int version = 1; version <= versions; ++version) {
    const std::string path = absl::StrCat(modules, "/v", version, ".pt");
    CheckOk(WriteModule(shape, 100 + version, path), "building a module");
    auto local = (*in_process)->Load(path, PlainSignature(shape), 32);
    CheckOk(local.status(), "loading a module in this process");
    absl::StatusOr<serving::TensorBatch> expected = (*local)->Forward(rows);
    CheckOk(expected.status(), "scoring the entities in this process");
    data.expected[version] = expected->tensors[0].fp32;
    if (version > 1) later.push_back(path);
  }
  const int64_t first = factory.stack().Register(
      kModel, v1::TASK_BINARY_CLASSIFICATION, modules + "/v1.pt", FeatureSignature(shape, kGroup));
  factory.stack().SetProduction(kModel, first);
  return later;
}

// Swap `k` (from 1): registers `path` (expected to become version k + 1), moves production to it
// and waits for its first answer; the time from the registration to that answer goes to `log`.
void Swap(int k, const std::string& path, SoakFactory& factory, const SoakCalls& calls,
          absl::Duration wait, CallLog& log) {
  const Clock::time_point start = Clock::now();
  const int64_t version = factory.stack().Register(kModel, v1::TASK_BINARY_CLASSIFICATION, path,
                                                   FeatureSignature(Tabular50Shape(), kGroup));
  if (version != k + 1) {
    log.Record(0, absl::StrCat("swap ", k, " registered version ", version, ", not ", k + 1));
    return;
  }
  factory.stack().SetProduction(kModel, version);
  const Clock::time_point deadline = start + absl::ToChronoNanoseconds(wait);
  while (calls.LatestServed() < version && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  log.Record(ms, calls.LatestServed() >= version
                     ? ""
                     : absl::StrCat("version ", version, " did not answer within ",
                                    absl::FormatDuration(wait)));
}

void PrintMachine(const SoakFactory& factory) {
  utsname name{};
  uname(&name);
  std::printf("machine: %s %s, %ld cores; load average now %.2f; services %s\n", name.sysname,
              name.machine, sysconf(_SC_NPROCESSORS_ONLN), LoadAverage(),
              factory.security().Name());
}

int Main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const SoakFlags flags = ParseFlags(argc, argv);
  std::unique_ptr<SoakFactory> factory = SoakFactory::StartStores(flags.data_dir, flags.insecure);
  SoakData data;
  const std::vector<std::string> swaps = PrepareModel(flags, *factory, data);
  factory->StartServing(kModel, {"--instances=2", "--intra_op_threads=1"});
  PrintMachine(*factory);
  std::printf("data: %d entities x %d FLOAT features; model %s (50 -> 256-128 ReLU -> 1)\n",
              flags.entities, data.width, kModel);

  SoakCalls calls(factory->security(), factory->stack().features().target(),
                  factory->inference().target(), data);
  const std::vector<std::string> kinds = {"lookup", "predict", "ingest"};
  std::map<std::string, SoakCall> call_of = {
      {"lookup", [&calls](uint64_t seq) { return calls.Lookup(seq); }},
      {"predict", [&calls](uint64_t seq) { return calls.Predict(seq); }},
      {"ingest", [&calls](uint64_t seq) { return calls.Ingest(seq); }}};
  std::map<std::string, CallLog> logs;
  for (const std::string& kind : kinds) logs[kind];
  logs["swap"];

  // Capacity: alone, then together; the load is a share of what they achieve together.
  std::printf("\nCapacity (%d closed-loop callers per kind, %s each run)\n", flags.clients,
              absl::FormatDuration(flags.capacity_duration).c_str());
  std::vector<ClosedLoopPart> together;
  for (const std::string& kind : kinds) {
    ClosedLoopPart part{&call_of[kind], flags.clients, &logs[kind]};
    const double alone = ClosedLoop({part}, flags.capacity_duration)[0];
    std::printf("  %-8s alone     %9.0f calls/s\n", kind.c_str(), alone);
    together.push_back(part);
  }
  const std::vector<double> capacity = ClosedLoop(together, flags.capacity_duration);
  std::vector<double> offered = flags.offered;
  for (size_t i = offered.size(); i < kinds.size(); ++i)
    offered.push_back(flags.load * capacity[i]);
  int64_t failed_before = 0;
  for (size_t i = 0; i < kinds.size(); ++i) {
    std::printf("  %-8s together  %9.0f calls/s -> offered %.0f calls/s\n", kinds[i].c_str(),
                capacity[i], offered[i]);
    const CallLog::Interval taken = logs[kinds[i]].Take();
    failed_before += taken.failed;
    if (taken.failed > 0) {
      std::printf("    %lld failed in the capacity runs; the first: %s\n",
                  static_cast<long long>(taken.failed), taken.first_problem.c_str());
    }
  }

  const char* swap_note = flags.swaps ? "one swap a minute" : "no swap (--swaps=false)";
  if (flags.offered.empty()) {
    std::printf("\nSoak: %d minutes of %s at %.0f%% of capacity; %s\n", flags.minutes,
                absl::FormatDuration(flags.minute).c_str(), 100 * flags.load, swap_note);
  } else {
    std::printf("\nSoak: %d minutes of %s at the rates of --offered; %s\n", flags.minutes,
                absl::FormatDuration(flags.minute).c_str(), swap_note);
  }
  auto trace = std::make_unique<SoakTrace>(flags.trace, &logs);
  std::vector<std::unique_ptr<OpenLoop>> loads;
  for (size_t i = 0; i < kinds.size(); ++i) {
    const double rate = std::max(1.0, offered[i]);
    loads.push_back(
        std::make_unique<OpenLoop>(call_of[kinds[i]], rate, flags.workers, &logs[kinds[i]]));
  }
  const Clock::time_point start = Clock::now();
  const auto at = [&](double minutes) {
    return start + std::chrono::duration_cast<Clock::duration>(
                       absl::ToChronoNanoseconds(flags.minute * minutes));
  };
  std::thread swapper([&] {
    for (int k = 1; flags.swaps && k <= flags.minutes; ++k) {
      std::this_thread::sleep_until(at(k - 0.5));
      Swap(k, swaps[k - 1], *factory, calls, flags.minute / 2, logs["swap"]);
    }
  });
  SoakReport report({"lookup", "predict", "ingest", "swap"}, {"swap"});
  for (int m = 1; m <= flags.minutes; ++m) {
    // Memory is sampled every twelfth of a minute (5 s), for the minute's peak and floor.
    std::map<std::string, ProcessFigures> sampled;
    for (int sample = 1; sample < kRssSamples; ++sample) {
      std::this_thread::sleep_until(at(m - 1 + static_cast<double>(sample) / kRssSamples));
      for (const auto& [name, service] : factory->Services()) {
        FoldSample(ReadProcessFigures(*service), &sampled[name]);
      }
    }
    std::this_thread::sleep_until(at(m));
    std::map<std::string, CallLog::Interval> minute;
    for (auto& [kind, log] : logs) minute[kind] = log.Take();
    std::map<std::string, ProcessFigures> services;
    for (const auto& [name, service] : factory->Services()) {
      ProcessFigures figures = ReadProcessFigures(*service);
      ProcessFigures& minute_figures = sampled[name];
      FoldSample(figures, &minute_figures);
      figures.peak_rss_mib = minute_figures.peak_rss_mib;
      figures.floor_uncapped_mib = minute_figures.floor_uncapped_mib;
      services[name] = figures;
    }
    report.AddMinute(std::move(minute), std::move(services));
  }
  swapper.join();
  trace.reset();
  for (auto& load : loads) load->Stop();
  // Calls answered after the last minute closed still count for failures.
  for (auto& [kind, log] : logs) failed_before += log.Take().failed;
  for (size_t i = 0; i < kinds.size(); ++i) {
    std::printf("  %s: at most %lld calls were due and not yet begun at once\n", kinds[i].c_str(),
                static_cast<long long>(loads[i]->max_backlog()));
  }
  report.PrintMarkdown();
  const int64_t failed = report.PrintGoals(failed_before);
  if (flags.small) {
    std::printf("  (--small: the memory and latency goals mean little in seconds-long minutes)\n");
  }
  // Predictions are logged asynchronously: give the last ones a moment to arrive.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const std::string monitor_metrics = ScrapeMetrics(factory->monitor());
  const double logged =
      std::max(SumSeries(monitor_metrics, "fabrique_monitor_predictions_total", ""),
               SeriesValue(monitor_metrics, "fabrique_monitor_predictions_total"));
  std::printf("  predictions logged: the monitor counted %.0f of the %lld answered\n", logged,
              static_cast<long long>(calls.Predicted()));
  factory.reset();
  // A traced run keeps the services' data dirs, whose RocksDB LOG files explain the trace.
  std::error_code error;
  if (flags.trace.empty()) std::filesystem::remove_all(flags.data_dir, error);
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace fabrique::bench

int main(int argc, char** argv) { return fabrique::bench::Main(argc, argv); }
