// gpu_check: proves the trainer's CUDA path on a machine with a GPU and current LibTorch 2.x, and
// reports its speed beside the CPU's. Trains the same MLP on the same synthetic tabular set (50
// standard-normal features, a non-linear label) on `cpu` and on `cuda`, checks that both learn
// (validation AUC), that `cuda` trains on cuda:0, and that the exported TorchScript module
// answers on the CPU as training's own predictions did; prints samples per second per batch
// size. Built by tools/gpu_check/CMakeLists.txt (see run.sh), not by the main build.

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/training/evaluation.h"
#include "libs/training/tabular_trainer.h"

namespace {

using fabrique::training::LabeledTable;

LabeledTable Draw(int64_t rows, int features, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  LabeledTable table;
  table.features.rows = rows;
  table.features.columns.resize(features);
  for (int f = 0; f < features; ++f) table.features.columns[f].name = absl::StrCat("x", f);
  std::vector<float> x(features);
  for (int64_t i = 0; i < rows; ++i) {
    for (int f = 0; f < features; ++f)
      table.features.columns[f].numeric.push_back(x[f] = normal(rng));
    const double z = x[0] * x[1] + std::sin(x[2]) + 0.5 * x[3] * x[3] - 0.5 + 0.3 * x[4];
    table.labels.push_back(std::bernoulli_distribution(1 / (1 + std::exp(-2 * z)))(rng) ? 1 : 0);
  }
  return table;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace fabrique;
  const int64_t rows = argc > 1 ? std::atoll(argv[1]) : 200000;
  std::printf("CUDA available: %s\n", training::CudaAvailable() ? "yes" : "no");
  const LabeledTable train = Draw(rows, 50, 1);
  const LabeledTable validation = Draw(rows / 5, 50, 2);
  int failures = 0;
  std::printf("\n%-8s %7s %14s %10s %8s %10s\n", "device", "batch", "samples/s", "seconds", "auc",
              "on");
  for (int batch : {256, 2048}) {
    double cpu_rate = 0;
    for (v1::Device device : {v1::DEVICE_CPU, v1::DEVICE_CUDA}) {
      training::TrainConfig config;
      config.task = v1::TASK_BINARY_CLASSIFICATION;
      config.family.mutable_mlp()->add_hidden_sizes(256);
      config.family.mutable_mlp()->add_hidden_sizes(128);
      config.optimizer.set_learning_rate(1e-3);
      config.batch_size = batch;
      config.epochs = 3;
      config.seed = 7;
      config.device = device;
      absl::StatusOr<training::TrainResult> result =
          training::TrainTabular(train, validation, config);
      if (!result.ok()) {
        std::printf("%s FAILED: %s\n", device == v1::DEVICE_CPU ? "cpu" : "cuda",
                    std::string(result.status().message()).c_str());
        ++failures;
        continue;
      }
      const double auc = training::FindMetric(result->validation_metrics, "auc")->value();
      std::printf("%-8s %7d %14.0f %10.2f %8.4f %10s\n", device == v1::DEVICE_CPU ? "cpu" : "cuda",
                  batch, result->samples_per_second, result->train_seconds, auc,
                  result->device.c_str());
      if (auc < 0.75) ++failures;
      if (device == v1::DEVICE_CPU) cpu_rate = result->samples_per_second;
      if (device == v1::DEVICE_CUDA) {
        if (result->device != "cuda:0") ++failures;
        std::printf("         cuda / cpu throughput: %.1fx\n",
                    result->samples_per_second / cpu_rate);
        // The module exported from GPU training answers on the CPU like training did.
        training::RawTable head = validation.features.Take({0, 1, 2, 3, 4, 5, 6, 7});
        absl::StatusOr<std::vector<double>> served =
            training::PredictTorchScript(result->torchscript, head);
        double worst = 0;
        for (size_t i = 0; served.ok() && i < served->size(); ++i) {
          worst = std::max(worst, std::abs((*served)[i] - result->validation_predictions[i]));
        }
        std::printf("         exported module on the CPU vs GPU predictions: max |diff| %.2g\n",
                    served.ok() ? worst : -1.0);
        if (!served.ok() || worst > 1e-3) ++failures;
      }
    }
  }
  std::printf("\n%s\n", failures == 0 ? "GPU CHECK PASSED" : "GPU CHECK FAILED");
  return failures == 0 ? 0 : 1;
}
