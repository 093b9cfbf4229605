// Throughput of the feature store's storage core on a real disk, for the figures in the README:
// durable ingest (kSync vs group commit, 1..4 writers), bulk backfill by SST ingestion, online
// lookup latency (1 and 100 entities x 50 features) and the point-in-time join, scaled by
// --scale (1 = 100k entities x 10 events for the join; 10 = 10M history rows, the README's figure).
//
//   features_storage_bench [--dir=/tmp/x] [--scale=1] [--only=ingest,bulk,lookup,join] [--keep]
//                          [--small]
//
// Each phase checks what it did and exits 1 when it is wrong: every row written (ingest, bulk),
// every looked-up entity present with its stored values (lookup), one row per label event
// (join). --small: 20,000 rows per ingest run, 100,000 bulk rows, 5,000 entities looked up 300
// times, a join of 1,000 entities x 100 events x 10,000 labels: the checks alone, in seconds
// (tools/bench/run_small).
//
// --keep leaves the loaded join history in --dir, so a second run measures the join alone in a
// fresh process (its peak memory then excludes the load).

#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/features/storage/bulk_loader.h"
#include "libs/features/storage/family_tuning.h"
#include "libs/features/storage/feature_writer.h"
#include "libs/features/storage/online_merge.h"
#include "libs/features/storage/online_reader.h"
#include "libs/features/storage/point_in_time_join.h"
#include "libs/features/storage/storage_keys.h"
#include "libs/kv/rocksdb_status.h"
#include "libs/kv/store.h"
#include "rocksdb/db.h"

namespace fabrique::features {
namespace {

using Clock = std::chrono::steady_clock;

// CPU seconds used by the process so far (all threads): robust to other load on the machine.
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// CPU seconds of the calling thread: excludes time other processes held the core.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The process's peak resident memory (VmHWM), in MiB.
long PeakRssMib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "VmHWM:")) return std::stol(line.substr(6)) / 1024;
  }
  return -1;
}

// Resets VmHWM to the current resident size (Linux >= 4.0), so a phase's peak can be measured.
void ResetPeakRss() { std::ofstream("/proc/self/clear_refs") << "5"; }

v1::FeatureGroup FloatGroup(const std::string& name, int features) {
  v1::FeatureGroup group;
  group.mutable_spec()->set_name(name);
  group.mutable_spec()->set_entity("customer");
  for (int f = 0; f < features; ++f) {
    v1::FeatureSpec* spec = group.mutable_spec()->add_features();
    spec->set_name("f" + std::to_string(f));
    spec->set_type(v1::FEATURE_TYPE_FLOAT);
  }
  group.set_schema_version(1);
  return group;
}

std::string Entity(int64_t e) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "cust%08lld", static_cast<long long>(e));
  return buffer;
}

// `rows` rows: row i is entity entity_of(i) at time time_of(i), feature f = i + f.
template <typename EntityOf, typename TimeOf>
v1::RowBatch FloatBatch(const v1::FeatureGroup& group, int64_t first, int rows, EntityOf entity_of,
                        TimeOf time_of) {
  v1::RowBatch batch;
  for (int i = 0; i < rows; ++i) {
    batch.add_entity_keys(Entity(entity_of(first + i)));
    batch.add_event_time_unix_micros(time_of(first + i));
  }
  for (int f = 0; f < group.spec().features_size(); ++f) {
    v1::FeatureColumn* column = batch.add_columns();
    column->mutable_feature()->set_feature(group.spec().features(f).name());
    auto* values = column->mutable_values()->mutable_float_values()->mutable_values();
    values->Reserve(rows);
    for (int i = 0; i < rows; ++i) values->Add(static_cast<float>(first + i + f));
  }
  return batch;
}

std::unique_ptr<kv::Store> OpenStore(const std::string& path, bool fresh = true) {
  if (fresh) std::filesystem::remove_all(path);
  kv::StoreOptions options;
  options.path = path;
  FamilyTuning tuning;
  if (const char* block = std::getenv("HISTORY_BLOCK_KIB")) {
    tuning.history_block_bytes = std::stoul(block) << 10;
  }
  if (std::getenv("HISTORY_SNAPPY") != nullptr) tuning.history_lz4 = false;
  TuneFeatureFamilies(&options, tuning);
  InstallOnlineMerge(&options);
  options.column_families = {"history", "online"};
  absl::StatusOr<std::unique_ptr<kv::Store>> store = kv::Store::Open(options);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(store).value();
}

