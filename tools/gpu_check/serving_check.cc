#include "tools/gpu_check/serving_check.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "fabrique/v1/common.pb.h"
#include "libs/serving/torchscript_loader.h"

namespace fabrique::gpu_check {
namespace {

using serving::LoadedModule;
using serving::Tensor;
using serving::TensorBatch;

// The trainer's signature for the rows' columns: one FP32 [-1, 1] input a feature, in order, and
// P(class 1) as "probability" FP32 [-1, 1] (libs/training/version_draft.cc).
v1::ModelSignature SignatureOf(const training::RawTable& rows) {
  v1::ModelSignature signature;
  for (const training::RawColumn& column : rows.columns) {
    v1::TensorSpec* input = signature.add_inputs();
    input->set_name(column.name);
    input->set_datatype("FP32");
    input->add_shape(-1);
    input->add_shape(column.width);
  }
  v1::TensorSpec* output = signature.add_outputs();
  output->set_name("probability");
  output->set_datatype("FP32");
  output->add_shape(-1);
  output->add_shape(1);
  return signature;
}

// The first `count` rows, one tensor a column, as the inference server hands them to a module.
TensorBatch Head(const training::RawTable& rows, int64_t count) {
  TensorBatch batch;
  batch.rows = count;
  for (const training::RawColumn& column : rows.columns) {
    Tensor tensor;
    tensor.name = column.name;
    tensor.type = serving::DataType::kFp32;
    tensor.shape = {count, column.width};
    tensor.fp32.assign(column.numeric.begin(), column.numeric.begin() + count * column.width);
    batch.tensors.push_back(std::move(tensor));
  }
  return batch;
}

double MaxDiff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(double(a[i]) - b[i]));
  return worst;
}

// Rows per second of `module` on `batch`, forward called until `seconds` have passed.
absl::StatusOr<double> RowsPerSecond(const LoadedModule& module, const TensorBatch& batch,
                                     double seconds) {
  const auto start = std::chrono::steady_clock::now();
  int64_t rows = 0;
  double elapsed = 0;
  do {
    absl::StatusOr<TensorBatch> answered = module.Forward(batch);
    if (!answered.ok()) return answered.status();
    rows += batch.rows;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < seconds);
  return rows / elapsed;
}

