// The inference server's speed, each figure beside the baseline it is held to, measured in the
// same run, through the real binaries: fabrique-registry, fabrique-features and
// fabrique-inference on loopback, each with its own data dir, served over TLS with tokens from one
// local authority as a deployment is (or all --insecure, said in the header). The models are
// built in this process the way the trainer exports them (libs/training's BuildTorchScript, random
// weights: speed does not depend on them) and registered as `fabrique models register
// --torchscript` does:
//   fmnist     the trainer's Fashion-MNIST MLP: 784 pixels, 256-128 ReLU, 10-class softmax;
//   tabular50  50 numeric features, the same MLP, binary.
//
// Phases (--phases picks some; every figure is the median of --repeats runs):
//   batching  --clients closed-loop clients sending 1-row ModelInfer requests for --duration:
//             rows/s, and the mean batch the dynamic batcher formed (the server's
//             fabrique_inference_batch_rows histogram: rows of the batch each request rode in).
//             Baseline: LibTorch's forward in this process on the same module (libs/serving's
//             loader, as the server calls it) at that batch size, from --instances threads of
//             --intra_op_threads each, as the server runs. Goal: >= 0.9x. Each repeat also
//             prints the cores the server and the clients used: on a small machine they share
//             them, and the baseline has them all.
//   latency   open loop at half of batching's rows/s: p50 and p99 per model, each request timed
//             from when it was due. Goal: tabular50 p99 < 2 ms.
//   python    tools/bench/oip_python_server.py (grpcio, torch.jit.load, TLS when the stack has
//             it, no token check; torch threads = --instances x --intra_op_threads) under the
//             same clients and load: rows/s (goal: Fabrique >= 5x) and p99 at the latency
//             phase's offered load (goal: Fabrique's at most Python's). Both sides are measured
//             in each repeat, Fabrique first.
//   entity    a group of 50 float features in the real feature store, --entities entities; a
//             tabular50 version whose inputs name those features (tabular50_keyed); sequential
//             Predict by entity key for 1 and 100 entities against the client's own two calls
//             (LookupOnline, then ModelInfer with the values), timed end to end: p50 and p99.
//             Goal: Predict faster.
//   swap      tabular50's production alias moved --swaps times between two versions under the
//             latency phase's load: failed requests (goal 0), alias move -> first answer from the
//             new version (model_version) p50 and p99 (goal p99 < 1 s), p99 of the first 100
//             requests after each move against the steady p99 before the first (goal <= 2x),
//             and the server's resident memory after the first move and after the last (goal
//             < 5% growth).
// A summary table closes the run, printed again as Markdown.
//
// --small runs every phase at tiny sizes with checks that fail the program (exit 1): every
// answer OK and equal (within 1e-5) to the in-process forward on the same rows, the Python
// server's too; Predict's and the two calls' answers likewise; no failed request in the swap
// phase and every move observed; memory figures positive. tools/bench/run_small runs it so.
//
//   inference_bench [--phases=batching,latency,python,entity,swap] [--models=fmnist,tabular50]
//                   [--clients=64] [--duration=10s] [--repeats=3] [--instances=2]
//                   [--intra_op_threads=1] [--max_batch_size=32] [--max_queue_delay_us=200]
//                   [--entities=10000] [--swaps=20] [--insecure] [--small]
//                   [--data_dir=/tmp/fabrique_inference_bench]

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/core/flags.h"
#include "tools/bench/inference_bench_phases.h"
#include "tools/cli/command_flags.h"

#ifndef FABRIQUE_SOURCE_DIR
#define FABRIQUE_SOURCE_DIR "."
#endif

