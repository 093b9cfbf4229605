// Ingest throughput of the feature store, side by side in one run:
//
//   ceiling   a plain rocksdb::DB::Put loop on the same machine (one 94-byte row per Put, the
//             write-ahead log on, no fsync): what RocksDB alone does row by row;
//   batched   a rocksdb::WriteBatch loop: the same rows in batches of --batch_rows, each batch's
//             keys in key order (as the server writes them), one DB::Write per batch, the log
//             on, no fsync: what RocksDB alone does with the server's write pattern, the
//             fairer ceiling for streaming ingest;
//   stream    durable streaming ingest through the real fabrique-features binary over gRPC on
//             loopback (TLS, with a token, as a deployment serves it): client-streaming Ingest
//             calls of --batch_rows-row batches of 20 float features, over 1, 2 and 4 concurrent
//             streams; a call's rows count once its OK response arrived (acknowledged = durable);
//   bulk      the same rows as backfill batches (IngestRequest.bulk: external SST ingestion);
//   export    bulk again, with the rows in the order of an export sorted by entity key (each
//             entity's rows together, in time order): consecutive batches then cover disjoint
//             key ranges, as the in-process bulk benchmark's (features_storage_bench) do, where
//             the scattered order makes every batch span every entity.
//
// Each figure is the median of --repeats runs, each on a fresh data dir. The client's batches
// are built before the clock starts; client and server share this machine's cores.
//
//   features_ingest_bench [--rows=4000000] [--batch_rows=10000] [--bulk_batch_rows=200000]
//                         [--entities=100000] [--streams=1,2,4] [--repeats=3] [--dir=/tmp/x]
//                         [--verify] [--small] [--phases=ceiling,stream,bulk,export]
//                         [--perf_dir=DIR] [--settle]
//
// Every run checks that the server acknowledged every row sent; --verify also reads the whole
// history back after each run (ReadHistory) and checks every row's values. Either failing exits
// 1. --small: 40,000 rows over 5,000 entities, batches of 2,000 (bulk: 10,000), 1 and 2 streams,
// one repeat, --verify: the checks alone, in seconds (tools/bench/run_small).
//
// --settle also waits, after each run's last row, until the server is idle, and reports its CPU
// per row including that time: the flushes and compactions the run left behind.
//
// --perf_dir adds, before each streaming and bulk measurement, one more run (not counted in the
// median) with `perf record --call-graph=dwarf` on the server, into DIR/<label>.data.

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "fabrique/v1/features.grpc.pb.h"
#include "libs/client/channel.h"
#include "libs/client/health_client.h"
#include "libs/features/storage/storage_keys.h"
#include "libs/kv/rocksdb_status.h"
#include "libs/kv/store.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "tools/bench/bench_support.h"

namespace fabrique::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  int64_t rows = 4'000'000;
  int batch_rows = 10'000;
  int bulk_batch_rows = 200'000;
  int64_t entities = 100'000;
  std::vector<int> streams = {1, 2, 4};
  int repeats = 3;
  std::string dir = "/tmp/fabrique_ingest_bench";
  std::string phases = "ceiling,stream,bulk,export";  // Which measurements to run.
  bool verify = false;                                // Read every row back after each run.
  std::string perf_dir;  // If set, perf profiles of the server go there.
  bool settle = false;   // Also count the server's CPU after the last row, until it is idle.
};

constexpr int kFeatures = 20;
constexpr int64_t kBaseMicros = 1'700'000'000'000'000;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string Entity(int64_t e) { return absl::StrCat("cust", e); }

// Which entity each row belongs to. Row i is always at time kBaseMicros + i with feature
// f = i + f; the order decides only its entity.
class RowOrder {
 public:
  // Row i is entity i * 7919 % entities: a scattered order, as live events arrive.
  static RowOrder Scattered(int64_t entities) { return RowOrder(entities, {}); }

