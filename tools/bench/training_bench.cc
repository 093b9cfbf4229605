// The trainer's figures, side by side in one run:
//
//   throughput  samples per second of the training loop (the same MLP 256-128 ReLU, Adam 1e-3, the
//               same rows, batch size and threads) in libs/training against Python PyTorch 1.13
//               (tools/bench/train_pytorch.py under /usr/bin/python3), at batch sizes 32, 256
//               and 2048, on Fashion-MNIST (784 pixels, 10 classes) and on a synthetic tabular
//               set of 50 features (binary). Median of --repeats runs each. Beside them, the same
//               C++ loop on LibTorch's autograd (TrainConfig::Engine::kLibTorch), which shows
//               what the CPU engine (libs/training/cpu_mlp.h) is worth apart from leaving Python.
//   accuracy    Fashion-MNIST: the MLP trained on 54,000 training images (6,000 held out for
//               validation and early stopping), then the exported TorchScript module scoring the
//               10,000 test images from raw pixels. Goal: at least 0.88.
//
// The dataset comes from Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist).
//
// --small runs both phases on a tenth of the data (one batch size, one repeat, a few epochs) for
// their correctness checks, which fail the program: every rate finite and positive on both
// sides, the exported module's probabilities summing to 1 for every test image, and a test
// accuracy far above chance (0.70). tools/test runs it so; its figures mean little at that size.
//
//   training_bench [--phases=throughput,accuracy] [--threads=2] [--repeats=3] [--epochs=15]
//                  [--small] [--dir=/tmp/fabrique_training_bench]

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/core/flags.h"
#include "libs/training/evaluation.h"
#include "libs/training/tabular_trainer.h"
#include "tools/bench/bench_support.h"
#include "tools/cli/command_flags.h"

#ifndef FABRIQUE_SOURCE_DIR
#define FABRIQUE_SOURCE_DIR "."
#endif

namespace fabrique::bench {
namespace {

using training::LabeledTable;

constexpr char kFashionDir[] = "/usr/share/datasets/fashion-mnist";

struct Flags {
  std::string phases = "throughput,accuracy";
  int threads = 2;
  int repeats = 3;
  int epochs = 15;
  std::string dir = "/tmp/fabrique_training_bench";
  bool small = false;
};

// The rows of `table` at positions [begin, end).
LabeledTable Rows(const LabeledTable& table, int64_t begin, int64_t end) {
  std::vector<int64_t> rows;
  for (int64_t i = begin; i < end; ++i) rows.push_back(i);
  LabeledTable part;
  part.features = table.features.Take(rows);
  part.labels.assign(table.labels.begin() + begin, table.labels.begin() + end);
  return part;
}

// A correctness check of the small run: prints what failed and exits 1.
void Require(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "check failed: %s\n", what.c_str());
  std::exit(1);
}

// An IDX file (gzip): images as rows of pixel/255, or labels.
std::vector<uint8_t> ReadIdx(const std::string& path, int header_ints) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    std::fprintf(stderr, "cannot open %s (apt install dataset-fashion-mnist)\n", path.c_str());
    std::exit(1);
  }
  std::vector<uint8_t> header(4 * header_ints);
  gzread(file, header.data(), static_cast<unsigned>(header.size()));
  std::vector<uint8_t> bytes;
  uint8_t buffer[1 << 16];
  int n;
  while ((n = gzread(file, buffer, sizeof(buffer))) > 0)
    bytes.insert(bytes.end(), buffer, buffer + n);
  gzclose(file);
  return bytes;
}

LabeledTable Fashion(const std::string& split) {
  const std::vector<uint8_t> pixels =
      ReadIdx(absl::StrCat(kFashionDir, "/", split, "-images-idx3-ubyte.gz"), 4);
  const std::vector<uint8_t> labels =
      ReadIdx(absl::StrCat(kFashionDir, "/", split, "-labels-idx1-ubyte.gz"), 2);
  LabeledTable table;
  table.features.rows = static_cast<int64_t>(labels.size());
  training::RawColumn& image = table.features.columns.emplace_back();
  image.name = "pixels";
  image.width = 784;
  image.numeric.reserve(pixels.size());
  for (uint8_t p : pixels) image.numeric.push_back(p / 255.0f);
  for (uint8_t l : labels) table.labels.push_back(l);
  return table;
}

