// Windowed aggregates in a training set, against pandas and DuckDB on the same data, in the same
// run; and the online lookup of aggregates beside a plain feature lookup.
//
//   features_aggregate_bench [--entities=100000] [--events=100] [--labels=1000000] [--tile_s=60]
//                            [--seed=1] [--repeats=3] [--dir=/tmp/features_aggregate_bench]
//                            [--small] [--only=training|lookup|write] [--pandas=true]
//                            [--duckdb=true]
//                            [--lookup_entities=10000] [--lookups=20000]
//
// Training set: count, sum and mean of the payments' amount over 1 h and 1 d, as of each label's
// time, with the README's window semantics (at T, with S = floor(T/tile)*tile, the events in
// [S - window, T]). Fabrique builds it in process, as the service does for BuildTrainingSet
// (TrainingSetBuild over a FeatureStore: the payments bulk-ingested and the aggregation group
// applied beforehand, not timed); pandas (tools/bench/aggregate_pandas.py: the reference
// computation, groupby(entity).rolling over probe rows) and DuckDB
// (tools/bench/duckdb/aggregate_duckdb.js under node: a running window aggregate with a RANGE
// frame, then ASOF JOINs at each window's bounds) read the same rows from raw files, untimed,
// each in a fresh process per repeat. Wall time, CPU time, peak resident memory of the timed
// phase (VmHWM reset just before it) and the SHA-256 of the rows' canonical bytes
// (libs/features/storage/content_hash.h; for Fabrique, over the rows the build emits, hashed as
// they come, that time left out); exits 1 if the checksums differ. Median of --repeats.
// The data: see tools/bench/aggregate_bench_data.h.
//
// Lookup: see tools/bench/aggregate_lookup_bench.h.
//
// Write (--only=write, not part of the default run): backfill and streaming ingest with the
// aggregation group's tiles, see tools/bench/aggregate_write_bench.h.
//
// --small: 2k customers x 50 payments, 20k labels, 1000 customers and 2000 lookups, one repeat:
// the checks alone, in seconds (tools/bench/run_small).

#include <time.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "libs/features/storage/content_hash.h"
#include "libs/features/store/training_set_build.h"
#include "tools/bench/aggregate_bench_data.h"
#include "tools/bench/aggregate_bench_store.h"
#include "tools/bench/aggregate_lookup_bench.h"
#include "tools/bench/aggregate_write_bench.h"
#include "tools/bench/bench_support.h"

namespace fabrique::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kBaseTime = 1'700'000'000'000'000;  // Microseconds: November 2023.
constexpr char kSource[] = "payments";
constexpr char kAggregates[] = "payments_agg";

struct Figures {
  std::string label;  // The table's row name.
  std::vector<double> wall_s, cpu_s, peak_mib;
  std::string sha256;
  std::string unavailable;  // Why there are no figures, when there are none.
};