  // Rows grouped by entity, the entities in the order of their keys (as strings), each
  // entity's rows in time order: an export sorted by entity key.
  static RowOrder Export(int64_t rows, int64_t entities) {
    std::vector<std::pair<std::string, int64_t>> keys;
    keys.reserve(entities);
    for (int64_t e = 0; e < entities; ++e) keys.emplace_back(Entity(e), e);
    std::sort(keys.begin(), keys.end());
    std::vector<int64_t> sorted;
    sorted.reserve(entities);
    for (const auto& [key, e] : keys) sorted.push_back(e);
    RowOrder order(entities, std::move(sorted));
    order.rows_per_entity_ = std::max<int64_t>(1, (rows + entities - 1) / entities);
    return order;
  }

  int64_t EntityOf(int64_t i) const {
    if (sorted_.empty()) return i * 7919 % entities_;
    return sorted_[std::min<int64_t>(i / rows_per_entity_, entities_ - 1)];
  }

 private:
  RowOrder(int64_t entities, std::vector<int64_t> sorted)
      : entities_(entities), sorted_(std::move(sorted)) {}

  int64_t entities_;
  std::vector<int64_t> sorted_;  // Empty: scattered.
  int64_t rows_per_entity_ = 1;
};

void CheckGrpc(const grpc::Status& status, const char* what) {
  if (status.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, status.error_message().c_str());
  std::exit(1);
}

// Defines entity "customer" and group "ingest" of kFeatures floats f0..f19.
void Define(v1::FeatureStore::Stub& stub, const Security& security) {
  v1::ApplyEntityRequest entity;
  entity.mutable_entity()->set_name("customer");
  entity.mutable_entity()->set_join_key("customer_id");
  entity.mutable_entity()->set_owner_squad("bench");
  v1::Entity stored;
  CheckGrpc(stub.ApplyEntity(security.Context(absl::Seconds(10)).get(), entity, &stored),
            "ApplyEntity");
  v1::ApplyFeatureGroupRequest apply;
  apply.mutable_spec()->set_name("ingest");
  apply.mutable_spec()->set_entity("customer");
  apply.mutable_spec()->set_owner_squad("bench");
  for (int f = 0; f < kFeatures; ++f) {
    v1::FeatureSpec* feature = apply.mutable_spec()->add_features();
    feature->set_name(absl::StrCat("f", f));
    feature->set_type(v1::FEATURE_TYPE_FLOAT);
  }
  v1::ApplyFeatureGroupResponse applied;
  CheckGrpc(stub.ApplyFeatureGroup(security.Context(absl::Seconds(10)).get(), apply, &applied),
            "ApplyFeatureGroup");
}

// Rows [first, first + n): row i is entity order.EntityOf(i) at time kBaseMicros + i, feature
// f = i + f.
v1::IngestRequest MakeBatch(int64_t first, int n, const RowOrder& order, bool bulk) {
  v1::IngestRequest request;
  request.set_group("ingest");
  request.set_batch_id(absl::StrCat(bulk ? "bulk-" : "stream-", first));
  request.set_bulk(bulk);
  v1::RowBatch* rows = request.mutable_rows();
  rows->mutable_entity_keys()->Reserve(n);
  for (int64_t i = first; i < first + n; ++i) {
    rows->add_entity_keys(Entity(order.EntityOf(i)));
    rows->add_event_time_unix_micros(kBaseMicros + i);
  }
  for (int f = 0; f < kFeatures; ++f) {
    v1::FeatureColumn* column = rows->add_columns();
    column->mutable_feature()->set_feature(absl::StrCat("f", f));
    auto* values = column->mutable_values()->mutable_float_values()->mutable_values();
    values->Reserve(n);
    for (int64_t i = first; i < first + n; ++i) values->Add(static_cast<float>(i + f));
  }
  return request;
}