LabeledTable Tabular(int64_t rows, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  LabeledTable table;
  table.features.rows = rows;
  table.features.columns.resize(50);
  for (int f = 0; f < 50; ++f) table.features.columns[f].name = absl::StrCat("x", f);
  std::vector<float> x(50);
  for (int64_t i = 0; i < rows; ++i) {
    for (int f = 0; f < 50; ++f) table.features.columns[f].numeric.push_back(x[f] = normal(rng));
    const double z = x[0] * x[1] + std::sin(x[2]) + 0.5 * x[3] * x[3] - 0.5 + 0.3 * x[4];
    table.labels.push_back(std::bernoulli_distribution(1 / (1 + std::exp(-2 * z)))(rng) ? 1 : 0);
  }
  return table;
}

training::TrainConfig Mlp(v1::Task task, int batch, int epochs, int threads) {
  training::TrainConfig config;
  config.task = task;
  config.family.mutable_mlp()->add_hidden_sizes(256);
  config.family.mutable_mlp()->add_hidden_sizes(128);
  config.family.mutable_mlp()->set_activation(v1::ACTIVATION_RELU);
  config.optimizer.set_learning_rate(1e-3);
  config.batch_size = batch;
  config.epochs = epochs;
  config.seed = 7;
  config.device = v1::DEVICE_CPU;
  config.threads = threads;
  return config;
}

// Writes the rows (features row-major, then labels) as raw float32 for the Python baseline.
void WriteRaw(const LabeledTable& table, const std::string& x_path, const std::string& y_path) {
  std::ofstream x(x_path, std::ios::binary), y(y_path, std::ios::binary);
  const int64_t rows = table.features.rows;
  int width = 0;
  for (const auto& c : table.features.columns) width += c.width;
  std::vector<float> row(width);
  for (int64_t i = 0; i < rows; ++i) {
    int offset = 0;
    for (const auto& c : table.features.columns) {
      for (int k = 0; k < c.width; ++k) row[offset + k] = c.numeric[i * c.width + k];
      offset += c.width;
    }
    x.write(reinterpret_cast<const char*>(row.data()), width * sizeof(float));
  }
  for (double label : table.labels) {
    const float v = static_cast<float>(label);
    y.write(reinterpret_cast<const char*>(&v), sizeof(float));
  }
}

double PythonRate(const Flags& flags, const std::string& x, const std::string& y, int64_t rows,
                  int width, int classes, int batch, int epochs) {
  absl::StatusOr<std::string> out = RunAndCapture(
      {"/usr/bin/python3", std::string(FABRIQUE_SOURCE_DIR) + "/tools/bench/train_pytorch.py", x, y,
       absl::StrCat(rows), absl::StrCat(width), absl::StrCat(classes), absl::StrCat(batch),
       absl::StrCat(epochs), absl::StrCat(flags.threads)});
  CheckOk(out.status(), "the PyTorch baseline");
  const size_t at = out->find("\"samples_per_second\": ");
  double rate = 0;
  if (at == std::string::npos ||
      !absl::SimpleAtod(out->substr(at + 22, out->find(',', at) - at - 22), &rate)) {
    std::fprintf(stderr, "the PyTorch baseline printed: %s\n", out->c_str());
    std::exit(1);
  }
  return rate;
}

