#ifndef FABRIQUE_TOOLS_BENCH_INFERENCE_BENCH_PHASES_H_
#define FABRIQUE_TOOLS_BENCH_INFERENCE_BENCH_PHASES_H_

// The inference benchmark's phases (see inference_bench.cc for what each measures) and what
// they share: the flags, the running stack, the served models with their in-process twins and
// expected answers, the figures one phase hands the next, and the summary table.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "inference/grpc_predict_v2.pb.h"
#include "libs/serving/loaded_module.h"
#include "tools/bench/inference_bench_load.h"
#include "tools/bench/inference_bench_models.h"
#include "tools/bench/inference_bench_stack.h"

namespace fabrique::bench {

// The entity phase's feature group and entity, and the tabular50 version fed from them.
inline constexpr char kKeyedModel[] = "tabular50_keyed";
inline constexpr char kGroup[] = "bench_profile";
inline constexpr char kEntity[] = "bench_customer";

struct BenchFlags {
  std::string phases = "batching,latency,python,entity,swap";
  std::string models = "fmnist,tabular50";
  int clients = 64;
  int connections = 8;  // HTTP/2 connections the clients share.
  absl::Duration duration = absl::Seconds(10);
  int repeats = 3;
  int instances = 2;
  int intra_op_threads = 1;
  int max_batch_size = 32;
  int max_queue_delay_us = 200;
  int entities = 10'000;
  int entity_calls = 1000;  // Timed sequential calls per size and side.
  int swaps = 20;
  bool insecure = false;
  bool small = false;
  std::string data_dir = "/tmp/fabrique_inference_bench";
  std::string source_dir;
};

// One model as served: the module of each registered version, the same loaded in this process,
// the requests the load cycles through (one row each) and their expected outputs.
struct ServedModel {
  ModelShape shape;
  v1::ModelSignature signature;
  std::map<int64_t, std::string> module_paths;  // By version.
  std::map<int64_t, std::unique_ptr<serving::LoadedModule>> local;
  serving::TensorBatch rows;  // The rows requests carry, requests[i] = rows[i].
  std::vector<::inference::ModelInferRequest> requests;
  std::map<int64_t, std::vector<float>> expected;  // By version: rows' outputs, row-major.
};

// One line of the summary.
struct SummaryRow {
  std::string figure;
  double fabrique = 0;
  double baseline = 0;  // NaN when none.
  std::string baseline_name;
  std::string goal;  // "" when none.
  bool met = true;
  bool ratio = true;  // Print fabrique / baseline.
};

struct Bench {
  BenchFlags flags;
  std::unique_ptr<InferenceStack> stack;
  std::unique_ptr<InProcessModels> in_process;
  std::map<std::string, ServedModel> models;     // By name.
  std::map<std::string, double> max_rows_per_s;  // Phase 1's median, by model.
  std::vector<SummaryRow> summary;
  std::vector<std::string> failures;  // Correctness checks that failed.

  // Where load goes: the inference server, or another OIP server at `target`.
  LoadTarget Target(const ServedModel& model, const std::string& target) const;
  // Records a correctness check; a false one fails the program at the end.
  void Require(bool ok, const std::string& what);
  // The open-loop rate of phase 2 (and 5) for `model`: half of phase 1's throughput.
  double HalfLoad(const std::string& model) const;
};

// "" when `response` carries `expected` (within 1e-5) as output "y" of `width` per row.
std::string CompareOutputs(const ::inference::ModelInferResponse& response, const float* expected,
                           int64_t rows, int width);

void RunBatching(Bench& bench);
void RunLatency(Bench& bench);
void RunPython(Bench& bench);
void RunEntity(Bench& bench);
void RunSwap(Bench& bench);

}  // namespace fabrique::bench

#endif  // FABRIQUE_TOOLS_BENCH_INFERENCE_BENCH_PHASES_H_