std::vector<v1::IngestRequest> MakeBatches(const Flags& flags, int batch_rows, bool bulk,
                                           const RowOrder& order) {
  std::vector<v1::IngestRequest> batches;
  for (int64_t first = 0; first < flags.rows; first += batch_rows) {
    const int n = static_cast<int>(std::min<int64_t>(batch_rows, flags.rows - first));
    batches.push_back(MakeBatch(first, n, order, bulk));
  }
  return batches;
}

// Reads the whole history back and checks that it holds each row sent exactly once, with its
// values (row i: entity order.EntityOf(i), time kBaseMicros + i, feature f = i + f); exits 1
// otherwise.
void VerifyHistory(const Flags& flags, const RowOrder& order, const Security& security,
                   const std::string& target, const std::string& label) {
  auto stub = v1::FeatureStore::NewStub(security.Channel(target));
  v1::ReadHistoryRequest request;
  request.set_group("ingest");
  auto context = security.Context(absl::Minutes(10));
  auto reader = stub->ReadHistory(context.get(), request);
  std::vector<bool> seen(static_cast<size_t>(flags.rows), false);
  int64_t found = 0;
  std::string problem;
  v1::ReadHistoryResponse chunk;
  while (reader->Read(&chunk) && problem.empty()) {
    const v1::RowBatch& rows = chunk.rows();
    for (int r = 0; r < rows.entity_keys_size() && problem.empty(); ++r) {
      const int64_t i = rows.event_time_unix_micros(r) - kBaseMicros;
      if (i < 0 || i >= flags.rows || seen[i] || rows.columns_size() != kFeatures ||
          rows.entity_keys(r) != Entity(order.EntityOf(i))) {
        problem = absl::StrCat("unexpected or repeated row ", rows.entity_keys(r), "@",
                               rows.event_time_unix_micros(r));
        break;
      }
      for (const v1::FeatureColumn& column : rows.columns()) {
        int f = 0;
        if (!absl::SimpleAtoi(absl::string_view(column.feature().feature()).substr(1), &f) ||
            column.values().float_values().values(r) != static_cast<float>(i + f)) {
          problem = absl::StrCat("row ", i, " has a wrong ", column.feature().feature());
        }
      }
      seen[i] = true;
      ++found;
    }
  }
  const grpc::Status status = reader->Finish();
  if (problem.empty() && !status.ok()) problem = "ReadHistory: " + status.error_message();
  if (problem.empty() && found != flags.rows) {
    problem = absl::StrCat(found, " rows read back of ", flags.rows, " acknowledged");
  }
  if (!problem.empty()) {
    std::fprintf(stderr, "%s: %s\n", label.c_str(), problem.c_str());
    std::exit(1);
  }
}

// CPU seconds (user + system) used so far by process `pid`: fields 14 and 15 of its stat line,
// counted after the command name's closing parenthesis (the name may hold spaces).
double ProcessCpuSeconds(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  std::getline(stat, line);
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return 0;
  const std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(line).substr(close + 2), ' ');
  double user = 0, system = 0;
  if (fields.size() < 13 || !absl::SimpleAtod(fields[11], &user) ||
      !absl::SimpleAtod(fields[12], &system)) {
    return 0;
  }
  return (user + system) / sysconf(_SC_CLK_TCK);
}

// CPU seconds used so far by this process (the client's threads, during a run).
double OwnCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Waits until the server's CPU stops climbing (under 2% of a core over half a second; at most
// 120 s): its flushes and compactions of the rows just acknowledged are done. Returns the CPU
// seconds the server used meanwhile.
double SettleSeconds(pid_t pid) {
  const double start = ProcessCpuSeconds(pid);
  double last = start;
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(500));
    const double now = ProcessCpuSeconds(pid);
    if (now - last < 0.01) break;
    last = now;
  }
  return last - start;
}

