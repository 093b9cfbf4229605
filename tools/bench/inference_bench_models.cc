#include "tools/bench/inference_bench_models.h"

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "libs/serving/torchscript_loader.h"
#include "libs/training/torchscript_export.h"

namespace fabrique::bench {

ModelShape FashionShape() { return {"fmnist", 784, 10}; }
ModelShape Tabular50Shape() { return {"tabular50", 50, 2}; }

int OutputWidth(const ModelShape& shape) { return shape.classes == 2 ? 1 : shape.classes; }

namespace {

void AddOutput(const ModelShape& shape, v1::ModelSignature* signature) {
  v1::TensorSpec* output = signature->add_outputs();
  output->set_name("y");
  output->set_datatype("FP32");
  output->add_shape(-1);
  output->add_shape(OutputWidth(shape));
}

}  // namespace

v1::ModelSignature PlainSignature(const ModelShape& shape) {
  v1::ModelSignature signature;
  v1::TensorSpec* input = signature.add_inputs();
  input->set_name("x");
  input->set_datatype("FP32");
  input->add_shape(-1);
  input->add_shape(shape.width);
  AddOutput(shape, &signature);
  return signature;
}

v1::ModelSignature FeatureSignature(const ModelShape& shape, const std::string& group) {
  v1::ModelSignature signature;
  for (int f = 0; f < shape.width; ++f) {
    v1::TensorSpec* input = signature.add_inputs();
    input->set_name(absl::StrCat("f", f));
    input->set_datatype("FP32");
    input->add_shape(-1);
    input->add_shape(1);
    input->set_nan_allowed(true);
    v1::VersionedFeatureRef* feature = input->mutable_feature();
    feature->mutable_ref()->set_group(group);
    feature->mutable_ref()->set_feature(absl::StrCat("f", f));
    feature->set_schema_version(1);
    feature->set_type(v1::FEATURE_TYPE_FLOAT);
  }
  AddOutput(shape, &signature);
  return signature;
}

absl::Status WriteModule(const ModelShape& shape, uint32_t seed, const std::string& path) {
  try {
    torch::manual_seed(seed);
    training::ExportedNetwork network;
    training::Preprocessing::Numeric numeric;
    numeric.name = "x";
    numeric.width = shape.width;
    numeric.mean.assign(shape.width, 0.0f);
    numeric.stddev.assign(shape.width, 1.0f);
    network.preprocessing.numeric.push_back(numeric);
    network.task =
        shape.classes == 2 ? v1::TASK_BINARY_CLASSIFICATION : v1::TASK_MULTICLASS_CLASSIFICATION;
    int in = shape.width;
    std::vector<int> sizes = shape.hidden;
    sizes.push_back(OutputWidth(shape));
    for (int out : sizes) {
      // He-scaled, so the activations stay in range through the layers.
      network.weights.push_back(torch::randn({out, in}) * std::sqrt(2.0 / in));
      network.biases.push_back(torch::randn({out}) * 0.1);
      in = out;
    }
    torch::jit::Module module = training::BuildTorchScript(network);
    module.save(path);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("building the ", shape.name, " module: ", e.what()));
  }
  return absl::OkStatus();
}

serving::TensorBatch RandomRows(const ModelShape& shape, int64_t rows, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  serving::TensorBatch batch;
  batch.rows = rows;
  serving::Tensor& x = batch.tensors.emplace_back();
  x.name = "x";
  x.type = serving::DataType::kFp32;
  x.shape = {rows, shape.width};
  x.fp32.resize(rows * shape.width);
  for (float& v : x.fp32) v = normal(rng);
  return batch;
}

absl::StatusOr<std::unique_ptr<InProcessModels>> InProcessModels::Create(int intra_op_threads) {
  serving::TorchScriptLoaderOptions options;
  options.intra_op_threads = intra_op_threads;
  absl::StatusOr<std::unique_ptr<serving::TorchScriptLoader>> loader =
      serving::TorchScriptLoader::Create(options);
  if (!loader.ok()) return loader.status();
  return std::unique_ptr<InProcessModels>(new InProcessModels(*std::move(loader)));
}

absl::StatusOr<std::unique_ptr<serving::LoadedModule>> InProcessModels::Load(
    const std::string& path, const v1::ModelSignature& signature, int warmup_batch) {
  serving::LoadOptions options;
  options.device = "cpu";
  options.warmup_batch_sizes = {1, warmup_batch};
  return loader_->Load(path, signature, options);
}

double InProcessRowsPerSecond(const serving::LoadedModule& module,
                              const serving::TensorBatch& batch, int threads,
                              absl::Duration duration) {
  std::atomic<bool> stop{false};
  std::atomic<int64_t> calls{0};
  std::vector<std::thread> workers;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      int64_t done = 0;
      do {
        if (!module.Forward(batch).ok()) break;
        ++done;
      } while (!stop.load(std::memory_order_relaxed));
      calls.fetch_add(done);
    });
  }
  std::this_thread::sleep_for(absl::ToChronoNanoseconds(duration));
  stop = true;
  for (std::thread& worker : workers) worker.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return calls.load() * batch.rows / seconds;
}

}  // namespace fabrique::bench
