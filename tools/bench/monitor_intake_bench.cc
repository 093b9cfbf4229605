// Streaming intake of the monitor, side by side in one run:
//
//   in process  the same batches parsed and appended to IntakeStore with its WindowStore, one
//               thread, no gRPC: what storage and windows alone sustain;
//   stream      LogPredictions through the real fabrique-monitor binary (--insecure, loopback,
//               its own --data_dir): --streams concurrent client streams of --batch-record
//               batches; a record counts once its stream's OK answer arrived (every batch is
//               fsynced, and in the windows, before the stream answers).
//
// Records: 20 inputs (14 numbers, 6 categories of 12 values), one output ("probability"), an
// entity key, a unique prediction id, times spread over two windows of one model version. The
// batches are serialised before the clock starts (the client sends bytes), so the figure is the
// server's. No registry runs: the monitor counts every version as known, as it does while the
// registry is down. Each figure is the median of --repeats runs, each on a fresh data dir.
//
// After each stream run the monitor is stopped (SIGTERM: it persists its windows) and its
// intake database opened here: the windows must count exactly the records sent, each of the 20
// inputs summarised for every one of them; otherwise the benchmark exits 1.
//
//   monitor_intake_bench [--records=1000000] [--batch=1000] [--streams=4] [--repeats=3]
//                        [--dir=/tmp/fabrique_monitor_intake_bench] [--phases=inprocess,stream]
//                        [--small]
//
// --small: 20,000 records, batches of 500, 2 streams, one repeat: the checks alone, in seconds
// (tools/bench/run_small).

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "fabrique/v1/monitor.grpc.pb.h"
#include "grpcpp/impl/rpc_method.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/sync_stream.h"
#include "libs/monitoring/intake/intake_store.h"
#include "libs/monitoring/windows/window_store.h"
#include "tools/bench/bench_support.h"

namespace fabrique::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  int64_t records = 1'000'000;
  int batch = 1000;
  int streams = 4;
  int repeats = 3;
  std::string dir = "/tmp/fabrique_monitor_intake_bench";
  std::string phases = "inprocess,stream";
  // Leaves the last run's data dirs under --dir, to read what was stored (sizes, RocksDB's LOG).
  bool keep = false;
};

