// The point-in-time join against pandas.merge_asof and DuckDB's ASOF JOIN on the same data, in
// the same run: wall time, peak memory and the content checksum of the result, median of
// --repeats.
//
//   features_join_bench [--entities=100000] [--events=100] [--labels=1000000] [--features=20]
//                       [--ttl_s=3600] [--seed=1] [--repeats=3] [--dir=/tmp/features_join_bench]
//                       [--small] [--reuse] [--baseline=true] [--duckdb=true] [--script=PATH]
//                       [--duckdb_script=PATH]
//                       [--window_rows=N] [--max_next=N] [--threads=N]   (PointInTimeJoinOptions)
//
// The data is generated from --seed (splitmix64), so every run and both sides see the same rows:
// each entity's events are spaced by random gaps of up to 4/3 of the TTL (a quarter of the gaps
// outlive it: expired nulls), 1% of the feature values are null, label times fall anywhere from
// a TTL before an entity's first event (nulls) to a TTL after its last, one label in ten on an
// exact event time, and 1% of the labels name entities without history. History goes into a
// RocksDB store by BulkLoader (SST ingestion) and is compacted, and into raw little-endian files
// for tools/bench/pit_join_pandas.py (see its docstring for the layout); neither side's loading
// is timed. DuckDB (tools/bench/duckdb/pit_join_duckdb.js under Debian's node, its package
// installed by tools/setup) reads the same files into in-memory tables, untimed. Exits 1 if the
// checksums differ. --small: 2k entities x 50 events, 20k labels.
// --reuse: keep a store loaded by an earlier run with the same sizes (for profiling the join).

#include <time.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "libs/features/storage/bulk_loader.h"
#include "libs/features/storage/family_tuning.h"
#include "libs/features/storage/feature_writer.h"
#include "libs/features/storage/online_merge.h"
#include "libs/features/storage/point_in_time_join.h"
#include "libs/kv/store.h"
#include "tools/bench/bench_support.h"
#include "tools/bench/split_mix.h"