// Starts `perf record` with DWARF call graphs on `pid` until signalled, into
// --perf_dir/`label`.data (spaces and commas of the label become dashes).
std::unique_ptr<cli::ChildProcess> StartPerf(pid_t pid, std::string label, const Flags& flags) {
  std::filesystem::create_directories(flags.perf_dir);
  for (char& c : label) {
    if (c == ' ' || c == ',' || c == '(' || c == ')') c = '-';
  }
  const std::string out = absl::StrCat(flags.perf_dir, "/", label, ".data");
  auto perf = cli::ChildProcess::Spawn({"/usr/bin/perf", "record", "--call-graph=dwarf,8192", "-F",
                                        "199", "-p", std::to_string(pid), "-o", out},
                                       absl::StrCat(flags.perf_dir, "/", label, ".log"));
  CheckOk(perf.status(), "starting perf");
  absl::SleepFor(absl::Milliseconds(500));  // perf attaches before the first batch.
  return *std::move(perf);
}

// Sends `batches` over `streams` concurrent Ingest calls (batch i on stream i % streams) to a
// fresh server; returns acknowledged rows per second.
double IngestOnce(const Flags& flags, const RowOrder& order,
                  const std::vector<v1::IngestRequest>& batches, int streams, std::string label,
                  bool profile) {
  const absl::StatusOr<Security> security = Security::Local(flags.dir + "/auth");
  CheckOk(security.status(), "making a local authority");
  auto server = SpawnedService::Start("fabrique-features", flags.dir + "/server", *security);
  CheckOk(server.status(), "starting fabrique-features");
  Define(*v1::FeatureStore::NewStub(security->Channel((*server)->target())), *security);
  std::unique_ptr<cli::ChildProcess> perf;
  if (profile) {
    perf = StartPerf((*server)->pid(), label, flags);
    label += " (profiled)";
  }
  std::vector<int64_t> acknowledged(streams, 0);
  std::vector<std::string> errors(streams);
  const double server_cpu = ProcessCpuSeconds((*server)->pid());
  const double client_cpu = OwnCpuSeconds();
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int s = 0; s < streams; ++s) {
    threads.emplace_back([&, s] {
      // One channel per stream, as independent loaders would have.
      auto own = v1::FeatureStore::NewStub(security->Channel((*server)->target(), false));
      auto context = security->Context(absl::Minutes(10));
      v1::IngestResponse response;
      auto writer = own->Ingest(context.get(), &response);
      for (size_t b = s; b < batches.size(); b += streams) {
        if (!writer->Write(batches[b])) break;
      }
      writer->WritesDone();
      const grpc::Status status = writer->Finish();
      if (!status.ok()) errors[s] = status.error_message();
      acknowledged[s] = status.ok() ? response.rows_written() : 0;
    });
  }
  for (std::thread& thread : threads) thread.join();
  const double seconds = Seconds(start);
  const double server_us = (ProcessCpuSeconds((*server)->pid()) - server_cpu) * 1e6 / flags.rows;
  const double client_us = (OwnCpuSeconds() - client_cpu) * 1e6 / flags.rows;
  // The acknowledged rows may still sit in memtables that no flush has written yet, and a run
  // short enough for the memtables to hold most of its rows looks cheaper per row than a long
  // one: the settled figure adds the background work the run left (all but the last memtable
  // of each family, which only later writes flush).
  const double settled_us =
      flags.settle ? server_us + SettleSeconds((*server)->pid()) * 1e6 / flags.rows : 0;
  if (perf != nullptr) {
    perf->Signal(SIGINT);  // perf writes its data file and exits.
    perf->Wait(absl::Seconds(120));
  }
  int64_t rows = 0;
  for (int s = 0; s < streams; ++s) {
    if (!errors[s].empty()) {
      std::fprintf(stderr, "%s stream %d failed: %s\n", label.c_str(), s, errors[s].c_str());
      std::exit(1);
    }
    rows += acknowledged[s];
  }
  if (rows != flags.rows) {
    std::fprintf(stderr, "%s: %lld rows acknowledged of %lld sent\n", label.c_str(),
                 static_cast<long long>(rows), static_cast<long long>(flags.rows));
    std::exit(1);
  }
  if (flags.verify) VerifyHistory(flags, order, *security, (*server)->target(), label);
  const long peak = (*server)->PeakRssMib();
  if ((*server)->Stop() != 0) {
    std::fprintf(stderr, "%s: fabrique-features did not stop cleanly\n", label.c_str());
    std::exit(1);
  }
  // CPU per row is the figure that other load on the machine hardly moves.
  const std::string settled =
      flags.settle ? absl::StrFormat(" (settled %.2f us)", settled_us) : std::string();
  std::printf(
      "  %-24s %9.0f rows/s  (%.2f s; CPU per row: server %.2f us%s, client %.2f us; server "
      "peak RSS %ld MiB)\n",
      label.c_str(), rows / seconds, seconds, server_us, settled.c_str(), client_us, peak);
  std::fflush(stdout);
  return rows / seconds;
}