constexpr int kNumericInputs = 14;
constexpr int kCategoricalInputs = 6;
constexpr int kInputs = kNumericInputs + kCategoricalInputs;
constexpr char kModel[] = "bench-churn";
constexpr double kGoal = 200'000;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU seconds (user + system) this process has used, all threads.
double OwnCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// CPU seconds (user + system) process `pid` has used, from /proc/PID/stat; -1 if unreadable.
double CpuSecondsOf(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  if (paren == std::string::npos) return -1;
  std::vector<std::string> fields = absl::StrSplit(text.substr(paren + 2), ' ');
  double utime = 0, stime = 0;
  // After the command: state is field 3 of the line, utime 14 and stime 15.
  if (fields.size() < 13 || !absl::SimpleAtod(fields[11], &utime) ||
      !absl::SimpleAtod(fields[12], &stime)) {
    return -1;
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

void Fail(const std::string& what) {
  std::fprintf(stderr, "%s\n", what.c_str());
  std::exit(1);
}

// Record i: times over two hours before `base`, inputs deterministic in i.
void FillRecord(int64_t i, int64_t records, absl::Time base, v1::PredictionRecord* record) {
  record->set_prediction_id(absl::StrCat("pred-", i));
  record->mutable_model_version()->set_model(kModel);
  record->mutable_model_version()->set_version(1);
  record->set_alias("production");
  const int64_t micros = absl::ToUnixMicros(base - absl::Hours(2)) +
                         i * absl::ToInt64Microseconds(absl::Hours(2)) / records;
  record->mutable_time()->set_seconds(micros / 1'000'000);
  record->mutable_time()->set_nanos(static_cast<int32_t>(micros % 1'000'000) * 1000);
  (*record->mutable_entity_keys())["customer"] = absl::StrCat("cust", i * 7919 % 100'000);
  record->set_request_id(absl::StrCat("req-", i / 8));
  record->set_row(i % 8);
  record->set_latency_seconds(0.002);
  for (int f = 0; f < kNumericInputs; ++f) {
    record->add_inputs()->set_double_value(std::sin(static_cast<double>(i * (f + 1))) * 100 + f);
  }
  for (int f = 0; f < kCategoricalInputs; ++f) {
    record->add_inputs()->set_string_value(absl::StrCat("c", (i * (f + 3)) % 12));
  }
  v1::ModelOutput* output = record->add_outputs();
  output->set_name("probability");
  output->add_values(static_cast<float>(i % 1000) / 1000);
}

// The batches of a run, serialised.
std::vector<std::string> MakeBatches(const Flags& flags, absl::Time base) {
  std::vector<std::string> batches;
  for (int64_t first = 0; first < flags.records; first += flags.batch) {
    v1::LogPredictionsRequest request;
    request.set_batch_id(absl::StrCat("batch-", first));
    const int64_t end = std::min<int64_t>(first + flags.batch, flags.records);
    request.mutable_predictions()->Reserve(static_cast<int>(end - first));
    for (int64_t i = first; i < end; ++i) {
      FillRecord(i, flags.records, base, request.add_predictions());
    }
    batches.push_back(request.SerializeAsString());
  }
  return batches;
}

// Opens the intake database of `dir` and checks that its windows count every record.
void VerifyWindows(const std::string& intake_dir, const Flags& flags, const std::string& label) {
  monitoring::IntakeOptions options;
  options.dir = intake_dir;
  auto intake = monitoring::IntakeStore::Open(std::move(options));
  CheckOk(intake.status(), "opening the monitor's intake");
  auto windows = monitoring::WindowStore::Open(intake->get(), {});
  CheckOk(windows.status(), "opening the monitor's windows");
  absl::StatusOr<monitoring::LiveSummaries> live =
      (*windows)->Summaries(kModel, 1, absl::InfinitePast(), absl::InfiniteFuture());
  CheckOk(live.status(), "reading the windows");
  std::string problem;
  if (live->predictions != flags.records) {
    problem =
        absl::StrCat(live->predictions, " records in the windows of ", flags.records, " sent");
  } else if (live->inputs.size() != kInputs) {
    problem = absl::StrCat(live->inputs.size(), " input columns in the windows, not ", kInputs);
  } else {
    for (size_t f = 0; f < live->inputs.size() && problem.empty(); ++f) {
      const monitoring::ColumnSummary& column = live->inputs[f].summary;
      if (column.count() != flags.records || column.missing_count() != 0) {
        problem = absl::StrCat("input ", f, " summarises ", column.count(), " values (",
                               column.missing_count(), " missing) of ", flags.records);
      }
    }
  }
  if (!problem.empty()) Fail(absl::StrCat(label, ": ", problem));
}

// Parses and appends every batch in this process, one thread; returns records per second.
double InProcessOnce(const Flags& flags, const std::vector<std::string>& batches) {
  const std::string dir = flags.dir + "/inprocess";
  std::filesystem::remove_all(dir);
  monitoring::IntakeOptions options;
  options.dir = dir + "/intake";
  auto intake = monitoring::IntakeStore::Open(std::move(options));
  CheckOk(intake.status(), "opening an intake");
  auto windows = monitoring::WindowStore::Open(intake->get(), {});
  CheckOk(windows.status(), "opening its windows");
  int64_t accepted = 0;
  const double cpu_start = OwnCpuSeconds();
  const auto start = Clock::now();
  v1::LogPredictionsRequest request;
  std::vector<const v1::PredictionRecord*> rows;
  for (const std::string& bytes : batches) {
    if (!request.ParseFromString(bytes)) Fail("a batch does not parse");
    // As the service does: the rows stay in the request, whose memory the next parse reuses.
    rows.assign(request.predictions().pointer_begin(), request.predictions().pointer_end());
    absl::StatusOr<monitoring::PredictionIntakeResult> result = (*intake)->AppendPredictions(
        request.batch_id(), rows, monitoring::IntakeStore::AnyLabelType, kv::SyncMode::kNoSync);
    CheckOk(result.status(), "appending a batch");
    accepted += result->accepted;
  }
  // Fsynced once, as one stream answered once would be.
  CheckOk((*intake)->SyncLog(), "syncing the intake's log");
  const double seconds = Seconds(start);
  const double cpu = OwnCpuSeconds() - cpu_start;
  CheckOk((*windows)->Persist(), "persisting the windows");
  windows->reset();
  intake->reset();
  if (accepted != flags.records) Fail("in process: records refused");
  VerifyWindows(dir + "/intake", flags, "in process");
  std::printf("  %-28s %9.0f records/s  (%.2f s; %.0f records per CPU-second)\n",
              "in process (no gRPC)", flags.records / seconds, seconds, flags.records / cpu);
  std::fflush(stdout);
  return flags.records / seconds;
}

// One client stream: sends its share of the batches as bytes; returns the records accepted.
int64_t Stream(const std::shared_ptr<grpc::Channel>& channel, const Security& security,
               const std::vector<grpc::ByteBuffer>& batches, int stream, int streams,
               std::string* error) {
  static const grpc::internal::RpcMethod kMethod("/fabrique.v1.Monitor/LogPredictions",
                                                 grpc::internal::RpcMethod::CLIENT_STREAMING);
  auto context = security.Context(absl::Minutes(10));
  grpc::ByteBuffer answer;
  std::unique_ptr<grpc::ClientWriter<grpc::ByteBuffer>> writer(
      grpc::internal::ClientWriterFactory<grpc::ByteBuffer>::Create(channel.get(), kMethod,
                                                                    context.get(), &answer));
  for (size_t b = stream; b < batches.size(); b += streams) {
    if (!writer->Write(batches[b])) break;
  }
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  if (!status.ok()) {
    *error = status.error_message();
    return 0;
  }
  grpc::Slice slice;
  v1::LogPredictionsResponse response;
  if (!answer.TrySingleSlice(&slice).ok() && !answer.DumpToSingleSlice(&slice).ok()) {
    *error = "an unreadable answer";
    return 0;
  }
  if (!response.ParseFromArray(slice.begin(), static_cast<int>(slice.size()))) {
    *error = "an answer that does not parse";
    return 0;
  }
  return response.accepted();
}

struct StreamFigure {
  double rate = 0;
  long peak_rss_mib = 0;
  double records_per_cpu_second = 0;  // Of the monitor's CPU time.
};

// Streams every batch to a fresh fabrique-monitor over --streams calls.
StreamFigure StreamOnce(const Flags& flags, const std::vector<std::string>& serialized) {
  std::vector<grpc::ByteBuffer> batches;
  batches.reserve(serialized.size());
  for (const std::string& bytes : serialized) {
    grpc::Slice slice(bytes);
    batches.emplace_back(&slice, 1);
  }
  const Security security = Security::Insecure();
  absl::StatusOr<int> dead_port = FreeLoopbackPort();
  CheckOk(dead_port.status(), "finding a port for the absent registry");
  const std::string data_dir = flags.dir + "/monitor";
  auto server = SpawnedService::Start("fabrique-monitor", data_dir, security,
                                      {absl::StrCat("--registry_target=127.0.0.1:", *dead_port)});
  CheckOk(server.status(), "starting fabrique-monitor");
  std::vector<int64_t> accepted(flags.streams, 0);
  std::vector<std::string> errors(flags.streams);
  const double cpu_start = CpuSecondsOf((*server)->pid());
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int s = 0; s < flags.streams; ++s) {
    threads.emplace_back([&, s] {
      // A channel per stream, as separate inference servers have.
      accepted[s] = Stream(security.Channel((*server)->target(), false), security, batches, s,
                           flags.streams, &errors[s]);
    });
  }
  for (std::thread& thread : threads) thread.join();
  const double seconds = Seconds(start);
  int64_t total = 0;
  for (int s = 0; s < flags.streams; ++s) {
    if (!errors[s].empty()) Fail(absl::StrCat("stream ", s, " failed: ", errors[s]));
    total += accepted[s];
  }
  if (total != flags.records) {
    Fail(absl::StrCat(total, " records accepted of ", flags.records, " sent"));
  }
  const double cpu = CpuSecondsOf((*server)->pid()) - cpu_start;
  StreamFigure figure{flags.records / seconds, (*server)->PeakRssMib(), flags.records / cpu};
  if ((*server)->Stop() != 0) Fail("fabrique-monitor did not stop cleanly");
  server->reset();
  VerifyWindows(data_dir + "/intake", flags, "stream");
  std::printf(
      "  %-28s %9.0f records/s  (%.2f s; monitor: %.0f records per CPU-second, peak RSS %ld "
      "MiB)\n",
      absl::StrCat(flags.streams, " streams over gRPC").c_str(), figure.rate, seconds,
      figure.records_per_cpu_second, figure.peak_rss_mib);
  std::fflush(stdout);
  return figure;
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&arg](absl::string_view name) -> const char* {
      return absl::StartsWith(arg, absl::StrCat("--", name, "=")) ? arg.c_str() + name.size() + 3
                                                                  : nullptr;
    };
    bool ok = true;
    if (arg == "--help") {
      std::printf(
          "monitor_intake_bench: LogPredictions of 20-input records through fabrique-monitor,\n"
          "with the same batches appended in process as the baseline. Flags (defaults):\n"
          "  --records=1000000 --batch=1000 --streams=4 --repeats=3\n"
          "  --dir=/tmp/fabrique_monitor_intake_bench --phases=inprocess,stream\n"
          "  --small: 20000 records, batches of 500, 2 streams, one repeat (give it first)\n"
          "  --keep: leave the last run's data dirs under --dir (sizes on disk, RocksDB's LOG)\n");
      std::exit(0);
    } else if (arg == "--small") {
      flags.records = 20'000;
      flags.batch = 500;
      flags.streams = 2;
      flags.repeats = 1;
    } else if (const char* v = value("records")) {
      ok = absl::SimpleAtoi(v, &flags.records);
    } else if (const char* v = value("batch")) {
      ok = absl::SimpleAtoi(v, &flags.batch);
    } else if (const char* v = value("streams")) {
      ok = absl::SimpleAtoi(v, &flags.streams);
    } else if (const char* v = value("repeats")) {
      ok = absl::SimpleAtoi(v, &flags.repeats);
    } else if (const char* v = value("dir")) {
      flags.dir = v;
    } else if (const char* v = value("phases")) {
      flags.phases = v;
    } else if (arg == "--keep") {
      flags.keep = true;
    } else {
      ok = false;
    }
    if (!ok || flags.records < 1 || flags.batch < 1 || flags.streams < 1 || flags.repeats < 1) {
      std::fprintf(stderr, "bad flag %s (see --help)\n", arg.c_str());
      std::exit(2);
    }
  }
  return flags;
}

