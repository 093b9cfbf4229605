// gpu_check: proves the trainer's and serving's CUDA paths on a machine with a GPU and current
// LibTorch 2.x, and reports their speed beside the CPU's. Trains the same MLP on the same
// synthetic tabular set (50 standard-normal features, a non-linear label) on `cpu` and on `cuda`,
// checks that both learn (validation AUC), that `cuda` trains on cuda:0, and that the exported
// TorchScript module answers on the CPU as training's own predictions did; prints samples per
// second per batch size. Then serves the module exported from CUDA training through
// libs/serving's loader on `cpu` and `cuda` (serving_check.h) and prints rows per second.
// Built by tools/gpu_check/CMakeLists.txt (see run.sh), not by the main build.
//
//   gpu_check [--cpu_only] [ROWS]
//
// --cpu_only checks the CPU halves alone (a machine without a GPU) and says CUDA was not
// checked. ROWS: training rows, default 200000 (validation: a fifth of that).

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/training/evaluation.h"
#include "libs/training/tabular_trainer.h"
#include "tools/gpu_check/serving_check.h"

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
  bool cpu_only = false;
  int64_t rows = 200000;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--cpu_only") {
      cpu_only = true;
    } else if ((rows = std::atoll(argv[i])) <= 0) {
      std::fprintf(stderr, "Usage: gpu_check [--cpu_only] [ROWS]\n");
      return 2;
    }
  }
  std::printf("CUDA available: %s%s\n", training::CudaAvailable() ? "yes" : "no",
              cpu_only ? " (not checked: --cpu_only)" : "");
  std::vector<v1::Device> devices = {v1::DEVICE_CPU};
  if (!cpu_only) devices.push_back(v1::DEVICE_CUDA);
  // The module serving checks: the last one trained (on CUDA unless --cpu_only), with its
  // validation predictions.
  std::string served_module;
  std::vector<double> served_predictions;
  const LabeledTable train = Draw(rows, 50, 1);
  const LabeledTable validation = Draw(rows / 5, 50, 2);
  int failures = 0;
  std::printf("\n%-8s %7s %14s %10s %8s %10s\n", "device", "batch", "samples/s", "seconds", "auc",
              "on");
  for (int batch : {256, 2048}) {
    double cpu_rate = 0;
    for (v1::Device device : devices) {
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
      if (auc < 0.75) {
        std::printf("         FAILED: validation AUC %.4f is under 0.75\n", auc);
        ++failures;
      }
      if (device == v1::DEVICE_CPU) cpu_rate = result->samples_per_second;
      served_module = result->torchscript;
      served_predictions.assign(result->validation_predictions.begin(),
                                result->validation_predictions.begin() +
                                    std::min<size_t>(1024, result->validation_predictions.size()));
      if (device == v1::DEVICE_CUDA) {
        if (result->device != "cuda:0") {
          std::printf("         FAILED: trained on %s, not cuda:0\n", result->device.c_str());
          ++failures;
        }
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
  if (served_module.empty()) {
    std::printf("\nno module was trained: serving not checked\n");
    ++failures;
  } else {
    gpu_check::ServingCheckOptions serving;
    serving.torchscript = served_module;
    serving.rows = &validation.features;
    serving.expected = served_predictions;
    serving.cuda = !cpu_only;
    failures += gpu_check::CheckServing(serving);
  }
  const char* verdict = cpu_only ? (failures == 0 ? "CPU CHECK PASSED (CUDA not checked)"
                                                  : "CPU CHECK FAILED (CUDA not checked)")
                                 : (failures == 0 ? "GPU CHECK PASSED" : "GPU CHECK FAILED");
  std::printf("\n%s\n", verdict);
  return failures == 0 ? 0 : 1;
}