// A plain rocksdb::DB::Put loop: `rows` history-like keys (scattered entities, as the stream
// sends) with 94-byte values (the encoding of 20 floats), log on, no fsync.
double PutLoopOnce(const Flags& flags) {
  const std::string path = flags.dir + "/ceiling";
  std::filesystem::remove_all(path);
  kv::StoreOptions options;
  options.path = path;
  options.column_families = {"history"};
  auto store = kv::Store::Open(options);
  CheckOk(store.status(), "opening the ceiling store");
  rocksdb::DB* db = (*store)->raw_db();
  rocksdb::ColumnFamilyHandle* history = (*(*store)->Family("history")).handle();
  std::vector<std::string> keys;
  keys.reserve(flags.rows);
  for (int64_t i = 0; i < flags.rows; ++i) {
    keys.push_back(
        features::HistoryKey("ingest", Entity(i * 7919 % flags.entities), kBaseMicros + i));
  }
  const std::string value(94, 'v');
  const rocksdb::WriteOptions write;
  const auto start = Clock::now();
  for (const std::string& key : keys) {
    CheckOk(kv::FromRocksDbStatus(db->Put(write, history, key, value), "put"), "put loop");
  }
  const double seconds = Seconds(start);
  std::printf("  %-24s %9.0f rows/s  (%.2f s)\n", "rocksdb::DB::Put loop", flags.rows / seconds,
              seconds);
  std::fflush(stdout);
  return flags.rows / seconds;
}

// A rocksdb::WriteBatch loop: the same rows as PutLoopOnce in batches of --batch_rows, each
// batch's keys sorted (the server writes its batches in key order, which speeds up the memtable's
// inserts), one DB::Write per batch, log on, no fsync. Keys, values and order are made before
// the clock starts.
double WriteBatchLoopOnce(const Flags& flags) {
  const std::string path = flags.dir + "/batched";
  std::filesystem::remove_all(path);
  kv::StoreOptions options;
  options.path = path;
  options.column_families = {"history"};
  auto store = kv::Store::Open(options);
  CheckOk(store.status(), "opening the batched store");
  rocksdb::DB* db = (*store)->raw_db();
  rocksdb::ColumnFamilyHandle* history = (*(*store)->Family("history")).handle();
  const std::string value(94, 'v');
  std::vector<rocksdb::WriteBatch> batches;
  for (int64_t first = 0; first < flags.rows; first += flags.batch_rows) {
    const int64_t end = std::min<int64_t>(first + flags.batch_rows, flags.rows);
    std::vector<std::string> keys;
    keys.reserve(end - first);
    for (int64_t i = first; i < end; ++i) {
      keys.push_back(
          features::HistoryKey("ingest", Entity(i * 7919 % flags.entities), kBaseMicros + i));
    }
    std::sort(keys.begin(), keys.end());
    rocksdb::WriteBatch& batch = batches.emplace_back();
    for (const std::string& key : keys) {
      CheckOk(kv::FromRocksDbStatus(batch.Put(history, key, value), "batch put"), "batch");
    }
  }
  const rocksdb::WriteOptions write;
  const auto start = Clock::now();
  for (rocksdb::WriteBatch& batch : batches) {
    CheckOk(kv::FromRocksDbStatus(db->Write(write, &batch), "write"), "write batch loop");
  }
  const double seconds = Seconds(start);
  std::printf("  %-24s %9.0f rows/s  (%.2f s)\n", "rocksdb::WriteBatch loop", flags.rows / seconds,
              seconds);
  std::fflush(stdout);
  return flags.rows / seconds;
}