// The module's bytes in a file under /tmp, as the artifact cache holds them; removed with this.
class ModuleFile {
 public:
  explicit ModuleFile(const std::string& bytes) {
    char path[] = "/tmp/gpu_check_module_XXXXXX";
    const int fd = mkstemp(path);
    if (fd < 0) return;
    close(fd);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    path_ = path;
    if (!out) path_.clear();
  }
  ~ModuleFile() {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  ModuleFile(const ModuleFile&) = delete;
  ModuleFile& operator=(const ModuleFile&) = delete;

  // "" when the file could not be written.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Counts and prints failed checks.
class Checks {
 public:
  void Expect(bool ok, const std::string& what) {
    if (ok) return;
    std::printf("         FAILED: %s\n", what.c_str());
    ++failures_;
  }
  int failures() const { return failures_; }

 private:
  int failures_ = 0;
};

// The module loaded on `device`, checked to sit on `where`; null (a failure counted) if not.
std::unique_ptr<LoadedModule> LoadOn(serving::TorchScriptLoader& loader, const std::string& path,
                                     const v1::ModelSignature& signature,
                                     const std::vector<int>& warmup, const std::string& device,
                                     const std::string& where, Checks& checks) {
  serving::LoadOptions options;
  options.device = device;
  options.warmup_batch_sizes = warmup;
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<LoadedModule>> module = loader.Load(path, signature, options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!module.ok()) {
    checks.Expect(false, absl::StrCat("load on '", device, "': ", module.status().ToString()));
    return nullptr;
  }
  std::printf("loaded on '%s': sits on %s, load and warm-up %.2f s\n", device.c_str(),
              (*module)->device().c_str(), seconds);
  checks.Expect((*module)->device() == where, absl::StrCat("'", device, "' put the module on ",
                                                           (*module)->device(), ", not ", where));
  return (*module)->device() == where ? std::move(*module) : nullptr;
}

// The batch sizes of `options`, capped at the rows there are, each once, smallest first.
std::vector<int> BatchSizes(const ServingCheckOptions& options) {
  std::vector<int> sizes;
  for (int size : options.batch_sizes) {
    sizes.push_back(static_cast<int>(std::min<int64_t>(size, options.rows->rows)));
  }
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

// The module as serving loads it on the CPU and, when asked, on CUDA (null where it failed).
struct Loaded {
  std::unique_ptr<LoadedModule> cpu;
  std::unique_ptr<LoadedModule> cuda;
};

// Loads on "cpu", on "cuda" (or checks it is refused as absent without `cuda`) and on "auto",
// which must pick CUDA when there is one.
Loaded LoadEverywhere(serving::TorchScriptLoader& loader, const std::string& path,
                      const v1::ModelSignature& signature, const std::vector<int>& sizes, bool cuda,
                      Checks& checks) {
  Loaded loaded;
  loaded.cpu = LoadOn(loader, path, signature, sizes, "cpu", "cpu", checks);
  if (cuda) {
    loaded.cuda = LoadOn(loader, path, signature, sizes, "cuda", "cuda:0", checks);
  } else {
    serving::LoadOptions on_cuda;
    on_cuda.device = "cuda";
    const absl::StatusCode refused = loader.Load(path, signature, on_cuda).status().code();
    std::printf("loaded on 'cuda': %s (no CUDA here)\n", absl::StatusCodeToString(refused).c_str());
    checks.Expect(refused == absl::StatusCode::kFailedPrecondition,
                  "'cuda' without a GPU is not FAILED_PRECONDITION");
  }
  LoadOn(loader, path, signature, {1}, "auto", cuda ? "cuda:0" : "cpu", checks);
  return loaded;
}

// The served module answers on the CPU what training predicted for the same rows.
void CheckAgreesWithTraining(const LoadedModule& cpu, const ServingCheckOptions& options,
                             Checks& checks) {
  const int64_t head = std::min<int64_t>(options.expected.size(), options.rows->rows);
  if (head == 0) return;
  absl::StatusOr<TensorBatch> served = cpu.Forward(Head(*options.rows, head));
  double worst = served.ok() ? 0 : INFINITY;
  for (int64_t i = 0; served.ok() && i < head; ++i) {
    worst = std::max(worst, std::abs(served->tensors[0].fp32[i] - options.expected[i]));
  }
  std::printf("served on the CPU vs training's predictions (%lld rows): max |diff| %.2g\n",
              static_cast<long long>(head), worst);
  // Training's own tolerance for its exported module (gpu_check.cc): its predictions may come
  // from the GPU.
  checks.Expect(worst <= 1e-3, "the served module does not answer as training predicted");
}

// Rows per second of `module` on `batch`, printed; its answers, or none when forward failed.
std::optional<TensorBatch> Timed(const LoadedModule& module, const std::string& device,
                                 const TensorBatch& batch, double seconds, Checks& checks) {
  absl::StatusOr<TensorBatch> answered = module.Forward(batch);
  checks.Expect(answered.ok(), absl::StrCat(device, " forward of ", batch.rows,
                                            " rows: ", answered.status().ToString()));
  if (!answered.ok()) return std::nullopt;
  absl::StatusOr<double> rate = RowsPerSecond(module, batch, seconds);
  checks.Expect(rate.ok(), rate.status().ToString());
  std::printf("%-8s %7lld %14.0f", device.c_str(), static_cast<long long>(batch.rows),
              rate.ok() ? *rate : -1.0);
  return *std::move(answered);
}

}  // namespace

int CheckServing(const ServingCheckOptions& options) {
  Checks checks;
  std::printf("\nServing (libs/serving's TorchScript loader), CUDA available: %s\n",
              serving::TorchScriptLoader::CudaAvailable() ? "yes" : "no");
  const ModuleFile file(options.torchscript);
  absl::StatusOr<std::unique_ptr<serving::TorchScriptLoader>> loader =
      serving::TorchScriptLoader::Create({});
  checks.Expect(!file.path().empty(), "could not write the module under /tmp");
  checks.Expect(loader.ok(), loader.status().ToString());
  if (file.path().empty() || !loader.ok()) return checks.failures();
  const std::vector<int> sizes = BatchSizes(options);
  const Loaded loaded = LoadEverywhere(**loader, file.path(), SignatureOf(*options.rows), sizes,
                                       options.cuda, checks);
  if (loaded.cpu == nullptr) return checks.failures();
  CheckAgreesWithTraining(*loaded.cpu, options, checks);

  std::printf("\n%-8s %7s %14s %16s\n", "device", "batch", "rows/s", "max |cuda-cpu|");
  for (int size : sizes) {
    const TensorBatch batch = Head(*options.rows, size);
    const std::optional<TensorBatch> on_cpu =
        Timed(*loaded.cpu, "cpu", batch, options.seconds_per_batch, checks);
    std::printf("\n");
    if (!on_cpu.has_value() || loaded.cuda == nullptr) continue;
    const std::optional<TensorBatch> on_cuda =
        Timed(*loaded.cuda, "cuda", batch, options.seconds_per_batch, checks);
    if (!on_cuda.has_value()) continue;
    const double diff = MaxDiff(on_cuda->tensors[0].fp32, on_cpu->tensors[0].fp32);
    std::printf(" %16.2g\n", diff);
    checks.Expect(diff <= 1e-4, absl::StrCat("cuda answers differ from the cpu's by ", diff, " on ",
                                             size, " rows"));
  }
  if (!options.cuda) std::printf("CUDA serving was not checked (no GPU asked for).\n");
  return checks.failures();
}

}  // namespace fabrique::gpu_check