int Main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  const auto build_start = Clock::now();
  const std::vector<std::string> batches = MakeBatches(flags, absl::Now());
  size_t bytes = 0;
  for (const std::string& batch : batches) bytes += batch.size();
  std::printf(
      "Monitor intake: %lld records (%d inputs: %d numbers, %d categories; 1 output; an entity "
      "key), batches of %d (%.0f bytes a record on the wire, built in %.1f s); %d streams; "
      "median of %d runs, each on a fresh data dir; %u cores\n",
      static_cast<long long>(flags.records), kInputs, kNumericInputs, kCategoricalInputs,
      flags.batch, static_cast<double>(bytes) / flags.records, Seconds(build_start), flags.streams,
      flags.repeats, std::thread::hardware_concurrency());
  const auto wanted = [&flags](absl::string_view phase) {
    return absl::StrContains(flags.phases, phase);
  };
  std::vector<double> in_process, streamed, per_cpu;
  long peak = 0;
  for (int r = 0; r < flags.repeats; ++r) {
    if (wanted("inprocess")) in_process.push_back(InProcessOnce(flags, batches));
    if (wanted("stream")) {
      const StreamFigure figure = StreamOnce(flags, batches);
      streamed.push_back(figure.rate);
      per_cpu.push_back(figure.records_per_cpu_second);
      peak = std::max(peak, figure.peak_rss_mib);
    }
  }
  if (!flags.keep) std::filesystem::remove_all(flags.dir);

  std::printf("\n%-30s %14s %10s %6s\n", "median of runs", "records/s", "goal", "met");
  if (!in_process.empty()) {
    std::printf("%-30s %14.0f %10s %6s\n", "in process (no gRPC)", Median(in_process), "-", "-");
  }
  if (!streamed.empty()) {
    const double rate = Median(streamed);
    std::printf("%-30s %14.0f %10s %6s\n",
                absl::StrCat("LogPredictions, ", flags.streams, " streams").c_str(), rate, ">=200k",
                rate >= kGoal ? "yes" : "NO");
    std::printf(
        "monitor: %.0f records per CPU-second (median); peak RSS (VmHWM, max of runs) "
        "%ld MiB\n",
        Median(per_cpu), peak);
  }
  std::printf("windows checked: every record counted once, every input summarised\n");
  return 0;
}

}  // namespace
}  // namespace fabrique::bench

int main(int argc, char** argv) { return fabrique::bench::Main(argc, argv); }