// The median of `repeats` calls of run(first), `first` true for the first call only.
template <typename Run>
double MedianOf(int repeats, Run run) {
  std::vector<double> figures;
  for (int r = 0; r < repeats; ++r) figures.push_back(run(r == 0));
  return Median(figures);
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
          "features_ingest_bench: durable streaming ingest and bulk backfill over gRPC, with\n"
          "plain rocksdb::DB::Put and WriteBatch loops as ceilings. Flags (defaults):\n"
          "  --rows=4000000 --batch_rows=10000 --bulk_batch_rows=200000 --entities=100000\n"
          "  --streams=1,2,4 --repeats=3 --dir=/tmp/fabrique_ingest_bench\n"
          "  --phases=ceiling,stream,bulk,export (a subset, for profiling one of them;\n"
          "    export: bulk with the rows sorted by entity key, as an export would be)\n"
          "  --perf_dir=DIR: perf profiles of the server (first run of each figure) go there\n"
          "  --verify: read every row back after each run and check it\n"
          "  --settle: also report the server's CPU per row once its flushes and compactions\n"
          "    of the run are done (all but each family's last memtable)\n"
          "  --small: 40000 rows, 5000 entities, batches of 2000 (bulk 10000), streams 1,2,\n"
          "    one repeat, --verify (give it first: later flags override its sizes)\n");
      std::exit(0);
    } else if (arg == "--settle") {
      flags.settle = true;
    } else if (arg == "--verify") {
      flags.verify = true;
    } else if (arg == "--small") {
      flags.rows = 40'000;
      flags.batch_rows = 2'000;
      flags.bulk_batch_rows = 10'000;
      flags.entities = 5'000;
      flags.streams = {1, 2};
      flags.repeats = 1;
      flags.verify = true;
    } else if (const char* v = value("rows")) {
      ok = absl::SimpleAtoi(v, &flags.rows);
    } else if (const char* v = value("batch_rows")) {
      ok = absl::SimpleAtoi(v, &flags.batch_rows);
    } else if (const char* v = value("bulk_batch_rows")) {
      ok = absl::SimpleAtoi(v, &flags.bulk_batch_rows);
    } else if (const char* v = value("entities")) {
      ok = absl::SimpleAtoi(v, &flags.entities);
    } else if (const char* v = value("repeats")) {
      ok = absl::SimpleAtoi(v, &flags.repeats);
    } else if (const char* v = value("dir")) {
      flags.dir = v;
    } else if (const char* v = value("perf_dir")) {
      flags.perf_dir = v;
    } else if (const char* v = value("phases")) {
      flags.phases = v;
    } else if (const char* v = value("streams")) {
      flags.streams.clear();
      for (absl::string_view part : absl::StrSplit(v, ',')) {
        int n = 0;
        ok = ok && absl::SimpleAtoi(part, &n) && n > 0;
        flags.streams.push_back(n);
      }
    } else {
      ok = false;
    }
    if (!ok || flags.rows < 1 || flags.batch_rows < 1 || flags.bulk_batch_rows < 1 ||
        flags.entities < 1 || flags.repeats < 1) {
      std::fprintf(stderr, "bad flag %s (see --help)\n", arg.c_str());
      std::exit(2);
    }
  }
  return flags;
}