void Check(const absl::Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
    std::exit(1);
  }
}

// Exits 1 with `what` unless `actual` == `expected`.
void CheckCount(int64_t actual, int64_t expected, const std::string& what) {
  if (actual == expected) return;
  std::fprintf(stderr, "%s: %lld, expected %lld\n", what.c_str(), static_cast<long long>(actual),
               static_cast<long long>(expected));
  std::exit(1);
}

// The sizes of the phases.
struct Sizes {
  int64_t ingest_rows = 1'000'000;  // Per ingest run.
  int64_t ceiling_rows = 1'000'000;
  int64_t bulk_rows = 2'000'000;
  int64_t lookup_entities = 100'000;
  int lookups = 3000;              // Per lookup size.
  int64_t join_entities = 10'000;  // Times --scale.
  int64_t join_labels = 100'000;   // Times --scale.
};

// Ingests `total` rows of 20 floats over 100k entities in batches of `batch_rows` from
// `threads` writers; prints rows/s.
void BenchIngest(const std::string& dir, Durability durability, int threads, int64_t total,
                 int batch_rows) {
  std::unique_ptr<kv::Store> store = OpenStore(dir + "/ingest");
  FeatureWriterOptions options;
  options.store = store.get();
  options.durability = durability;
  std::unique_ptr<FeatureWriter> writer = *FeatureWriter::Create(options);
  const v1::FeatureGroup group = FloatGroup("ingest", 20);
  const int64_t per_thread = total / threads;
  // Batches are built before timing so that only the write path is measured.
  std::vector<std::vector<v1::RowBatch>> batches(threads);
  for (int t = 0; t < threads; ++t) {
    for (int64_t first = t * per_thread; first < (t + 1) * per_thread; first += batch_rows) {
      const int n = static_cast<int>(std::min<int64_t>(batch_rows, (t + 1) * per_thread - first));
      batches[t].push_back(FloatBatch(
          group, first, n, [](int64_t i) { return (i * 7919) % 100000; },
          [](int64_t i) { return 1'700'000'000'000'000 + i; }));
    }
  }
  std::atomic<int64_t> written{0};
  const auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (const v1::RowBatch& batch : batches[t]) {
        absl::StatusOr<WriteResult> result = writer->Write(group, batch);
        Check(result.status(), "write");
        written += result->rows_written;
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  const double seconds = Seconds(start);
  CheckCount(written.load(), per_thread * threads, "ingest: rows written");
  const char* mode = durability == Durability::kSync          ? "kSync"
                     : durability == Durability::kGroupCommit ? "group commit"
                                                              : "no fsync";
  std::printf("ingest  %-12s writers=%d batch=%5d  %9.0f rows/s  (%lld rows, %lld fsyncs)\n", mode,
              threads, batch_rows, per_thread * threads / seconds,
              static_cast<long long>(per_thread * threads),
              static_cast<long long>(writer->committer().syncs()));
}

// The ceiling: a plain rocksdb::DB::Put loop (no batching, no fsync) of `total` history-like
// keys (random entity order) with 94-byte values, and the same keys written sorted in batches of
// 10000 (what FeatureWriter does, minus the online view).
void BenchCeiling(const std::string& dir, int64_t total) {
  for (bool batched : {false, true}) {
    std::unique_ptr<kv::Store> store = OpenStore(dir + "/ceiling");
    const kv::ColumnFamily history = *store->Family("history");
    const std::string value(94, 'v');
    std::vector<std::string> keys;
    keys.reserve(total);
    for (int64_t i = 0; i < total; ++i) {
      keys.push_back(HistoryKey("ceiling", Entity((i * 7919) % 100000), i));
    }
    const auto start = Clock::now();
    if (!batched) {
      rocksdb::DB* db = store->raw_db();
      rocksdb::WriteOptions write;
      for (const std::string& key : keys) {
        Check(kv::FromRocksDbStatus(db->Put(write, history.handle(), key, value), "put"), "put");
      }
    } else {
      for (int64_t first = 0; first < total; first += 10000) {
        std::sort(keys.begin() + first, keys.begin() + std::min(total, first + 10000));
        kv::WriteBatch batch;
        for (int64_t i = first; i < std::min(total, first + 10000); ++i) {
          batch.Put(history, keys[i], value);
        }
        Check(store->Write(batch, kv::SyncMode::kNoSync), "write");
      }
    }
    std::printf("ceiling %-34s %9.0f rows/s  (%lld rows, no fsync)\n",
                batched ? "sorted WriteBatch of 10000" : "plain rocksdb::DB::Put loop",
                total / Seconds(start), static_cast<long long>(total));
  }
}

void BenchBulk(const std::string& dir, int64_t total) {
  std::unique_ptr<kv::Store> store = OpenStore(dir + "/bulk");
  FeatureWriterOptions writer_options;
  writer_options.store = store.get();
  std::unique_ptr<FeatureWriter> writer = *FeatureWriter::Create(writer_options);
  BulkLoaderOptions options;
  options.store = store.get();
  options.writer = writer.get();
  std::unique_ptr<BulkLoader> loader = *BulkLoader::Create(options);
  const v1::FeatureGroup group = FloatGroup("bulk", 20);
  constexpr int64_t kBatch = 500'000;
  std::vector<v1::RowBatch> batches;
  // Sorted by entity then ascending time, 100 events per entity, as an export would be.
  for (int64_t first = 0; first < total; first += kBatch) {
    batches.push_back(FloatBatch(
        group, first, static_cast<int>(std::min(kBatch, total - first)),
        [](int64_t i) { return i / 100; },
        [](int64_t i) { return 1'700'000'000'000'000 + (i % 100) * 1000; }));
  }
  int64_t written = 0;
  const auto start = Clock::now();
  for (const v1::RowBatch& batch : batches) {
    absl::StatusOr<BulkLoadResult> result = loader->Load(group, batch);
    Check(result.status(), "bulk");
    written += result->rows_written;
  }
  CheckCount(written, total, "bulk: rows written");
  std::printf("bulk    SST ingestion %lld rows            %9.0f rows/s\n",
              static_cast<long long>(total), total / Seconds(start));
}

// Checks that `response` holds, for each entity of `request`, its stored values (entity e's
// feature f is e + f); exits 1 otherwise.
void CheckLookup(const v1::LookupOnlineRequest& request, const v1::LookupOnlineResponse& response,
                 int features) {
  const auto& keys = request.entity_keys(0).keys();
  CheckCount(response.row_count(), keys.size(), "lookup: rows answered");
  CheckCount(response.columns_size(), features, "lookup: columns answered");
  for (int f = 0; f < features; ++f) {
    const v1::OnlineFeatureColumn& column = response.columns(f);
    for (int r = 0; r < keys.size(); ++r) {
      const int64_t entity = std::stoll(keys[r].substr(4));  // "cust%08lld".
      if (column.statuses(r) != v1::VALUE_STATUS_PRESENT ||
          column.values().float_values().values(r) != static_cast<float>(entity + f)) {
        std::fprintf(stderr, "lookup: %s feature f%d is not what was stored\n", keys[r].c_str(), f);
        std::exit(1);
      }
    }
  }
}

void BenchLookup(const std::string& dir, int64_t entities, int lookups) {
  std::unique_ptr<kv::Store> store = OpenStore(dir + "/lookup");
  FeatureWriterOptions options;
  options.store = store.get();
  options.durability = Durability::kProcessCrashOnly;
  std::unique_ptr<FeatureWriter> writer = *FeatureWriter::Create(options);
  const v1::FeatureGroup group = FloatGroup("lookup", 50);
  for (int64_t first = 0; first < entities; first += 10000) {
    Check(writer
              ->Write(group, FloatBatch(
                                 group, first, 10000, [](int64_t i) { return i; },
                                 [](int64_t i) { return 1'700'000'000'000'000 + i; }))
              .status(),
          "load");
  }
  // Steady state: no compaction running behind the measurement.
  Check(store->Flush(), "flush");
  Check(store->Compact(*store->Family("online")), "compact");
  OnlineReaderOptions reader_options;
  reader_options.store = store.get();
  std::unique_ptr<OnlineReader> reader = *OnlineReader::Create(reader_options);
  const std::vector<const v1::FeatureGroup*> groups = {&group};
  std::mt19937_64 random(1);
  for (int n : {1, 100}) {
    std::vector<double> micros, cpu_micros;
    v1::LookupOnlineResponse response;
    for (int iteration = 0; iteration < lookups; ++iteration) {
      v1::LookupOnlineRequest request;
      for (int f = 0; f < 50; ++f) {
        v1::FeatureRef* ref = request.add_features();
        ref->set_group("lookup");
        ref->set_feature("f" + std::to_string(f));
      }
      v1::EntityKeys* keys = request.add_entity_keys();
      for (int e = 0; e < n; ++e) keys->add_keys(Entity(static_cast<int64_t>(random() % entities)));
      const auto start = Clock::now();
      const double cpu_start = ThreadCpuSeconds();
      Check(reader->Lookup(request, groups, &response), "lookup");
      micros.push_back(Seconds(start) * 1e6);
      cpu_micros.push_back((ThreadCpuSeconds() - cpu_start) * 1e6);
      CheckLookup(request, response, 50);
    }
    std::sort(micros.begin(), micros.end());
    std::sort(cpu_micros.begin(), cpu_micros.end());
    double sum = 0;
    for (double m : micros) sum += m;
    std::printf(
        "lookup  %3d entities x 50 features, %lld stored: p50 %6.1f us  p99 %6.1f us  "
        "%6.0f lookups/s (1 thread); on-CPU p50 %6.1f us  p99 %6.1f us\n",
        n, static_cast<long long>(entities), micros[micros.size() / 2],
        micros[micros.size() * 99 / 100], micros.size() / (sum / 1e6),
        cpu_micros[cpu_micros.size() / 2], cpu_micros[cpu_micros.size() * 99 / 100]);
  }
}

void BenchJoin(const std::string& dir, int64_t entities, int events_per_entity, int64_t labels,
               int window_rows, bool fill_cache) {
  // A loaded history is kept (with --keep) so the join can be measured in a fresh process.
  const int64_t rows = entities * events_per_entity;
  const std::string marker = absl::StrCat(dir, "/join/LOADED-", rows);
  const bool loaded = std::filesystem::exists(marker);
  std::unique_ptr<kv::Store> store = OpenStore(dir + "/join", !loaded);
  FeatureWriterOptions writer_options;
  writer_options.store = store.get();
  std::unique_ptr<FeatureWriter> writer = *FeatureWriter::Create(writer_options);
  BulkLoaderOptions options;
  options.store = store.get();
  options.writer = writer.get();
  std::unique_ptr<BulkLoader> loader = *BulkLoader::Create(options);
  const v1::FeatureGroup group = FloatGroup("join", 20);
  const auto load_start = Clock::now();
  for (int64_t first = 0; first < rows && !loaded; first += 500'000) {
    const int n = static_cast<int>(std::min<int64_t>(500'000, rows - first));
    Check(loader
              ->Load(group,
                     FloatBatch(
                         group, first, n,
                         [events_per_entity](int64_t i) { return i / events_per_entity; },
                         [events_per_entity](int64_t i) { return (i % events_per_entity) * 1000; }))
              .status(),
          "load");
  }
  if (!loaded) {
    Check(store->Compact(*store->Family("history")), "compact");
    std::ofstream(marker) << "loaded\n";
    std::printf("join    history %lld rows loaded+compacted in %.1f s\n",
                static_cast<long long>(rows), Seconds(load_start));
  }
  // Label events are generated first, so that only the join is timed.
  std::mt19937_64 random(2);
  std::vector<v1::LabelEventBatch> batches;
  for (int64_t first = 0; first < labels; first += 10000) {
    v1::LabelEventBatch& batch = batches.emplace_back();
    v1::EntityKeys* keys = batch.add_entity_keys();
    for (int64_t i = first; i < std::min(labels, first + 10000); ++i) {
      keys->add_keys(Entity(static_cast<int64_t>(random() % entities)));
      batch.add_event_time_unix_micros(static_cast<int64_t>(random() % (events_per_entity * 1000)));
      batch.mutable_labels()->mutable_int64_values()->add_values(
          static_cast<int64_t>(random() % 2));
    }
  }
  ResetPeakRss();
  const long rss_before = PeakRssMib();
  PointInTimeJoinOptions join_options;
  join_options.store = store.get();
  for (int f = 0; f < 20; ++f) {
    v1::FeatureRef& ref = join_options.features.emplace_back();
    ref.set_group("join");
    ref.set_feature("f" + std::to_string(f));
  }
  join_options.groups = {group};
  join_options.window_rows = window_rows;
  join_options.fill_cache = fill_cache;
  int64_t emitted = 0;
  join_options.on_chunk = [&emitted](v1::TrainingSetRows* chunk) {
    emitted += chunk->label_event_index_size();
    return absl::OkStatus();
  };
  const auto start = Clock::now();
  const double cpu_start = CpuSeconds();
  std::unique_ptr<PointInTimeJoin> join = *PointInTimeJoin::Create(join_options);
  for (const v1::LabelEventBatch& batch : batches) Check(join->Add(batch), "add");
  absl::StatusOr<PointInTimeJoinSummary> summary = join->Finish();
  Check(summary.status(), "finish");
  CheckCount(emitted, labels, "join: rows emitted");
  CheckCount(summary->rows, labels, "join: rows in the summary");
  const double seconds = Seconds(start);
  const double cpu = CpuSeconds() - cpu_start;
  std::printf(
      "join    window %d%s: %lld labels x 20 features over %lld rows: %.2f s (%.2f s CPU), "
      "peak RSS %ld MiB "
      "(%ld before the join), sha256 %.16s...\n",
      join->window_rows(), fill_cache ? " fill_cache" : "", static_cast<long long>(emitted),
      static_cast<long long>(rows), seconds, cpu, PeakRssMib(), rss_before,
      summary->content_sha256.c_str());
}

}  // namespace
}  // namespace fabrique::features

int main(int argc, char** argv) {
  std::string dir = "/tmp/fabrique_storage_bench";
  int scale = 1;
  std::string only = "ceiling,ingest,bulk,lookup,join";
  bool keep = false;
  int window = 0;  // PointInTimeJoinOptions::window_rows; 0 = its default.
  bool fill_cache = false;
  fabrique::features::Sizes sizes;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (absl::StartsWith(arg, "--dir=")) dir = arg.substr(6);
    if (absl::StartsWith(arg, "--scale=")) scale = std::stoi(arg.substr(8));
    if (absl::StartsWith(arg, "--only=")) only = arg.substr(7);
    if (arg == "--keep") keep = true;
    if (absl::StartsWith(arg, "--window=")) window = std::stoi(arg.substr(9));
    if (arg == "--fill_cache") fill_cache = true;
    if (arg == "--small") {
      sizes.ingest_rows = 20'000;
      sizes.ceiling_rows = 20'000;
      sizes.bulk_rows = 100'000;
      sizes.lookup_entities = 5'000;
      sizes.lookups = 300;
      sizes.join_entities = 1'000;
      sizes.join_labels = 10'000;
    }
  }
  using fabrique::features::Durability;
  namespace features = fabrique::features;
  const int64_t rows = sizes.ingest_rows;
  if (only == "profile-ingest") {
    features::BenchIngest(dir, Durability::kProcessCrashOnly, 1, rows, 10000);
  } else if (absl::StrContains(only, "ingest")) {
    features::BenchIngest(dir, Durability::kSync, 1, rows, 1000);
    features::BenchIngest(dir, Durability::kGroupCommit, 1, rows, 1000);
    features::BenchIngest(dir, Durability::kSync, 2, rows, 1000);
    features::BenchIngest(dir, Durability::kGroupCommit, 2, rows, 1000);
    features::BenchIngest(dir, Durability::kGroupCommit, 4, rows, 1000);
    features::BenchIngest(dir, Durability::kGroupCommit, 2, rows, 10000);
    features::BenchIngest(dir, Durability::kProcessCrashOnly, 2, rows, 10000);
  }
  if (absl::StrContains(only, "ceiling")) features::BenchCeiling(dir, sizes.ceiling_rows);
  if (absl::StrContains(only, "bulk")) features::BenchBulk(dir, sizes.bulk_rows);
  if (absl::StrContains(only, "lookup")) {
    features::BenchLookup(dir, sizes.lookup_entities, sizes.lookups);
  }
  if (absl::StrContains(only, "join")) {
    features::BenchJoin(dir, sizes.join_entities * scale, 100, sizes.join_labels * scale, window,
                        fill_cache);
  }
  if (!keep) std::filesystem::remove_all(dir);
  return 0;
}