void Record(Figures* figures, double wall, double cpu, double peak, const std::string& sha,
            int64_t rows) {
  if (!figures->sha256.empty() && figures->sha256 != sha) {
    std::fprintf(stderr, "%s: checksum changed between repeats\n", figures->label.c_str());
    std::exit(1);
  }
  figures->wall_s.push_back(wall);
  figures->cpu_s.push_back(cpu);
  figures->peak_mib.push_back(peak);
  figures->sha256 = sha;
  std::printf("  %-28s wall %7.3f s  cpu %7.3f s  peak %6.0f MiB  rows %lld  sha256 %.12s\n",
              figures->label.c_str(), wall, cpu, peak, static_cast<long long>(rows), sha.c_str());
  std::fflush(stdout);
}

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// The store with the payments bulk-ingested and the aggregation group applied (its backfill
// computes the tiles from that history); `features` gets the group's output names. Not timed,
// but the backfill's time is printed.
absl::Status LoadOurs(const AggregateSizes& sizes, BenchFeatureStore& bench,
                      const std::string& payments_file, std::vector<std::string>* features) {
  if (absl::Status s = bench.ApplyGroup(kSource, {"amount"}, v1::FEATURE_TYPE_DOUBLE); !s.ok()) {
    return s;
  }
  WritePayments(sizes, kBaseTime, payments_file, kSource, 200'000, [&](v1::IngestRequest& batch) {
    absl::StatusOr<v1::IngestBatchResult> result = bench.store().Ingest(batch);
    CheckOk(result.status(), "bulk ingest");
  });
  const auto start = Clock::now();
  absl::StatusOr<std::vector<std::string>> names = bench.ApplyAggregationGroup(
      kAggregates, kSource, sizes.tile_micros,
      {v1::AGGREGATION_FUNCTION_COUNT, v1::AGGREGATION_FUNCTION_SUM, v1::AGGREGATION_FUNCTION_MEAN},
      sizes.window_micros);
  if (!names.ok()) return names.status();
  std::printf("aggregation group applied, backfill from %lld history rows in %.1f s\n",
              static_cast<long long>(sizes.entities * sizes.events),
              std::chrono::duration<double>(Clock::now() - start).count());
  *features = *std::move(names);
  return absl::OkStatus();
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// The canonical bytes of content_hash.h over the rows a build emits, in order. The dataset's
// own content_sha256 is the join's, taken before the aggregation columns are filled in (it
// hashes them as nulls), so it cannot be compared with the baselines'.
class EmittedRowsHasher {
 public:
  void Add(const v1::TrainingSetRows& rows) {
    const double wall_start = WallSeconds(), cpu_start = ThreadCpuSeconds();
    for (int i = 0; i < rows.label_event_index_size(); ++i) {
      hasher_.AddInt64(rows.label_event_index(i));
      for (const v1::EntityKeys& keys : rows.entity_keys()) hasher_.AddBytes(keys.keys(i));
      hasher_.AddInt64(rows.event_time_unix_micros(i));
      hasher_.AddValue(rows.labels(), i, v1::FEATURE_TYPE_INT64);
      for (const v1::FeatureColumn& column : rows.features()) {
        hasher_.AddValue(
            column.values(), i,
            column.values().has_int64_values() ? v1::FEATURE_TYPE_INT64 : v1::FEATURE_TYPE_DOUBLE);
      }
    }
    wall_s_ += WallSeconds() - wall_start;
    cpu_s_ += ThreadCpuSeconds() - cpu_start;
  }
  std::string HexDigest() { return hasher_.HexDigest(); }
  // Time spent hashing, left out of the build's figures.
  double wall_s() const { return wall_s_; }
  double cpu_s() const { return cpu_s_; }

 private:
  static double WallSeconds() {
    return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
  }
  features::ContentHasher hasher_;
  double wall_s_ = 0, cpu_s_ = 0;
};

// One training set of the aggregates for all the labels, in process; row chunks are hashed
// (that time left out) and dropped, as the service would send them on.
void RunOurs(BenchFeatureStore& bench, const std::vector<std::string>& features,
             const std::vector<v1::LabelEventBatch>& labels, Figures* figures) {
  v1::TrainingSetSpec spec;
  for (const std::string& name : features) {
    v1::FeatureRef* ref = spec.add_features();
    ref->set_group(kAggregates);
    ref->set_feature(name);
  }
  spec.mutable_label()->mutable_events();
  spec.set_dataset_name("aggregate bench");
  int64_t rows = 0;
  EmittedRowsHasher hasher;
  ResetPeakRss();
  const auto start = Clock::now();
  const double cpu_start = ProcessCpuSeconds();
  absl::StatusOr<std::unique_ptr<features::TrainingSetBuild>> build =
      features::TrainingSetBuild::Start(bench.store(), spec, bench.caller(),
                                        [&](v1::BuildTrainingSetResponse* response) {
                                          if (response->has_rows()) {
                                            rows += response->rows().label_event_index_size();
                                            hasher.Add(response->rows());
                                          }
                                          return absl::OkStatus();
                                        });
  CheckOk(build.status(), "training set start");
  for (const v1::LabelEventBatch& batch : labels) CheckOk((*build)->AddEvents(batch), "add");
  CheckOk((*build)->Finish().status(), "training set finish");
  build->reset();
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = ProcessCpuSeconds() - cpu_start;
  figures->label = "fabrique (in process)";
  Record(figures, wall - hasher.wall_s(), cpu - hasher.cpu_s(), static_cast<double>(PeakRssMib()),
         hasher.HexDigest(), rows);
}

double Number(const google::protobuf::Struct& json, const std::string& key) {
  auto it = json.fields().find(key);
  return it == json.fields().end() ? -1 : it->second.number_value();
}