namespace fabrique::bench {

LoadTarget Bench::Target(const ServedModel& model, const std::string& target) const {
  LoadTarget load;
  for (int c = 0; c < flags.connections; ++c) {
    load.channels.push_back(stack->security().Channel(target, /*share_connections=*/false));
  }
  load.security = &stack->security();
  load.requests = &model.requests;
  const int width = OutputWidth(model.shape);
  load.check = [&model, width](size_t index, const ::inference::ModelInferResponse& response) {
    int64_t version = 0;
    if (!absl::SimpleAtoi(response.model_version(), &version) ||
        model.expected.count(version) == 0) {
      return absl::StrCat("an answer from unknown version '", response.model_version(), "'");
    }
    return CompareOutputs(response, &model.expected.at(version)[index * width], 1, width);
  };
  // Every answer in --small; enough to catch a wrong one otherwise, at little cost to the load.
  load.check_every = flags.small ? 1 : 97;
  return load;
}

void Bench::Require(bool ok, const std::string& what) {
  if (ok) return;
  std::printf("  CHECK FAILED: %s\n", what.c_str());
  failures.push_back(what);
}

double Bench::HalfLoad(const std::string& model) const {
  const auto it = max_rows_per_s.find(model);
  // Without the batching phase: a load every machine serves.
  return it == max_rows_per_s.end() ? (flags.small ? 200 : 1000) : it->second / 2;
}

std::string CompareOutputs(const ::inference::ModelInferResponse& response, const float* expected,
                           int64_t rows, int width) {
  if (response.outputs_size() != 1) {
    return absl::StrCat("an answer with ", response.outputs_size(), " outputs");
  }
  std::vector<float> got;
  if (response.raw_output_contents_size() > 0) {
    const std::string& raw = response.raw_output_contents(0);
    got.resize(raw.size() / sizeof(float));
    std::memcpy(got.data(), raw.data(), got.size() * sizeof(float));
  } else {
    const auto& values = response.outputs(0).contents().fp32_contents();
    got.assign(values.begin(), values.end());
  }
  if (static_cast<int64_t>(got.size()) != rows * width) {
    return absl::StrCat("an answer of ", got.size(), " values for ", rows, " rows of ", width);
  }
  for (size_t i = 0; i < got.size(); ++i) {
    if (!(std::abs(got[i] - expected[i]) <= 1e-5)) {
      return absl::StrCat("version ", response.model_version(), " answered ", got[i],
                          " where the in-process forward gives ", expected[i]);
    }
  }
  return "";
}

namespace {

BenchFlags ParseFlags(int argc, char** argv) {
  BenchFlags flags;
  flags.source_dir = FABRIQUE_SOURCE_DIR;
  core::FlagSet set("inference_bench",
                    "The inference server's throughput, latency, entity-keyed Predict and hot "
                    "swap, each beside its baseline measured in the same run.");
  set.Add("phases", &flags.phases, "Which phases to run: batching,latency,python,entity,swap");
  set.Add("models", &flags.models, "Models of the batching, latency and python phases");
  set.Add("clients", &flags.clients, "Concurrent closed-loop clients");
  set.Add("connections", &flags.connections, "HTTP/2 connections the clients share");
  set.Add("duration", &flags.duration, "Length of each timed load run");
  set.Add("repeats", &flags.repeats, "Runs of each figure; the median is reported");
  set.Add("instances", &flags.instances, "The server's model calls at once per version");
  set.Add("intra_op_threads", &flags.intra_op_threads, "Threads of one model call");
  set.Add("max_batch_size", &flags.max_batch_size, "The server's largest batch");
  set.Add("max_queue_delay_us", &flags.max_queue_delay_us, "The server's batching delay");
  set.Add("entities", &flags.entities, "Entities ingested for the entity phase");
  set.Add("entity_calls", &flags.entity_calls, "Timed sequential calls per size and side");
  set.Add("swaps", &flags.swaps, "Moves of the production alias in the swap phase");
  set.Add("insecure", &flags.insecure, "Serve everything in plaintext without tokens");
  set.Add("small", &flags.small, "Tiny sizes, one repeat, with checks that fail the program");
  set.Add("data_dir", &flags.data_dir, "Scratch directory (removed at the end)");
  core::ParsedArgs parsed;
  if (std::optional<int> code =
          cli::ParseCommandFlags(set, std::vector<std::string>(argv + 1, argv + argc), &parsed)) {
    std::exit(*code);
  }
  if (flags.small) {
    flags.clients = std::min(flags.clients, 8);
    flags.connections = std::min(flags.connections, 2);
    flags.duration = std::min(flags.duration, absl::Seconds(1));
    flags.repeats = 1;
    flags.entities = std::min(flags.entities, 200);
    flags.entity_calls = std::min(flags.entity_calls, 30);
    flags.swaps = std::min(flags.swaps, 3);
  }
  for (absl::string_view phase : absl::StrSplit(flags.phases, ',', absl::SkipEmpty())) {
    if (phase != "batching" && phase != "latency" && phase != "python" && phase != "entity" &&
        phase != "swap") {
      std::fprintf(stderr, "--phases: '%s' is none of batching, latency, python, entity, swap\n",
                   std::string(phase).c_str());
      std::exit(2);
    }
  }
  if (flags.clients < 1 || flags.connections < 1 || flags.repeats < 1 || flags.instances < 1 ||
      flags.intra_op_threads < 1 || flags.entities < 100 || flags.swaps < 1 ||
      flags.entity_calls < 1) {
    std::fprintf(stderr,
                 "--clients, --connections, --repeats, --instances, --intra_op_threads, --swaps "
                 "and --entity_calls must be at least 1, --entities at least 100\n");
    std::exit(2);
  }
  return flags;
}

bool Runs(const BenchFlags& flags, const char* phase) {
  for (absl::string_view p : absl::StrSplit(flags.phases, ',')) {
    if (p == phase) return true;
  }
  return false;
}

// The requests of `model`: one row each, of `rows` distinct rows, sent raw as Triton's and
// KServe's clients send them.
void MakeRequests(ServedModel& model, int rows) {
  model.rows = RandomRows(model.shape, rows, 11);
  const int width = model.shape.width;
  for (int r = 0; r < rows; ++r) {
    ::inference::ModelInferRequest& request = model.requests.emplace_back();
    request.set_model_name(model.shape.name);
    auto* input = request.add_inputs();
    input->set_name("x");
    input->set_datatype("FP32");
    input->add_shape(1);
    input->add_shape(width);
    request.add_raw_input_contents(
        std::string(reinterpret_cast<const char*>(&model.rows.tensors[0].fp32[r * width]),
                    width * sizeof(float)));
  }
}

// Builds version `version` of `model` (weights from `seed`), registers it, loads it in this
// process and computes its expected answers.
void AddVersion(Bench& bench, ServedModel& model, int64_t version, uint32_t seed) {
  const std::string path =
      absl::StrCat(bench.flags.data_dir, "/modules/", model.shape.name, "-v", version, ".pt");
  CheckOk(WriteModule(model.shape, seed, path), "building a module");
  const int64_t registered =
      bench.stack->Register(model.shape.name,
                            model.shape.classes == 2 ? v1::TASK_BINARY_CLASSIFICATION
                                                     : v1::TASK_MULTICLASS_CLASSIFICATION,
                            path, model.signature);
  if (registered != version) {
    std::fprintf(stderr, "%s registered as version %lld, not %lld\n", model.shape.name.c_str(),
                 static_cast<long long>(registered), static_cast<long long>(version));
    std::exit(1);
  }
  model.module_paths[version] = path;
  auto local = bench.in_process->Load(path, model.signature, bench.flags.max_batch_size);
  CheckOk(local.status(), "loading a module in this process");
  absl::StatusOr<serving::TensorBatch> expected = (*local)->Forward(model.rows);
  CheckOk(expected.status(), "scoring in this process");
  model.expected[version] = expected->tensors[0].fp32;
  model.local[version] = *std::move(local);
}

void SetUp(Bench& bench) {
  const BenchFlags& flags = bench.flags;
  bench.stack = InferenceStack::StartStores(flags.data_dir, flags.insecure);
  std::filesystem::create_directories(flags.data_dir + "/modules");
  auto in_process = InProcessModels::Create(flags.intra_op_threads);
  CheckOk(in_process.status(), "making the in-process loader");
  bench.in_process = *std::move(in_process);
  std::vector<std::string> served;
  for (absl::string_view name : absl::StrSplit(flags.models, ',', absl::SkipEmpty())) {
    if (name != "fmnist" && name != "tabular50") {
      std::fprintf(stderr, "--models: '%s' is neither fmnist nor tabular50\n",
                   std::string(name).c_str());
      std::exit(2);
    }
    served.emplace_back(name);
  }
  const bool swap = Runs(flags, "swap"), entity = Runs(flags, "entity");
  if ((swap || entity) && std::find(served.begin(), served.end(), "tabular50") == served.end()) {
    served.push_back("tabular50");
  }
  for (const std::string& name : served) {
    ServedModel& model = bench.models[name];
    model.shape = name == "fmnist" ? FashionShape() : Tabular50Shape();
    model.signature = PlainSignature(model.shape);
    MakeRequests(model, 64);
    AddVersion(bench, model, 1, name == "fmnist" ? 1 : 2);
    // A second version to move production to.
    if (name == "tabular50" && swap) AddVersion(bench, model, 2, 3);
    bench.stack->SetProduction(name, 1);
  }
  if (entity) {
    // The same module as tabular50's version 1, its inputs named after the group's features.
    const ServedModel& tabular = bench.models.at("tabular50");
    const int64_t version =
        bench.stack->Register(kKeyedModel, v1::TASK_BINARY_CLASSIFICATION,
                              tabular.module_paths.at(1), FeatureSignature(tabular.shape, kGroup));
    bench.stack->SetProduction(kKeyedModel, version);
    served.push_back(kKeyedModel);
  }
  std::printf("starting fabrique-inference (%s) with %s...\n", flags.insecure ? "plaintext" : "TLS",
              absl::StrJoin(served, ", ").c_str());
  std::fflush(stdout);
  std::vector<std::string> server_flags = {
      absl::StrCat("--instances=", flags.instances),
      absl::StrCat("--intra_op_threads=", flags.intra_op_threads),
      absl::StrCat("--max_batch_size=", flags.max_batch_size),
      absl::StrCat("--max_queue_delay_us=", flags.max_queue_delay_us)};
  if (entity) {
    // Predict for 100 entities is one request of 100 rows: the keyed model takes them whole.
    const std::string batching = flags.data_dir + "/batching.csv";
    std::ofstream(batching) << "model,max_batch_size,max_queue_delay_us,preferred,instances\n"
                            << kKeyedModel << "," << std::max(flags.max_batch_size, 128) << ",,,\n";
    server_flags.push_back("--batching_file=" + batching);
  }
  bench.stack->StartInference(served, server_flags);
}

std::string Number(double value) {
  if (std::isnan(value)) return "-";
  if (value == std::floor(value)) return absl::StrFormat("%.0f", value);  // Counts.
  if (std::abs(value) >= 100) return absl::StrFormat("%.0f", value);
  if (std::abs(value) >= 1) return absl::StrFormat("%.2f", value);
  return absl::StrFormat("%.3f", value);
}

void PrintSummary(const Bench& bench) {
  std::vector<std::vector<std::string>> lines;
  lines.push_back({"figure", "Fabrique", "baseline", "ratio", "goal", "met?"});
  for (const SummaryRow& row : bench.summary) {
    const bool has_baseline = !std::isnan(row.baseline);
    lines.push_back(
        {row.figure, Number(row.fabrique),
         has_baseline ? absl::StrCat(Number(row.baseline), " (", row.baseline_name, ")") : "-",
         has_baseline && row.ratio && row.baseline != 0
             ? absl::StrFormat(row.fabrique / row.baseline < 0.1 ? "%.3fx" : "%.2fx",
                               row.fabrique / row.baseline)
             : "-",
         row.goal.empty() ? "-" : row.goal, row.goal.empty() ? "-" : (row.met ? "yes" : "NO")});
  }
  std::vector<size_t> widths(6, 0);
  for (const auto& line : lines) {
    for (size_t c = 0; c < line.size(); ++c) widths[c] = std::max(widths[c], line[c].size());
  }
  std::printf("\nSummary\n");
  for (const auto& line : lines) {
    std::string text;
    for (size_t c = 0; c < line.size(); ++c) {
      text += absl::StrFormat("%-*s  ", static_cast<int>(widths[c]), line[c]);
    }
    std::printf("%s\n", text.c_str());
  }
  std::printf("\nAs Markdown:\n\n");
  for (size_t i = 0; i < lines.size(); ++i) {
    std::printf("| %s |\n", absl::StrJoin(lines[i], " | ").c_str());
    if (i == 0) std::printf("|---|---:|---:|---:|---|---|\n");
  }
}

int Main(int argc, char** argv) {
  // Line by line even into a file, so a run's log shows how far it got.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  Bench bench;
  bench.flags = ParseFlags(argc, argv);
  const BenchFlags& flags = bench.flags;
  SetUp(bench);
  std::printf(
      "fabrique-inference: %s, --instances=%d --intra_op_threads=%d --max_batch_size=%d "
      "--max_queue_delay_us=%d, CPU; %d clients over %d connections, %s runs, median of %d%s\n",
      bench.stack->security().Name(), flags.instances, flags.intra_op_threads, flags.max_batch_size,
      flags.max_queue_delay_us, flags.clients, flags.connections,
      absl::FormatDuration(flags.duration).c_str(), flags.repeats,
      flags.small ? " (--small: checks only, the figures mean little)" : "");
  std::fflush(stdout);
  for (const auto& [name, model] : bench.models) {
    std::printf("  %-9s %d numeric inputs -> MLP %s ReLU -> %s\n", name.c_str(), model.shape.width,
                absl::StrJoin(model.shape.hidden, "-").c_str(),
                model.shape.classes == 2
                    ? "sigmoid (binary)"
                    : absl::StrCat(model.shape.classes, "-class softmax").c_str());
  }
  if (Runs(flags, "batching")) RunBatching(bench);
  if (Runs(flags, "latency")) RunLatency(bench);
  if (Runs(flags, "python")) RunPython(bench);
  if (Runs(flags, "entity")) RunEntity(bench);
  if (Runs(flags, "swap")) RunSwap(bench);
  PrintSummary(bench);
  bench.stack.reset();
  std::error_code error;
  std::filesystem::remove_all(flags.data_dir, error);
  if (!bench.failures.empty()) {
    std::printf("\n%zu check(s) failed; the first: %s\n", bench.failures.size(),
                bench.failures.front().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace fabrique::bench

int main(int argc, char** argv) { return fabrique::bench::Main(argc, argv); }
