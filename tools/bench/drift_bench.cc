// The monitor's drift benchmark: exact two-sample KS on many numeric columns (reference
// against current, every column) with libs/monitoring's Ks2SampColumns, against a Python loop
// of scipy.stats.ks_2samp on the same arrays (tools/bench/drift_bench_scipy.py, run by
// /usr/bin/python3, found through FABRIQUE_SOURCE_DIR), and the sketched path (a ColumnSummary
// per window, KS read from the sketches by EvaluateSummaries) with its largest error against
// the exact statistic and the bound it states.
//
// The arrays are drawn here (normal columns, every fifth one shifted or rescaled so that drift
// is found, every seventh rounded to two decimals so that values tie across windows) and
// written as raw little-endian float64 files under --dir, column after column, which the Python
// side reads back: both sides test the same numbers.
//
//   drift_bench [--columns=100] [--rows=1000000] [--current_rows=ROWS] [--repeats=3]
//               [--threads=0 (one per hardware thread)] [--dir=/tmp/drift_bench]
//               [--python=/usr/bin/python3] [--script=PATH] [--seed=1] [--baseline=false]
//   drift_bench --small    5 columns x 20,000 rows, 1 repeat: checks that every statistic is
//                          identical to scipy's, every p-value within 1e-9, and every sketched
//                          statistic within its bound; exits 1 when one is not.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/monitoring/drift_statistics.h"
#include "libs/monitoring/summary_drift.h"

namespace fm = fabrique::monitoring;

namespace {

struct Flags {
  int columns = 100;
  int64_t rows = 1'000'000;
  int64_t current_rows = -1;  // -1: as rows
  int repeats = 3;
  int threads = 0;
  uint64_t seed = 1;
  bool small = false;
  bool baseline = true;
  std::string dir = "/tmp/drift_bench";
  std::string python = "/usr/bin/python3";
  std::string script = std::string(FABRIQUE_SOURCE_DIR) + "/tools/bench/drift_bench_scipy.py";
};

// Column-major windows: column c is values[c * rows, (c + 1) * rows).
struct Window {
  int64_t rows = 0;
  std::vector<double> values;
  absl::Span<const double> Column(int c) const {
    return absl::Span<const double>(values).subspan(c * rows, rows);
  }
};

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Runs body(i) for i in [0, n) on `threads` threads, each taking the next index not yet taken.
void ParallelFor(int n, int threads, const std::function<void(int)>& body) {
  std::atomic<int> next{0};
  const auto work = [&] {
    for (int i = next++; i < n; i = next++) body(i);
  };
  std::vector<std::thread> workers;
  for (int t = 1; t < std::min(threads, n); ++t) workers.emplace_back(work);
  work();
  for (std::thread& worker : workers) worker.join();
}

// Column c: N(0, 1) in the reference; in the current window every fifth column drifts (a shift
// of 0.05, or a scale of 1.1), the others are drawn from the same distribution; every seventh
// column is rounded to two decimals in both windows.
void Draw(const Flags& flags, Window& reference, Window& current, int threads) {
  reference.rows = flags.rows;
  current.rows = flags.current_rows;
  reference.values.resize(flags.columns * reference.rows);
  current.values.resize(flags.columns * current.rows);
  ParallelFor(flags.columns, threads, [&](int c) {
    std::mt19937_64 engine(flags.seed * 1000003 + c);
    std::normal_distribution<double> normal(0, 1);
    const bool drifts = c % 5 == 0, shift = c % 10 == 0, ties = c % 7 == 3;
    const auto fill = [&](Window& window, bool drifting) {
      for (int64_t i = 0; i < window.rows; ++i) {
        double x = normal(engine);
        if (drifting) x = shift ? x + 0.05 : x * 1.1;
        if (ties) x = std::round(x * 100) / 100;
        window.values[c * window.rows + i] = x;
      }
    };
    fill(reference, false);
    fill(current, drifts);
  });
}

bool WriteFloat64(const std::string& path, const std::vector<double>& values) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(values.data()),
            static_cast<std::streamsize>(values.size() * sizeof(double)));
  return static_cast<bool>(out);
}

