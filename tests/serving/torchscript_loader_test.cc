// The TorchScript loader serves the trainer's modules (numeric and categorical features, NaN as
// missing) and modules written by hand (one argument per input; a Tensor, a tuple or a dict
// back), refuses what it cannot serve with the reason, and scores from several threads at once.

#include "libs/serving/torchscript_loader.h"

#include <torch/script.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"  // c10's headers redefine CHECK: REQUIRE only here.
#include "libs/training/torchscript_export.h"
#include "tests/util/test_util.h"

namespace fabrique::serving {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

void AddSpec(google::protobuf::RepeatedPtrField<v1::TensorSpec>* specs, const std::string& name,
             const std::string& datatype, const std::vector<int64_t>& shape) {
  v1::TensorSpec* spec = specs->Add();
  spec->set_name(name);
  spec->set_datatype(datatype);
  for (int64_t d : shape) spec->add_shape(d);
  spec->set_nan_allowed(datatype == "FP32");
}

Tensor Fp32(const std::string& name, std::vector<int64_t> shape, std::vector<float> values) {
  Tensor tensor;
  tensor.name = name;
  tensor.type = DataType::kFp32;
  tensor.shape = std::move(shape);
  tensor.fp32 = std::move(values);
  return tensor;
}

Tensor Int64(const std::string& name, std::vector<int64_t> shape, std::vector<int64_t> values) {
  Tensor tensor;
  tensor.name = name;
  tensor.type = DataType::kInt64;
  tensor.shape = std::move(shape);
  tensor.int64 = std::move(values);
  return tensor;
}

Tensor Bytes(const std::string& name, std::vector<std::string> values) {
  Tensor tensor;
  tensor.name = name;
  tensor.type = DataType::kBytes;
  tensor.shape = {static_cast<int64_t>(values.size()), 1};
  tensor.bytes = std::move(values);
  return tensor;
}

TensorBatch Batch(std::vector<Tensor> tensors) {
  TensorBatch batch;
  batch.rows = tensors.front().rows();
  batch.tensors = std::move(tensors);
  return batch;
}

std::unique_ptr<TorchScriptLoader> MakeLoader(int warmup_runs = 3) {
  TorchScriptLoaderOptions options;
  options.warmup_runs = warmup_runs;
  absl::StatusOr<std::unique_ptr<TorchScriptLoader>> loader = TorchScriptLoader::Create(options);
  REQUIRE(loader.ok());
  return *std::move(loader);
}

// A module whose forward is `source`, saved in `dir` as `name`.
std::string SaveScript(const testing::TempDir& dir, const std::string& name,
                       const std::string& source) {
  torch::jit::Module module("Handwritten");
  module.define(source);
  const std::string path = dir.Sub(name);
  module.save(path);
  return path;
}

// The trainer's export of a binary classifier over age (1 wide, missing in training), position
// (2 wide) and city (2 known values), with fixed weights.
torch::jit::Module TrainerModule() {
  training::ExportedNetwork network;
  training::Preprocessing& p = network.preprocessing;
  p.numeric.push_back({"age", 1, {40}, {10}, true});
  p.numeric.push_back({"position", 2, {0, 1}, {1, 2}, false});
  p.categorical.push_back({"city", {"paris", "lyon"}});
  network.task = v1::TASK_BINARY_CLASSIFICATION;
  torch::manual_seed(7);
  network.weights.push_back(torch::randn({3, p.EncodedWidth()}));
  network.biases.push_back(torch::randn({3}));
  network.weights.push_back(torch::randn({1, 3}));
  network.biases.push_back(torch::randn({1}));
  return training::BuildTorchScript(network);
}

v1::ModelSignature TrainerSignature() {
  v1::ModelSignature signature;
  AddSpec(signature.mutable_inputs(), "age", "FP32", {-1, 1});
  AddSpec(signature.mutable_inputs(), "position", "FP32", {-1, 2});
  AddSpec(signature.mutable_inputs(), "city", "BYTES", {-1, 1});
  AddSpec(signature.mutable_outputs(), "probability", "FP32", {-1, 1});
  return signature;
}

// `rows` rows for TrainerSignature(), varied by `seed`; every third age missing.
TensorBatch TrainerRows(int rows, int seed) {
  const std::vector<std::string> cities = {"paris", "lyon", "", "tokyo"};
  std::vector<float> age, position;
  std::vector<std::string> city;
  for (int i = 0; i < rows; ++i) {
    age.push_back((i + seed) % 3 == 0 ? kNaN : 20.0f + static_cast<float>((i * 7 + seed) % 50));
    position.push_back(static_cast<float>((i + seed) % 5) - 2.0f);
    position.push_back(static_cast<float>(i % 3) * 0.5f);
    city.push_back(cities[(i + seed) % cities.size()]);
  }
  return Batch(
      {Fp32("age", {rows, 1}, age), Fp32("position", {rows, 2}, position), Bytes("city", city)});
}

TEST_CASE("The trainer's module scores raw rows as calling it directly does", "[serving]") {
  testing::TempDir dir;
  torch::jit::Module module = TrainerModule();
  const std::string path = dir.Sub("trainer.pt");
  module.save(path);

  absl::StatusOr<std::unique_ptr<LoadedModule>> loaded =
      MakeLoader()->Load(path, TrainerSignature(), LoadOptions());
  REQUIRE(loaded.ok());
  REQUIRE((*loaded)->device() == "cpu");
  const TensorBatch rows =
      Batch({Fp32("age", {3, 1}, {35, kNaN, 52}), Fp32("position", {3, 2}, {0.5f, 1, -1, 3, 2, 0}),
             Bytes("city", {"paris", "", "tokyo"})});
  absl::StatusOr<TensorBatch> outputs = (*loaded)->Forward(rows);
  REQUIRE(outputs.ok());
  REQUIRE(outputs->rows == 3);
  REQUIRE(outputs->tensors.size() == 1);
  const Tensor& probability = outputs->tensors[0];
  REQUIRE(probability.name == "probability");
  REQUIRE(probability.type == DataType::kFp32);
  REQUIRE(probability.shape == std::vector<int64_t>{3, 1});

  // The module called by hand: numeric [rows, 3] in signature order, categorical per row.
  torch::Tensor numeric =
      torch::tensor({35.0f, 0.5f, 1.0f, kNaN, -1.0f, 3.0f, 52.0f, 2.0f, 0.0f}).reshape({3, 3});
  c10::List<c10::List<std::string>> categorical;
  for (const char* city : {"paris", "", "tokyo"})
    categorical.push_back(c10::List<std::string>({city}));
  torch::NoGradGuard no_grad;
  const torch::Tensor expected = module.forward({numeric, categorical}).toTensor();
  for (int64_t i = 0; i < 3; ++i) {
    INFO("row " << i);
    REQUIRE(std::isfinite(probability.fp32[i]));  // The missing age was imputed.
    REQUIRE(probability.fp32[i] == Approx(expected[i][0].item<float>()).epsilon(1e-6));
  }
  // The missing age and an unseen city change the answer: the inputs reached the module.
  REQUIRE(probability.fp32[0] != Approx(probability.fp32[1]));
}

TEST_CASE("A module of one tensor in and one out is called with the input's tensor", "[serving]") {
  testing::TempDir dir;
  const std::string path = SaveScript(dir, "scale.pt", R"(
def forward(self, x: Tensor) -> Tensor:
    return x * 2.0 + 1.0
)");
  v1::ModelSignature signature;
  AddSpec(signature.mutable_inputs(), "x", "FP32", {-1, 3});
  AddSpec(signature.mutable_outputs(), "y", "FP32", {-1, 3});
  absl::StatusOr<std::unique_ptr<LoadedModule>> loaded =
      MakeLoader()->Load(path, signature, LoadOptions());
  REQUIRE(loaded.ok());
  const TensorBatch rows = Batch({Fp32("x", {2, 3}, {0, 1, 2, 3, 4, 5})});
  absl::StatusOr<TensorBatch> outputs = (*loaded)->Forward(rows);
  REQUIRE(outputs.ok());
  REQUIRE(outputs->tensors.size() == 1);
  REQUIRE(outputs->tensors[0].name == "y");
  REQUIRE(outputs->tensors[0].shape == std::vector<int64_t>{2, 3});
  REQUIRE(outputs->tensors[0].fp32 == std::vector<float>{1, 3, 5, 7, 9, 11});
  // The module's in-place writes never reach the caller's rows.
  REQUIRE(rows.tensors[0].fp32 == std::vector<float>{0, 1, 2, 3, 4, 5});
}

TEST_CASE("Two typed inputs give a tuple of two outputs, converted to the signature's types",
          "[serving]") {
  testing::TempDir dir;
  const std::string path = SaveScript(dir, "pair.pt", R"(
def forward(self, x: Tensor, n: Tensor) -> Tuple[Tensor, Tensor]:
    return x.double().sum(1, keepdim=True), n * 3
)");
  v1::ModelSignature signature;
  AddSpec(signature.mutable_inputs(), "x", "FP32", {-1, 2});
  AddSpec(signature.mutable_inputs(), "n", "INT64", {-1, 1});
  AddSpec(signature.mutable_outputs(), "total", "FP32", {-1, 1});
  AddSpec(signature.mutable_outputs(), "tripled", "INT64", {-1, 1});
  absl::StatusOr<std::unique_ptr<LoadedModule>> loaded =
      MakeLoader()->Load(path, signature, LoadOptions());
  REQUIRE(loaded.ok());
  absl::StatusOr<TensorBatch> outputs =
      (*loaded)->Forward(Batch({Fp32("x", {2, 2}, {1.5f, 2, -1, 4}), Int64("n", {2, 1}, {7, -2})}));
  REQUIRE(outputs.ok());
  REQUIRE(outputs->tensors.size() == 2);
  REQUIRE(outputs->tensors[0].name == "total");
  REQUIRE(outputs->tensors[0].type == DataType::kFp32);  // The module's double, converted.
  REQUIRE(outputs->tensors[0].fp32 == std::vector<float>{3.5f, 3});
  REQUIRE(outputs->tensors[1].name == "tripled");
  REQUIRE(outputs->tensors[1].int64 == std::vector<int64_t>{21, -6});
}

TEST_CASE("A dict's tensors are the outputs of their names, in the signature's order",
          "[serving]") {
  testing::TempDir dir;
  const std::string path = SaveScript(dir, "dict.pt", R"(
def forward(self, x: Tensor, words: List[str]) -> Dict[str, Tensor]:
    lengths = torch.tensor([len(w) for w in words])
    return {"high": x + 1.0, "low": x - 1.0, "positive": x > 0.0, "length": lengths}
)");
  v1::ModelSignature signature;
  AddSpec(signature.mutable_inputs(), "x", "FP32", {-1});
  AddSpec(signature.mutable_inputs(), "words", "BYTES", {-1});
  AddSpec(signature.mutable_outputs(), "low", "FP32", {-1, 1});  // The module's [rows] fits.
  AddSpec(signature.mutable_outputs(), "positive", "BOOL", {-1});
  AddSpec(signature.mutable_outputs(), "length", "INT32", {-1});
  AddSpec(signature.mutable_outputs(), "high", "FP64", {-1});
  absl::StatusOr<std::unique_ptr<LoadedModule>> loaded =
      MakeLoader()->Load(path, signature, LoadOptions());
  REQUIRE(loaded.ok());
  Tensor words = Bytes("words", {"a", "hello"});
  words.shape = {2};
  absl::StatusOr<TensorBatch> outputs =
      (*loaded)->Forward(Batch({Fp32("x", {2}, {-2, 0.5f}), words}));
  REQUIRE(outputs.ok());
  REQUIRE(outputs->tensors.size() == 4);
  REQUIRE(outputs->tensors[0].name == "low");
  REQUIRE(outputs->tensors[0].shape == std::vector<int64_t>{2, 1});
  REQUIRE(outputs->tensors[0].fp32 == std::vector<float>{-3, -0.5f});
  REQUIRE(outputs->tensors[1].boolean == std::vector<uint8_t>{0, 1});
  REQUIRE(outputs->tensors[2].int32 == std::vector<int32_t>{1, 5});
  REQUIRE(outputs->tensors[3].fp64 == std::vector<double>{-1, 1.5});
}

TEST_CASE("Warm-up runs every batch size several times before the module serves", "[serving]") {
  testing::TempDir dir;
  torch::jit::Module module("Counting");
  module.register_attribute("calls", c10::IntType::get(), int64_t{0});
  module.define(R"(
def forward(self, x: Tensor) -> Tensor:
    self.calls += 1
    return torch.full([x.size(0), 1], self.calls)
)");
  const std::string path = dir.Sub("counting.pt");
  module.save(path);
  v1::ModelSignature signature;
  AddSpec(signature.mutable_inputs(), "x", "FP32", {-1, 1});
  AddSpec(signature.mutable_outputs(), "calls", "INT64", {-1, 1});
  LoadOptions options;
  options.warmup_batch_sizes = {1, 8};
  absl::StatusOr<std::unique_ptr<LoadedModule>> loaded =
      MakeLoader(/*warmup_runs=*/3)->Load(path, signature, options);
  REQUIRE(loaded.ok());
  absl::StatusOr<TensorBatch> outputs = (*loaded)->Forward(Batch({Fp32("x", {1, 1}, {0})}));
  REQUIRE(outputs.ok());
  REQUIRE(outputs->tensors[0].int64 == std::vector<int64_t>{7});  // 2 sizes x 3 runs, then this.
}

TEST_CASE("Files that are not a fitting TorchScript module are refused with the reason",
          "[serving]") {
  testing::TempDir dir;
  std::unique_ptr<TorchScriptLoader> loader = MakeLoader();
  v1::ModelSignature one;
  AddSpec(one.mutable_inputs(), "x", "FP32", {-1, 1});
  AddSpec(one.mutable_outputs(), "y", "FP32", {-1, 1});

  SECTION("not a TorchScript file") {
    const std::string path = dir.Sub("model.pt");
    std::ofstream(path) << "a model, honestly";
    absl::StatusOr<std::unique_ptr<LoadedModule>> loaded = loader->Load(path, one, LoadOptions());
    REQUIRE(loaded.status().code() == absl::StatusCode::kInvalidArgument);
    REQUIRE(absl::StrContains(loaded.status().message(), "not a TorchScript module"));
    REQUIRE(absl::StrContains(loaded.status().message(), path));
  }
  SECTION("no file") {
    absl::StatusOr<std::unique_ptr<LoadedModule>> loaded =
        loader->Load(dir.Sub("absent.pt"), one, LoadOptions());
    REQUIRE(loaded.status().code() == absl::StatusCode::kNotFound);
    REQUIRE(absl::StrContains(loaded.status().message(), "absent.pt"));
  }
  SECTION("a signature with more inputs than forward takes") {
    const std::string path = SaveScript(dir, "one.pt", R"(
def forward(self, x: Tensor) -> Tensor:
    return x
)");
    v1::ModelSignature two = one;
    AddSpec(two.mutable_inputs(), "z", "FP32", {-1, 1});
    absl::StatusOr<std::unique_ptr<LoadedModule>> loaded = loader->Load(path, two, LoadOptions());
    REQUIRE(loaded.status().code() == absl::StatusCode::kInvalidArgument);
    const std::string message(loaded.status().message());
    INFO(message);
    REQUIRE(absl::StrContains(message, "forward(x: Tensor) -> Tensor"));
    REQUIRE(absl::StrContains(message, "2 inputs: x FP32 [-1, 1], z FP32 [-1, 1]"));
  }
  SECTION("a BYTES input where forward takes a Tensor") {
    const std::string path = SaveScript(dir, "tensor.pt", R"(
def forward(self, x: Tensor) -> Tensor:
    return x
)");
    v1::ModelSignature words;
    AddSpec(words.mutable_inputs(), "word", "BYTES", {-1, 1});
    AddSpec(words.mutable_outputs(), "y", "FP32", {-1, 1});
    absl::StatusOr<std::unique_ptr<LoadedModule>> loaded = loader->Load(path, words, LoadOptions());
    REQUIRE(loaded.status().code() == absl::StatusCode::kInvalidArgument);
    REQUIRE(absl::StrContains(loaded.status().message(), "'word' (BYTES) needs List[str]"));
  }
  SECTION("a tuple of another length than the signature's outputs") {
    const std::string path = SaveScript(dir, "triple.pt", R"(
def forward(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    return x, x, x
)");
    absl::StatusOr<std::unique_ptr<LoadedModule>> loaded = loader->Load(path, one, LoadOptions());
    REQUIRE(loaded.status().code() == absl::StatusCode::kInvalidArgument);
    REQUIRE(absl::StrContains(loaded.status().message(), "Tuple[Tensor, Tensor, Tensor]"));
  }
  SECTION("a forward that raises on the warm-up rows") {
    const std::string path = SaveScript(dir, "picky.pt", R"(
def forward(self, x: Tensor) -> Tensor:
    assert not bool((x == 0.0).all()), "all-zero rows are refused"
    return x
)");
    absl::StatusOr<std::unique_ptr<LoadedModule>> loaded = loader->Load(path, one, LoadOptions());
    REQUIRE(loaded.status().code() == absl::StatusCode::kInvalidArgument);
    REQUIRE(absl::StrContains(loaded.status().message(), "warm-up"));
    REQUIRE(absl::StrContains(loaded.status().message(), "all-zero rows are refused"));
  }
}

TEST_CASE("Devices: cuda needs CUDA, unknown names are refused", "[serving]") {
  testing::TempDir dir;
  const std::string path = SaveScript(dir, "same.pt", R"(
def forward(self, x: Tensor) -> Tensor:
    return x
)");
  v1::ModelSignature signature;
  AddSpec(signature.mutable_inputs(), "x", "FP32", {-1, 1});
  AddSpec(signature.mutable_outputs(), "y", "FP32", {-1, 1});
  std::unique_ptr<TorchScriptLoader> loader = MakeLoader();
  LoadOptions options;
  options.device = "cuda";
  absl::StatusOr<std::unique_ptr<LoadedModule>> loaded = loader->Load(path, signature, options);
  if (TorchScriptLoader::CudaAvailable()) {
    REQUIRE(loaded.ok());
    REQUIRE((*loaded)->device() == "cuda:0");
    absl::StatusOr<TensorBatch> outputs = (*loaded)->Forward(Batch({Fp32("x", {2, 1}, {1, 2})}));
    REQUIRE(outputs.ok());
    REQUIRE(outputs->tensors[0].fp32 == std::vector<float>{1, 2});
  } else {
    REQUIRE(loaded.status().code() == absl::StatusCode::kFailedPrecondition);
    REQUIRE(absl::StrContains(loaded.status().message(), "'cuda'"));
  }
  options.device = "auto";
  loaded = loader->Load(path, signature, options);
  REQUIRE(loaded.ok());
  REQUIRE((*loaded)->device() == (TorchScriptLoader::CudaAvailable() ? "cuda:0" : "cpu"));
  options.device = "tpu";
  REQUIRE(loader->Load(path, signature, options).status().code() ==
          absl::StatusCode::kInvalidArgument);
  TorchScriptLoaderOptions bad;
  bad.intra_op_threads = -1;
  REQUIRE(TorchScriptLoader::Create(bad).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Forward turns the module's failures into statuses", "[serving]") {
  testing::TempDir dir;
  // The width is free, so warm-up is skipped and every failure shows on a request. (Scripts
  // defined in C++ cannot name Python's exception classes: an assert is their raise.)
  const std::string path = SaveScript(dir, "fragile.pt", R"(
def forward(self, x: Tensor) -> Tensor:
    assert bool(x.sum() <= 100.0), "values above 100 are refused"
    if bool(x.sum() < -100.0):
        return torch.zeros([x.size(0) + 1, 1])
    return torch.mm(x, torch.ones([2, 1]))
)");
  v1::ModelSignature signature;
  AddSpec(signature.mutable_inputs(), "x", "FP32", {-1, -1});
  AddSpec(signature.mutable_outputs(), "y", "FP32", {-1, 1});
  absl::StatusOr<std::unique_ptr<LoadedModule>> loaded =
      MakeLoader()->Load(path, signature, LoadOptions());
  REQUIRE(loaded.ok());
  const LoadedModule& module = **loaded;
  absl::StatusOr<TensorBatch> good = module.Forward(Batch({Fp32("x", {1, 2}, {1, 2})}));
  REQUIRE(good.ok());
  REQUIRE(good->tensors[0].fp32 == std::vector<float>{3});

  absl::StatusOr<TensorBatch> raised = module.Forward(Batch({Fp32("x", {1, 2}, {100, 2})}));
  REQUIRE(raised.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(absl::StrContains(raised.status().message(), "values above 100 are refused"));

  absl::StatusOr<TensorBatch> shape = module.Forward(Batch({Fp32("x", {1, 3}, {1, 2, 3})}));
  REQUIRE(shape.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(absl::StrContains(shape.status().message(), "shapes cannot be multiplied"));

  absl::StatusOr<TensorBatch> rows = module.Forward(Batch({Fp32("x", {2, 2}, {-100, -1, 0, 0})}));
  REQUIRE(rows.status().code() == absl::StatusCode::kInternal);
  REQUIRE(absl::StrContains(rows.status().message(), "output 'y' has 3 rows for 2 input rows"));

  absl::StatusOr<TensorBatch> renamed = module.Forward(Batch({Fp32("z", {1, 2}, {1, 2})}));
  REQUIRE(renamed.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(absl::StrContains(renamed.status().message(), "'z'"));
}

TEST_CASE("Forward from four threads at once answers as sequential calls do", "[serving]") {
  testing::TempDir dir;
  const std::string path = dir.Sub("trainer.pt");
  TrainerModule().save(path);
  LoadOptions options;
  options.warmup_batch_sizes = {1, 8};
  absl::StatusOr<std::unique_ptr<LoadedModule>> loaded =
      MakeLoader()->Load(path, TrainerSignature(), options);
  REQUIRE(loaded.ok());
  const LoadedModule& module = **loaded;
  constexpr int kThreads = 4, kCalls = 25;
  // Each call its own rows and size; the answers of one thread, call after call.
  const auto call = [&](int thread, int i) {
    return module.Forward(TrainerRows(1 + (thread * kCalls + i) % 9, thread * kCalls + i));
  };
  std::vector<std::vector<float>> sequential(kThreads), concurrent(kThreads);
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kCalls; ++i) {
      absl::StatusOr<TensorBatch> outputs = call(t, i);
      REQUIRE(outputs.ok());
      const std::vector<float>& values = outputs->tensors[0].fp32;
      sequential[t].insert(sequential[t].end(), values.begin(), values.end());
    }
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        absl::StatusOr<TensorBatch> outputs = call(t, i);
        if (!outputs.ok()) {
          ++failures[t];
          continue;
        }
        const std::vector<float>& values = outputs->tensors[0].fp32;
        concurrent[t].insert(concurrent[t].end(), values.begin(), values.end());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    INFO("thread " << t);
    REQUIRE(failures[t] == 0);
    REQUIRE(concurrent[t].size() == sequential[t].size());
    for (size_t i = 0; i < sequential[t].size(); ++i) {
      REQUIRE(concurrent[t][i] == Approx(sequential[t][i]).epsilon(1e-6));
    }
  }
}

}  // namespace
}  // namespace fabrique::serving