// One run of a baseline script in a fresh process; its figures come back as JSON.
void RunBaseline(const std::vector<std::string>& argv, Figures* figures) {
  absl::StatusOr<std::string> out = RunAndCapture(argv);
  CheckOk(out.status(), figures->label.c_str());
  google::protobuf::Struct json;
  const auto parsed = google::protobuf::util::JsonStringToMessage(*out, &json);
  CheckOk(parsed.ok() ? absl::OkStatus() : absl::InternalError("bad JSON: " + *out),
          figures->label.c_str());
  if (json.fields().count("threads") != 0) {
    figures->label =
        absl::StrFormat("DuckDB (%d threads)", static_cast<int>(Number(json, "threads")));
  }
  Record(figures, Number(json, "wall_s"), Number(json, "cpu_s"), Number(json, "peak_mib"),
         json.fields().at("sha256").string_value(), static_cast<int64_t>(Number(json, "rows")));
}

// Prints the medians, and our ratios to each baseline against the goals (at least 5x faster
// than pandas, faster than DuckDB, at most half the memory of either, identical rows).
bool PrintTable(const AggregateSizes& sizes, int repeats, const Figures& ours,
                const std::vector<const Figures*>& baselines) {
  std::printf("\naggregates in a training set, %s; median of %d repeats\n",
              sizes.Describe().c_str(), repeats);
  std::printf("%-28s %8s %8s %9s  %s\n", "", "wall s", "CPU s", "peak MiB", "sha256");
  bool identical = true;
  for (const Figures* f : baselines) {
    std::printf("%-28s %8.3f %8.3f %9.0f  %s\n", f->label.c_str(), Median(f->wall_s),
                Median(f->cpu_s), Median(f->peak_mib), f->sha256.c_str());
  }
  if (!ours.unavailable.empty()) {
    std::printf("%-28s not measured: %s\n", ours.label.c_str(), ours.unavailable.c_str());
    return true;
  }
  std::printf("%-28s %8.3f %8.3f %9.0f  %s\n", ours.label.c_str(), Median(ours.wall_s),
              Median(ours.cpu_s), Median(ours.peak_mib), ours.sha256.c_str());
  for (const Figures* f : baselines) {
    const bool pandas = absl::StartsWith(f->label, "pandas");
    const double speedup = Median(f->wall_s) / Median(ours.wall_s);
    const double memory = Median(ours.peak_mib) / Median(f->peak_mib);
    std::printf(
        "against %s: %.2fx wall, %.2fx CPU (goal %s: %s); memory %.3fx (goal <= 0.5x: "
        "%s); checksums %s\n",
        f->label.c_str(), speedup, Median(f->cpu_s) / Median(ours.cpu_s), pandas ? ">= 5x" : "> 1x",
        speedup >= (pandas ? 5.0 : 1.0) && speedup > 1 ? "met" : "MISSED", memory,
        memory <= 0.5 ? "met" : "MISSED", f->sha256 == ours.sha256 ? "IDENTICAL" : "DIFFERENT");
    identical = identical && f->sha256 == ours.sha256;
  }
  return identical;
}

struct Flags {
  AggregateSizes sizes;
  LookupSizes lookup;
  int repeats = 3;
  std::string dir = "/tmp/features_aggregate_bench";
  std::string only;
  bool pandas = true, duckdb = true;
};