bool ReadFloat64(const std::string& path, std::vector<double>& values) {
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(values.data()),
          static_cast<std::streamsize>(values.size() * sizeof(double)));
  return static_cast<bool>(in);
}

// Runs the Python side; its last line of output is its median time in seconds.
bool RunScipy(const Flags& flags, double& seconds) {
  const std::string command = absl::StrCat(
      flags.python, " ", flags.script, " --dir=", flags.dir, " --columns=", flags.columns,
      " --rows=", flags.rows, " --current_rows=", flags.current_rows, " --repeats=", flags.repeats);
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return false;
  char line[512];
  std::string last;
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    std::fputs(line, stdout);
    last = line;
  }
  if (pclose(pipe) != 0) return false;
  return absl::SimpleAtod(absl::StripAsciiWhitespace(last), &seconds);
}

int Usage(const std::string& arg) {
  std::fprintf(stderr, "unknown or bad flag %s (see the comment at the top of %s)\n", arg.c_str(),
               __FILE__);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each figure as soon as it is known
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    if (!absl::StartsWith(arg, "--")) return Usage(arg);
    const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const std::string value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    if (name == "columns") {
      flags.columns = std::stoi(value);
    } else if (name == "rows") {
      flags.rows = std::stoll(value);
    } else if (name == "current_rows") {
      flags.current_rows = std::stoll(value);
    } else if (name == "repeats") {
      flags.repeats = std::stoi(value);
    } else if (name == "threads") {
      flags.threads = std::stoi(value);
    } else if (name == "seed") {
      flags.seed = std::stoull(value);
    } else if (name == "dir") {
      flags.dir = value;
    } else if (name == "python") {
      flags.python = value;
    } else if (name == "script") {
      flags.script = value;
    } else if (name == "baseline") {
      flags.baseline = value != "false";
    } else if (name == "small") {
      flags.small = true;
      flags.columns = 5, flags.rows = 20'000, flags.repeats = 1;
    } else {
      return Usage(arg);
    }
  }
  if (flags.current_rows < 0) flags.current_rows = flags.rows;
  if (flags.columns < 1 || flags.rows < 1 || flags.current_rows < 1 || flags.repeats < 1) {
    std::fprintf(stderr, "sizes out of range\n");
    return 2;
  }
  const int threads = flags.threads > 0
                          ? flags.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::printf(
      "drift_bench: %d numeric columns, reference %lld rows x current %lld rows, "
      "%d repeats, %d threads (%u hardware threads)\n",
      flags.columns, static_cast<long long>(flags.rows), static_cast<long long>(flags.current_rows),
      flags.repeats, threads, std::thread::hardware_concurrency());

  Window reference, current;
  auto start = std::chrono::steady_clock::now();
  Draw(flags, reference, current, threads);
  std::filesystem::create_directories(flags.dir);
  if (!WriteFloat64(flags.dir + "/reference.f64", reference.values) ||
      !WriteFloat64(flags.dir + "/current.f64", current.values)) {
    std::fprintf(stderr, "cannot write the arrays under %s\n", flags.dir.c_str());
    return 1;
  }
  std::printf("data: drawn and written to %s in %.1f s\n", flags.dir.c_str(), Seconds(start));

  // Exact KS, every column, the columns shared among the threads.
  std::vector<fm::ColumnPair> pairs;
  for (int c = 0; c < flags.columns; ++c) pairs.push_back({reference.Column(c), current.Column(c)});
  std::vector<double> exact_times;
  std::vector<absl::StatusOr<fm::KsResult>> exact;
  for (int r = 0; r < flags.repeats; ++r) {
    start = std::chrono::steady_clock::now();
    exact = fm::Ks2SampColumns(pairs, threads);
    exact_times.push_back(Seconds(start));
  }
  int drifted = 0;
  for (const absl::StatusOr<fm::KsResult>& result : exact) {
    if (!result.ok()) {
      std::fprintf(stderr, "KS refused a column: %s\n", result.status().ToString().c_str());
      return 1;
    }
    drifted += result->p_value < 0.05 ? 1 : 0;
  }
  const double exact_seconds = Median(exact_times);
  std::printf(
      "C++ exact KS (Ks2SampColumns): %.3f s median (%.1f ms a column), %d of %d "
      "columns drifted (p < 0.05)\n",
      exact_seconds, 1000 * exact_seconds / flags.columns, drifted, flags.columns);

  bool ok = true;
  if (flags.baseline) {
    double scipy_seconds = 0;
    if (!RunScipy(flags, scipy_seconds)) {
      std::fprintf(stderr, "the scipy side failed (%s)\n", flags.script.c_str());
      return 1;
    }
    std::vector<double> scipy(2 * flags.columns);
    if (!ReadFloat64(flags.dir + "/scipy.f64", scipy)) {
      std::fprintf(stderr, "cannot read the scipy results\n");
      return 1;
    }
    double largest_d = 0, largest_p = 0;
    int identical = 0;
    for (int c = 0; c < flags.columns; ++c) {
      largest_d = std::max(largest_d, std::fabs(exact[c]->statistic - scipy[2 * c]));
      largest_p = std::max(largest_p, std::fabs(exact[c]->p_value - scipy[2 * c + 1]));
      identical += exact[c]->statistic == scipy[2 * c] ? 1 : 0;
    }
    const double speedup = scipy_seconds / exact_seconds;
    std::printf("scipy.stats.ks_2samp loop: %.3f s median (%.1f ms a column)\n", scipy_seconds,
                1000 * scipy_seconds / flags.columns);
    std::printf("speedup: %.1fx (goal: at least 20x): %s\n", speedup,
                speedup >= 20 ? "met" : "NOT met");
    std::printf(
        "identity: %d of %d statistics bit-identical, max |D_cpp - D_scipy| = %.3g, "
        "max |p_cpp - p_scipy| = %.3g\n",
        identical, flags.columns, largest_d, largest_p);
    ok = identical == flags.columns && largest_p <= 1e-9;
  }

  // The sketched path: a summary of each window (as the monitor keeps them), then KS from them.
  std::vector<fm::ColumnSummary> summaries(2 * flags.columns,
                                           fm::ColumnSummary(fm::ColumnSummary::Options{}));
  start = std::chrono::steady_clock::now();
  ParallelFor(2 * flags.columns, threads, [&](int i) {
    const Window& window = i % 2 == 0 ? reference : current;
    for (double x : window.Column(i / 2)) summaries[i].AddNumber(x);
  });
  const double build_seconds = Seconds(start);
  std::vector<absl::StatusOr<fm::DriftResult>> sketched(flags.columns);
  fm::DriftOptions ks;
  ks.test = fm::DriftTestKind::kKs;
  start = std::chrono::steady_clock::now();
  ParallelFor(flags.columns, threads, [&](int c) {
    sketched[c] = fm::EvaluateSummaries(summaries[2 * c], summaries[2 * c + 1], ks);
  });
  const double sketch_seconds = Seconds(start);
  double largest_error = 0, bound = 0;
  for (int c = 0; c < flags.columns; ++c) {
    if (!sketched[c].ok()) {
      std::fprintf(stderr, "sketched KS refused a column: %s\n",
                   sketched[c].status().ToString().c_str());
      return 1;
    }
    const double error = std::fabs(sketched[c]->statistic - exact[c]->statistic);
    largest_error = std::max(largest_error, error);
    bound = std::max(bound, sketched[c]->error_bound);
    ok = ok && error <= sketched[c]->error_bound;
  }
  std::printf(
      "sketched path: %.3f s to build the %d summaries (k = 400), %.4f s to compute "
      "KS from them; largest |D_sketch - D_exact| = %.5f (stated bound %.5f)\n",
      build_seconds, 2 * flags.columns, sketch_seconds, largest_error, bound);
  if (flags.small && !ok) {
    std::printf(
        "CHECK FAILED: statistics not identical to scipy's, or a sketched one outside "
        "its bound\n");
    return 1;
  }
  return 0;
}