namespace fabrique::features {
namespace {

using Clock = std::chrono::steady_clock;
using bench::CheckOk;
using bench::SplitMix;

constexpr int64_t kBaseTime = 1'700'000'000'000'000;  // Microseconds: November 2023.
constexpr int kLabelBatchRows = 10'000;

// Join settings under test (0 = PointInTimeJoinOptions' defaults).
struct Tuning {
  int64_t window_rows = 0;
  int64_t max_next = -1;
  int64_t threads = 0;
};

struct Sizes {
  int64_t entities = 100'000;
  int64_t events = 100;
  int64_t labels = 1'000'000;
  int features = 20;
  int64_t ttl_micros = int64_t{3600} * 1'000'000;
  uint64_t seed = 1;
  std::string Describe() const {
    return absl::StrFormat(
        "%d history rows (%d entities x %d events, %d float features, TTL %d s) x %d label "
        "events, seed %d",
        entities * events, entities, events, features, ttl_micros / 1'000'000, labels, seed);
  }
};

// Each entity has its own streams, so its event times can be regenerated for the labels.
SplitMix EntityStream(const Sizes& sizes, int64_t entity, uint64_t stream) {
  return SplitMix(sizes.seed * 0x100000001b3ULL ^ (static_cast<uint64_t>(entity) << 2 | stream));
}

std::vector<int64_t> EventTimes(const Sizes& sizes, int64_t entity) {
  SplitMix random = EntityStream(sizes, entity, 0);
  std::vector<int64_t> times(sizes.events);
  int64_t time = kBaseTime + random.Below(10 * sizes.ttl_micros);
  for (int64_t& t : times) {
    t = time;
    time += 1 + random.Below(sizes.ttl_micros * 4 / 3);
  }
  return times;
}

std::string EntityKey(int64_t entity) { return absl::StrFormat("cust%08d", entity); }

v1::FeatureGroup Group(const Sizes& sizes) {
  v1::FeatureGroup group;
  group.mutable_spec()->set_name("pit");
  group.mutable_spec()->set_entity("customer");
  group.mutable_spec()->mutable_ttl()->set_seconds(sizes.ttl_micros / 1'000'000);
  for (int f = 0; f < sizes.features; ++f) {
    v1::FeatureSpec* spec = group.mutable_spec()->add_features();
    spec->set_name(absl::StrCat("f", f));
    spec->set_type(v1::FEATURE_TYPE_FLOAT);
    spec->set_since_version(1);
  }
  group.set_schema_version(1);
  return group;
}

std::unique_ptr<kv::Store> OpenStore(const std::string& path) {
  kv::StoreOptions options;
  options.path = path;
  options.column_families = {"history", "online"};
  TuneFeatureFamilies(&options);
  InstallOnlineMerge(&options);  // FeatureWriter (the online merge of BulkLoader) requires it.
  absl::StatusOr<std::unique_ptr<kv::Store>> store = kv::Store::Open(options);
  CheckOk(store.status(), "open store");
  return std::move(store).value();
}

template <typename T>
void Put(std::string* out, T value) {
  out->append(reinterpret_cast<const char*>(&value), sizeof(T));
}

// Writes the history to the store (BulkLoader, ~500k rows per SST) and to `file`, a block of
// entities at a time so that memory stays bounded; then compacts.
void LoadHistory(const Sizes& sizes, kv::Store* store, const std::string& file) {
  FeatureWriterOptions writer_options;
  writer_options.store = store;
  absl::StatusOr<std::unique_ptr<FeatureWriter>> writer = FeatureWriter::Create(writer_options);
  CheckOk(writer.status(), "writer");
  BulkLoaderOptions loader_options;
  loader_options.store = store;
  loader_options.writer = writer->get();
  absl::StatusOr<std::unique_ptr<BulkLoader>> loader = BulkLoader::Create(loader_options);
  CheckOk(loader.status(), "loader");
  const v1::FeatureGroup group = Group(sizes);
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  const int64_t block = std::max<int64_t>(1, 500'000 / sizes.events);
  std::string raw;
  for (int64_t first = 0; first < sizes.entities; first += block) {
    v1::RowBatch batch;
    std::vector<v1::ValueColumn*> columns;
    for (int f = 0; f < sizes.features; ++f) {
      v1::FeatureColumn* column = batch.add_columns();
      column->mutable_feature()->set_feature(group.spec().features(f).name());
      columns.push_back(column->mutable_values());
    }
    raw.clear();
    for (int64_t e = first; e < std::min(sizes.entities, first + block); ++e) {
      SplitMix values = EntityStream(sizes, e, 1);
      for (int64_t time : EventTimes(sizes, e)) {
        batch.add_entity_keys(EntityKey(e));
        batch.add_event_time_unix_micros(time);
        Put(&raw, e);
        Put(&raw, time);
        for (v1::ValueColumn* column : columns) {
          const uint64_t r = values.Next();
          const bool null = r % 100 == 0;
          const float value = static_cast<float>(r >> 40) * (100.0f / (1 << 24)) - 50.0f;
          column->mutable_float_values()->add_values(null ? 0.0f : value);
          column->add_is_null(null);
          Put(&raw, null ? std::numeric_limits<float>::quiet_NaN() : value);
        }
      }
    }
    out.write(raw.data(), static_cast<std::streamsize>(raw.size()));
    CheckOk((*loader)->Load(group, batch).status(), "bulk load");
  }
  CheckOk(out.good() ? absl::OkStatus() : absl::DataLossError(file), "write history file");
  CheckOk(store->Compact(*store->Family("history")), "compact");
}

// The label events, in batches for the join, and written to `file` for pandas.
std::vector<v1::LabelEventBatch> MakeLabels(const Sizes& sizes, const std::string& file) {
  SplitMix random(sizes.seed ^ 0x6c6162656c73ULL);
  const int64_t absent = std::max<int64_t>(1, sizes.entities / 100);
  std::vector<v1::LabelEventBatch> batches;
  std::string raw;
  for (int64_t i = 0; i < sizes.labels; ++i) {
    if (i % kLabelBatchRows == 0) batches.emplace_back().add_entity_keys()->set_entity("customer");
    v1::LabelEventBatch& batch = batches.back();
    int64_t entity, time;
    if (random.Below(100) == 0) {  // An entity without history.
      entity = sizes.entities + random.Below(absent);
      time = kBaseTime + random.Below(10 * sizes.ttl_micros);
    } else {
      entity = random.Below(sizes.entities);
      const std::vector<int64_t> times = EventTimes(sizes, entity);
      if (random.Below(10) == 0) {
        time = times[random.Below(sizes.events)];
      } else {
        const int64_t low = times.front() - sizes.ttl_micros;
        time = low + random.Below(times.back() + sizes.ttl_micros - low);
      }
    }
    const int64_t label = random.Below(2);
    batch.mutable_entity_keys(0)->add_keys(EntityKey(entity));
    batch.add_event_time_unix_micros(time);
    batch.mutable_labels()->mutable_int64_values()->add_values(label);
    Put(&raw, entity);
    Put(&raw, time);
    Put(&raw, label);
  }
  std::ofstream(file, std::ios::binary | std::ios::trunc)
      .write(raw.data(), static_cast<std::streamsize>(raw.size()));
  return batches;
}

struct Figures {
  std::vector<double> wall_s, cpu_s, peak_mib;
  std::string sha256;
  std::string label;  // The table's row name.
};

void Record(Figures* figures, double wall, double cpu, double peak, const std::string& sha,
            int64_t rows, const std::string& detail) {
  if (!figures->sha256.empty() && figures->sha256 != sha) {
    std::fprintf(stderr, "%s: checksum changed between repeats\n", figures->label.c_str());
    std::exit(1);
  }
  figures->wall_s.push_back(wall);
  figures->cpu_s.push_back(cpu);
  figures->peak_mib.push_back(peak);
  figures->sha256 = sha;
  std::printf("  %-8.8s wall %7.3f s  cpu %7.3f s  peak %6.0f MiB  rows %lld  sha256 %.12s  %s\n",
              figures->label.c_str(), wall, cpu, peak, static_cast<long long>(rows), sha.c_str(),
              detail.c_str());
  std::fflush(stdout);
}

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// One in-process join of all label batches; chunks are counted and dropped (as a stream would
// send them on). Peak memory: VmHWM reset just before, so it counts the resident label batches,
// the store's caches and what the join allocates.
void RunOurs(const Sizes& sizes, const Tuning& tuning, kv::Store* store,
             const std::vector<v1::LabelEventBatch>& batches, Figures* figures) {
  bench::ResetPeakRss();
  PointInTimeJoinOptions options;
  options.store = store;
  options.groups = {Group(sizes)};
  for (const v1::FeatureSpec& spec : options.groups[0].spec().features()) {
    v1::FeatureRef& ref = options.features.emplace_back();
    ref.set_group("pit");
    ref.set_feature(spec.name());
  }
  options.window_rows = static_cast<int>(tuning.window_rows);
  if (tuning.max_next >= 0) options.max_next_before_seek = static_cast<int>(tuning.max_next);
  options.threads = static_cast<int>(tuning.threads);
  int64_t emitted = 0;
  options.on_chunk = [&emitted](v1::TrainingSetRows* chunk) {
    emitted += chunk->label_event_index_size();
    return absl::OkStatus();
  };
  const auto start = Clock::now();
  const double cpu_start = ProcessCpuSeconds();
  absl::StatusOr<std::unique_ptr<PointInTimeJoin>> join = PointInTimeJoin::Create(options);
  CheckOk(join.status(), "join");
  for (const v1::LabelEventBatch& batch : batches) CheckOk((*join)->Add(batch), "join add");
  absl::StatusOr<PointInTimeJoinSummary> summary = (*join)->Finish();
  CheckOk(summary.status(), "join finish");
  const int window_rows = (*join)->window_rows(), threads = (*join)->threads();
  join->reset();
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  figures->label = absl::StrCat("fabrique (in-process, <=", threads, " thr)");
  Record(
      figures, wall, ProcessCpuSeconds() - cpu_start, static_cast<double>(bench::PeakRssMib()),
      summary->content_sha256, emitted,
      absl::StrFormat("window %d, %d seeks, %d next", window_rows, summary->seeks, summary->steps));
}

double Number(const google::protobuf::Struct& json, const std::string& key) {
  auto it = json.fields().find(key);
  return it == json.fields().end() ? -1 : it->second.number_value();
}

// One run of the pandas script in a fresh interpreter; its own figures come back as JSON.
void RunPandas(const Sizes& sizes, const std::string& script, const std::string& dir,
               Figures* figures) {
  absl::StatusOr<std::string> out = bench::RunAndCapture(
      {"/usr/bin/python3", script, "--history=" + dir + "/history.bin",
       "--labels=" + dir + "/labels.bin", absl::StrCat("--features=", sizes.features),
       absl::StrCat("--ttl_micros=", sizes.ttl_micros)});
  CheckOk(out.status(), "pandas baseline");
  google::protobuf::Struct json;
  const auto parsed = google::protobuf::util::JsonStringToMessage(*out, &json);
  CheckOk(parsed.ok() ? absl::OkStatus() : absl::InternalError("bad JSON: " + *out), "pandas");
  figures->label = "pandas.merge_asof";
  Record(figures, Number(json, "wall_s"), Number(json, "cpu_s"), Number(json, "join_peak_mib"),
         json.fields().at("sha256").string_value(), static_cast<int64_t>(Number(json, "rows")),
         absl::StrFormat("whole-process ru_maxrss %.0f MiB", Number(json, "maxrss_mib")));
}

// One run of the DuckDB script under node, in a fresh process; its figures come back as JSON in
// the pandas script's shape. A missing package fails the run with the script's message.
void RunDuckDB(const Sizes& sizes, const std::string& script, const std::string& dir,
               Figures* figures) {
  absl::StatusOr<std::string> out = bench::RunAndCapture(
      {"node", script, "--history=" + dir + "/history.bin", "--labels=" + dir + "/labels.bin",
       absl::StrCat("--features=", sizes.features),
       absl::StrCat("--ttl_micros=", sizes.ttl_micros)});
  CheckOk(out.status(), "DuckDB baseline");
  google::protobuf::Struct json;
  const auto parsed = google::protobuf::util::JsonStringToMessage(*out, &json);
  CheckOk(parsed.ok() ? absl::OkStatus() : absl::InternalError("bad JSON: " + *out), "DuckDB");
  figures->label =
      absl::StrFormat("DuckDB ASOF JOIN (%d thr)", static_cast<int>(Number(json, "threads")));
  Record(figures, Number(json, "wall_s"), Number(json, "cpu_s"), Number(json, "join_peak_mib"),
         json.fields().at("sha256").string_value(), static_cast<int64_t>(Number(json, "rows")),
         absl::StrFormat("whole-process ru_maxrss %.0f MiB", Number(json, "maxrss_mib")));
}

// The ratios of `ours` to one baseline, against the join's goals.
void PrintRatios(const Figures& ours, const Figures& baseline) {
  const double speedup = bench::Median(baseline.wall_s) / bench::Median(ours.wall_s);
  const double cpu_ratio = bench::Median(baseline.cpu_s) / bench::Median(ours.cpu_s);
  const double memory = bench::Median(ours.peak_mib) / bench::Median(baseline.peak_mib);
  std::printf("against %s:\n", baseline.label.c_str());
  std::printf("  speed-up      %6.2fx wall, %.2fx CPU\n", speedup, cpu_ratio);
  std::printf("  memory ratio  %6.3fx\n", memory);
  std::printf("  checksums     %s\n", ours.sha256 == baseline.sha256 ? "IDENTICAL" : "DIFFERENT");
}

void PrintTable(const Sizes& sizes, int repeats, const Figures& ours, const Figures* pandas,
                const Figures* duckdb) {
  std::printf("\npoint-in-time join, %s; median of %d repeats\n", sizes.Describe().c_str(),
              repeats);
  std::printf("%-30s %8s %8s %9s  %s\n", "", "wall s", "CPU s", "peak MiB", "sha256");
  for (const Figures* f : {&ours, pandas, duckdb}) {
    if (f == nullptr) continue;
    std::printf("%-30s %8.3f %8.3f %9.0f  %s\n", f->label.c_str(), bench::Median(f->wall_s),
                bench::Median(f->cpu_s), bench::Median(f->peak_mib), f->sha256.c_str());
  }
  if (duckdb != nullptr) {
    PrintRatios(ours, *duckdb);
    const double speedup = bench::Median(duckdb->wall_s) / bench::Median(ours.wall_s);
    std::printf("  faster than DuckDB: %s\n", speedup > 1 ? "yes" : "NO");
  }
  if (pandas == nullptr) return;
  std::printf("against %s:\n", pandas->label.c_str());
  const double speedup = bench::Median(pandas->wall_s) / bench::Median(ours.wall_s);
  const double cpu_ratio = bench::Median(pandas->cpu_s) / bench::Median(ours.cpu_s);
  const double memory = bench::Median(ours.peak_mib) / bench::Median(pandas->peak_mib);
  std::printf("speed-up      %6.2fx wall, %.2fx CPU  (goal >= 5x:   %s)\n", speedup, cpu_ratio,
              speedup >= 5 ? "met" : "MISSED");
  std::printf("memory ratio  %6.3fx  (goal <= 0.5x: %s)\n", memory,
              memory <= 0.5 ? "met" : "MISSED");
  std::printf("checksums     %s\n", ours.sha256 == pandas->sha256 ? "IDENTICAL" : "DIFFERENT");
}

}  // namespace
}  // namespace fabrique::features

int main(int argc, char** argv) {
  namespace features = fabrique::features;
  features::Sizes sizes;
  features::Tuning tuning;
  int repeats = 3;
  std::string dir = "/tmp/features_join_bench";
  std::string script = std::string(FABRIQUE_SOURCE_DIR) + "/tools/bench/pit_join_pandas.py";
  std::string duckdb_script =
      std::string(FABRIQUE_SOURCE_DIR) + "/tools/bench/duckdb/pit_join_duckdb.js";
  bool reuse = false, baseline = true, duckdb = true;
  std::map<std::string, int64_t*> numbers = {
      {"entities", &sizes.entities},  {"events", &sizes.events},
      {"labels", &sizes.labels},      {"window_rows", &tuning.window_rows},
      {"max_next", &tuning.max_next}, {"threads", &tuning.threads}};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const std::string value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    if (!absl::StartsWith(arg, "--")) {
      std::fprintf(stderr, "unexpected argument %s\n", arg.c_str());
      return 2;
    } else if (numbers.count(name) != 0) {
      *numbers[name] = std::stoll(value);
    } else if (name == "features") {
      sizes.features = std::stoi(value);
    } else if (name == "ttl_s") {
      sizes.ttl_micros = std::stoll(value) * 1'000'000;
    } else if (name == "seed") {
      sizes.seed = std::stoull(value);
    } else if (name == "repeats") {
      repeats = std::stoi(value);
    } else if (name == "dir") {
      dir = value;
    } else if (name == "script") {
      script = value;
    } else if (name == "duckdb_script") {
      duckdb_script = value;
    } else if (name == "duckdb") {
      duckdb = value != "false";
    } else if (name == "small") {
      sizes.entities = 2'000, sizes.events = 50, sizes.labels = 20'000;
    } else if (name == "reuse") {
      reuse = true;
    } else if (name == "baseline") {
      baseline = value != "false";
    } else {
      std::fprintf(stderr, "unknown flag %s (see the comment at the top of %s)\n", arg.c_str(),
                   __FILE__);
      return 2;
    }
  }
  // Keys are "cust%08d": the Python side writes exactly 8 digits.
  if (sizes.entities + sizes.entities / 100 >= 100'000'000 || sizes.events < 1 || repeats < 1 ||
      sizes.features < 1 || sizes.ttl_micros < 3) {
    std::fprintf(stderr, "sizes out of range\n");
    return 2;
  }
  std::printf("features_join_bench: %s, data in %s\n", sizes.Describe().c_str(), dir.c_str());
  const std::string marker = dir + "/LOADED";
  const bool loaded = reuse && [&] {
    std::ifstream in(marker);
    std::string line;
    return std::getline(in, line) && line == sizes.Describe();
  }();
  if (!loaded) std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::unique_ptr<fabrique::kv::Store> store = features::OpenStore(dir + "/store");
  const auto load_start = features::Clock::now();
  if (!loaded) {
    features::LoadHistory(sizes, store.get(), dir + "/history.bin");
    std::ofstream(marker) << sizes.Describe() << "\n";
  }
  const std::vector<fabrique::v1::LabelEventBatch> labels =
      features::MakeLabels(sizes, dir + "/labels.bin");
  std::printf("generated%s in %.1f s (not timed)\n",
              loaded ? " labels (history reused)" : " and loaded",
              std::chrono::duration<double>(features::Clock::now() - load_start).count());
  features::Figures ours, pandas, duck;
  for (int r = 0; r < repeats; ++r) {
    features::RunOurs(sizes, tuning, store.get(), labels, &ours);
    if (baseline) features::RunPandas(sizes, script, dir, &pandas);
    if (duckdb) features::RunDuckDB(sizes, duckdb_script, dir, &duck);
  }
  features::PrintTable(sizes, repeats, ours, baseline ? &pandas : nullptr,
                       duckdb ? &duck : nullptr);
  const bool differ =
      (baseline && ours.sha256 != pandas.sha256) || (duckdb && ours.sha256 != duck.sha256);
  return differ ? 1 : 0;
}