int Main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  std::printf(
      "Ingest: %lld rows of %d float features over %lld entities; stream batches of %d rows, "
      "bulk batches of %d; median of %d runs, each on a fresh data dir\n",
      static_cast<long long>(flags.rows), kFeatures, static_cast<long long>(flags.entities),
      flags.batch_rows, flags.bulk_batch_rows, flags.repeats);
  const auto wanted = [&flags](absl::string_view phase) {
    return absl::StrContains(flags.phases, phase);
  };
  double ceiling = 0, batched = 0, bulk = 0, exported = 0;
  const RowOrder scattered = RowOrder::Scattered(flags.entities);
  if (wanted("ceiling")) {
    ceiling = MedianOf(flags.repeats, [&](bool) { return PutLoopOnce(flags); });
    batched = MedianOf(flags.repeats, [&](bool) { return WriteBatchLoopOnce(flags); });
  }
  std::vector<std::pair<std::string, double>> results;
  if (wanted("stream")) {
    const std::vector<v1::IngestRequest> batches =
        MakeBatches(flags, flags.batch_rows, /*bulk=*/false, scattered);
    for (int streams : flags.streams) {
      const std::string label =
          absl::StrCat("stream, ", streams, " stream", streams > 1 ? "s" : "");
      results.emplace_back(label, MedianOf(flags.repeats, [&](bool first) {
                             if (first && !flags.perf_dir.empty()) {
                               IngestOnce(flags, scattered, batches, streams, label,
                                          /*profile=*/true);
                             }
                             return IngestOnce(flags, scattered, batches, streams, label, false);
                           }));
    }
  }
  // One client stream of bulk batches in `order`, the median of --repeats runs.
  const auto bulk_runs = [&](const RowOrder& order, const std::string& label) {
    const std::vector<v1::IngestRequest> batches =
        MakeBatches(flags, flags.bulk_batch_rows, /*bulk=*/true, order);
    return MedianOf(flags.repeats, [&](bool first) {
      if (first && !flags.perf_dir.empty()) IngestOnce(flags, order, batches, 1, label, true);
      return IngestOnce(flags, order, batches, 1, label, false);
    });
  };
  if (wanted("bulk")) bulk = bulk_runs(scattered, "bulk (SST), 1 stream");
  if (wanted("export")) {
    exported = bulk_runs(RowOrder::Export(flags.rows, flags.entities), "bulk (SST), export order");
  }
  std::filesystem::remove_all(flags.dir);

  std::printf("\n%-26s %12s %12s %12s %10s %6s\n", "median of runs", "rows/s", "vs Put loop",
              "vs WriteBatch", "goal", "met");
  const auto row = [ceiling, batched](const std::string& label, double rate, const char* goal,
                                      bool met) {
    const std::string ratio = ceiling > 0 ? absl::StrFormat("%.2fx", rate / ceiling) : "-";
    const std::string batch_ratio = batched > 0 ? absl::StrFormat("%.2fx", rate / batched) : "-";
    std::printf("%-26s %12.0f %12s %12s %10s %6s\n", label.c_str(), rate, ratio.c_str(),
                batch_ratio.c_str(), goal, met ? "yes" : "NO");
  };
  if (ceiling > 0) row("rocksdb::DB::Put loop", ceiling, "-", true);
  if (batched > 0) row("rocksdb::WriteBatch loop", batched, "-", true);
  for (const auto& [label, rate] : results) row(label, rate, ">=500k", rate >= 500'000);
  if (bulk > 0) row("bulk (SST), 1 stream", bulk, ">=2M", bulk >= 2'000'000);
  if (exported > 0) row("bulk (SST), export order", exported, ">=2M", exported >= 2'000'000);
  return 0;
}

}  // namespace
}  // namespace fabrique::bench

int main(int argc, char** argv) { return fabrique::bench::Main(argc, argv); }