void Throughput(const Flags& flags) {
  struct Dataset {
    std::string name;
    LabeledTable table;
    v1::Task task;
    int classes;
    int width;
  };
  std::vector<Dataset> sets;
  // 20,000 rows, one epoch: enough steps at every batch size, short enough to repeat.
  const int64_t fashion_rows = flags.small ? 2000 : 20000;
  sets.push_back({"fashion-mnist", Rows(Fashion("train"), 0, fashion_rows),
                  v1::TASK_MULTICLASS_CLASSIFICATION, 10, 784});
  sets.push_back({"tabular-50", Tabular(flags.small ? 5000 : 50000, 1),
                  v1::TASK_BINARY_CLASSIFICATION, 2, 50});
  const std::vector<int> batches =
      flags.small ? std::vector<int>{256} : std::vector<int>{32, 256, 2048};
  std::printf(
      "\nTraining throughput: MLP 256-128 ReLU, Adam 1e-3, %d threads, one epoch; "
      "median of %d\n",
      flags.threads, flags.repeats);
  std::printf("%-15s %6s %7s %14s %16s %8s %10s %16s\n", "dataset", "rows", "batch",
              "libs/training", "Python PyTorch", "ratio", "goal 1.2x", "LibTorch C++");
  std::string engine;
  for (const Dataset& set : sets) {
    const std::string x = flags.dir + "/" + set.name + ".x.f32";
    const std::string y = flags.dir + "/" + set.name + ".y.f32";
    WriteRaw(set.table, x, y);
    LabeledTable none;
    none.features = set.table.features.Take({});
    for (int batch : batches) {
      std::vector<double> ours, theirs, autograd;
      for (int r = 0; r < flags.repeats; ++r) {
        training::TrainConfig config = Mlp(set.task, batch, 1, flags.threads);
        absl::StatusOr<training::TrainResult> result =
            training::TrainTabular(set.table, none, config);
        CheckOk(result.status(), "training");
        ours.push_back(result->samples_per_second);
        engine = result->engine;
        theirs.push_back(
            PythonRate(flags, x, y, set.table.features.rows, set.width, set.classes, batch, 1));
        // The same loop on LibTorch's autograd from C++: what the engine itself is worth.
        config.engine = training::TrainConfig::Engine::kLibTorch;
        result = training::TrainTabular(set.table, none, config);
        CheckOk(result.status(), "training with LibTorch");
        autograd.push_back(result->samples_per_second);
      }
      const double a = Median(ours), b = Median(theirs), c = Median(autograd);
      for (double rate : {a, b, c}) {
        Require(std::isfinite(rate) && rate > 0,
                absl::StrCat(set.name, " at batch ", batch, ": a rate of ", rate, " samples/s"));
      }
      std::printf("%-15s %6lld %7d %14.0f %16.0f %7.2fx %10s %9.0f %5.2fx\n", set.name.c_str(),
                  static_cast<long long>(set.table.features.rows), batch, a, b, a / b,
                  a / b >= 1.2 ? "yes" : "NO", c, c / b);
    }
  }
  std::printf(
      "libs/training engine: %s; LibTorch C++: the same loop on autograd, its ratio to "
      "Python beside it\n",
      engine.c_str());
}