// Returns the exit code.
int RunTraining(const Flags& flags) {
  const AggregateSizes& sizes = flags.sizes;
  const std::string dir = flags.dir + "/training";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::printf("features_aggregate_bench: %s, data in %s\n", sizes.Describe().c_str(), dir.c_str());
  const auto load_start = Clock::now();
  std::unique_ptr<BenchFeatureStore> bench = BenchFeatureStore::Open(dir + "/store");
  std::vector<std::string> features;
  Figures ours{"fabrique (in process)"};
  if (absl::Status loaded = LoadOurs(sizes, *bench, dir + "/events.bin", &features); !loaded.ok()) {
    ours.unavailable = loaded.ToString();
    std::printf("fabrique: aggregation groups unavailable (%s); baselines only\n",
                ours.unavailable.c_str());
  }
  const std::vector<v1::LabelEventBatch> labels =
      MakeAggregateLabels(sizes, kBaseTime, dir + "/labels.bin");
  const double settled = bench->WaitForCompactions();
  std::printf(
      "generated and loaded in %.1f s, of which %.1f s waiting for compactions (not timed)\n",
      std::chrono::duration<double>(Clock::now() - load_start).count(), settled);

  std::vector<std::string> windows;
  for (int64_t w : sizes.window_micros) windows.push_back(absl::StrCat(w / sizes.tile_micros));
  const std::vector<std::string> common = {"--events=" + dir + "/events.bin",
                                           "--labels=" + dir + "/labels.bin",
                                           absl::StrCat("--tile_micros=", sizes.tile_micros),
                                           "--windows=" + absl::StrJoin(windows, ",")};
  auto argv = [&common](std::vector<std::string> head) {
    head.insert(head.end(), common.begin(), common.end());
    return head;
  };
  const std::string source_dir = FABRIQUE_SOURCE_DIR;
  Figures pandas{"pandas (rolling)"}, duck{"DuckDB"};
  for (int r = 0; r < flags.repeats; ++r) {
    if (ours.unavailable.empty()) RunOurs(*bench, features, labels, &ours);
    if (flags.pandas) {
      RunBaseline(argv({"/usr/bin/python3", source_dir + "/tools/bench/aggregate_pandas.py"}),
                  &pandas);
    }
    if (flags.duckdb) {
      RunBaseline(argv({"node", source_dir + "/tools/bench/duckdb/aggregate_duckdb.js"}), &duck);
    }
  }
  std::vector<const Figures*> baselines;
  if (flags.pandas) baselines.push_back(&pandas);
  if (flags.duckdb) baselines.push_back(&duck);
  bool identical = PrintTable(sizes, flags.repeats, ours, baselines);
  if (flags.pandas && flags.duckdb && pandas.sha256 != duck.sha256) {
    std::printf("pandas and DuckDB DIFFER\n");
    identical = false;
  }
  return identical ? 0 : 1;
}

}  // namespace
}  // namespace fabrique::bench

int main(int argc, char** argv) {
  namespace bench = fabrique::bench;
  bench::Flags flags;
  std::map<std::string, int64_t*> numbers = {{"entities", &flags.sizes.entities},
                                             {"events", &flags.sizes.events},
                                             {"labels", &flags.sizes.labels},
                                             {"lookup_entities", &flags.lookup.entities},
                                             {"lookups", &flags.lookup.lookups}};
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
    } else if (name == "tile_s") {
      flags.sizes.tile_micros = std::stoll(value) * 1'000'000;
    } else if (name == "seed") {
      flags.sizes.seed = std::stoull(value);
    } else if (name == "repeats") {
      flags.repeats = std::stoi(value);
    } else if (name == "dir") {
      flags.dir = value;
    } else if (name == "only") {
      flags.only = value;
    } else if (name == "pandas") {
      flags.pandas = value != "false";
    } else if (name == "duckdb") {
      flags.duckdb = value != "false";
    } else if (name == "small") {
      flags.sizes.entities = 2'000, flags.sizes.events = 50, flags.sizes.labels = 20'000;
      flags.lookup.entities = 1'000, flags.lookup.lookups = 2'000;
      flags.repeats = 1;
    } else {
      std::fprintf(stderr, "unknown flag %s (see the comment at the top of %s)\n", arg.c_str(),
                   __FILE__);
      return 2;
    }
  }
  // Keys are "cust%08d": the checksums of the baselines write exactly 8 digits.
  if (flags.sizes.entities + flags.sizes.entities / 100 >= 100'000'000 || flags.sizes.events < 1 ||
      flags.repeats < 1 || flags.sizes.tile_micros < 1'000'000 ||
      (!flags.only.empty() && flags.only != "training" && flags.only != "lookup" &&
       flags.only != "write")) {
    std::fprintf(stderr, "flags out of range\n");
    return 2;
  }
  for (int64_t w : flags.sizes.window_micros) {
    if (w % flags.sizes.tile_micros != 0) {
      std::fprintf(stderr, "the tile must divide 1 h and 1 d\n");
      return 2;
    }
  }
  if (flags.only == "write") return bench::RunWrite(flags.sizes, flags.dir + "/write");
  int code = 0;
  if (flags.only != "lookup") code = bench::RunTraining(flags);
  if (flags.only != "training") {
    flags.lookup.repeats = flags.repeats;
    code = std::max(code, bench::RunLookup(flags.lookup, flags.dir + "/lookup"));
  }
  return code;
}