void Accuracy(const Flags& flags) {
  LabeledTable all = Fashion("train");
  LabeledTable test = Fashion("t10k");
  if (flags.small) {  // 6,000 images (1,000 of them held out), scored on 2,000.
    all = Rows(all, 0, 6000);
    test = Rows(test, 0, 2000);
  }
  const int64_t held_out = flags.small ? 1000 : 6000;
  std::vector<int64_t> order(all.features.rows);
  for (int64_t i = 0; i < all.features.rows; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(3));
  const std::vector<int64_t> train_rows(order.begin(), order.end() - held_out);
  const std::vector<int64_t> valid_rows(order.end() - held_out, order.end());
  const auto take = [&](const std::vector<int64_t>& rows) {
    LabeledTable part;
    part.features = all.features.Take(rows);
    for (int64_t i : rows) part.labels.push_back(all.labels[i]);
    return part;
  };
  training::TrainConfig config =
      Mlp(v1::TASK_MULTICLASS_CLASSIFICATION, 128, flags.epochs, flags.threads);
  config.family.mutable_mlp()->set_dropout(0.2);
  config.early_stopping_patience = 3;
  std::printf(
      "\nFashion-MNIST: MLP 256-128 ReLU, dropout 0.2, Adam 1e-3, batch 128, up to %d "
      "epochs (early stopping, patience 3), %d threads, %zu training images\n",
      flags.epochs, flags.threads, train_rows.size());
  absl::StatusOr<training::TrainResult> result = training::TrainTabular(
      take(train_rows), take(valid_rows), config, [](const training::TrainProgress& p) {
        if (p.epoch_end) {
          std::printf("  epoch %2d: train loss %.4f, validation accuracy %.4f, %.0f samples/s\n",
                      p.epoch, p.train_loss, p.validation_metric.value(), p.samples_per_second);
          std::fflush(stdout);
        }
      });
  CheckOk(result.status(), "training");
  // The test images scored by the exported module, from raw pixels, as inference will.
  absl::StatusOr<std::vector<double>> p =
      training::PredictTorchScript(result->torchscript, test.features);
  CheckOk(p.status(), "scoring the test set");
  Require(p->size() == static_cast<size_t>(test.features.rows) * 10,
          absl::StrCat("the module gave ", p->size(), " probabilities for ", test.features.rows,
                       " images of 10 classes"));
  int64_t correct = 0;
  for (int64_t i = 0; i < test.features.rows; ++i) {
    double sum = 0;
    for (int c = 0; c < 10; ++c) sum += (*p)[i * 10 + c];
    Require(std::abs(sum - 1) < 1e-3,
            absl::StrCat("test image ", i, "'s probabilities sum to ", sum));
    int best = 0;
    for (int c = 1; c < 10; ++c) {
      if ((*p)[i * 10 + c] > (*p)[i * 10 + best]) best = c;
    }
    correct += best == static_cast<int>(test.labels[i]);
  }
  const double accuracy = static_cast<double>(correct) / test.features.rows;
  std::printf(
      "test accuracy %.4f on %lld images (best epoch %d of %d, %.1f s of training); "
      "goal >= 0.88: %s\n",
      accuracy, static_cast<long long>(test.features.rows), result->best_epoch,
      result->epochs_completed, result->train_seconds, accuracy >= 0.88 ? "met" : "NOT met");
  // Ten classes: chance is 0.10. Far below the goal, far above anything broken.
  Require(accuracy >= 0.70, absl::StrCat("test accuracy ", accuracy, " is below 0.70"));
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  core::FlagSet set("training_bench",
                    "Training throughput of libs/training against Python PyTorch at batch sizes "
                    "32, 256 and 2048 (Fashion-MNIST and a 50-feature tabular set), and "
                    "Fashion-MNIST test accuracy.");
  set.Add("phases", &flags.phases, "Which measurements to run: throughput,accuracy");
  set.Add("threads", &flags.threads, "Intra-op threads, on both sides");
  set.Add("repeats", &flags.repeats, "Runs of each throughput figure; the median is reported");
  set.Add("epochs", &flags.epochs, "Most epochs of the accuracy run");
  set.Add("dir", &flags.dir, "Scratch directory (removed at the end)");
  set.Add("small", &flags.small,
          "A tenth of the data, batch 256 only, 1 repeat, 3 epochs: for the correctness checks");
  core::ParsedArgs parsed;
  if (std::optional<int> code =
          cli::ParseCommandFlags(set, std::vector<std::string>(argv + 1, argv + argc), &parsed)) {
    std::exit(*code);
  }
  if (flags.small) {
    flags.repeats = 1;
    flags.epochs = std::min(flags.epochs, 3);
  }
  if (flags.threads < 1 || flags.repeats < 1 || flags.epochs < 1) {
    std::fprintf(stderr, "--threads, --repeats and --epochs must be at least 1\n");
    std::exit(2);
  }
  return flags;
}

int Main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  std::filesystem::create_directories(flags.dir);
  if (absl::StrContains(flags.phases, "throughput")) Throughput(flags);
  if (absl::StrContains(flags.phases, "accuracy")) Accuracy(flags);
  std::filesystem::remove_all(flags.dir);
  return 0;
}

}  // namespace
}  // namespace fabrique::bench

int main(int argc, char** argv) { return fabrique::bench::Main(argc, argv); }
