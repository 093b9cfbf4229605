#ifndef FABRIQUE_TESTS_INTEGRATION_INFERENCE_HARNESS_H_
#define FABRIQUE_TESTS_INTEGRATION_INFERENCE_HARNESS_H_

// The real fabrique-inference beside a real fabrique-registry, both on loopback with TLS and
// tokens from the test process's local authority (secure_service.h): the models it serves are
// registered through the registry's API, with TorchScript modules written by LibTorch's Python
// (/usr/bin/python3), each answering its own version number, so every answer says who scored it.

#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/inference.grpc.pb.h"
#include "fabrique/v1/registry.grpc.pb.h"
#include "inference/grpc_predict_v2.grpc.pb.h"
#include "libs/client/health_client.h"
#include "libs/core/hash_chain.h"
#include "tests/integration/killable_service.h"
#include "tests/integration/secure_service.h"
#include "tests/util/test_util.h"
#include "tools/cli/child_process.h"

namespace fabrique::testing::inference {

inline constexpr absl::Duration kPatience = absl::Seconds(60);  // For waits that take ms.
inline constexpr char kModel[] = "churn";

// A context of the local authority's admin, with a deadline `timeout` from now.
inline std::unique_ptr<grpc::ClientContext> Root(absl::Duration timeout = absl::Seconds(30)) {
  return TokenContext(LocalIdentity(), "root", {}, timeout);
}

// Writes `dir`/v<N>.pt for each of `versions`: forward(x) answers N for every row. A version in
// `broken` gets bytes that are no TorchScript module, so its load fails.
inline void WriteModules(const std::string& dir, const std::vector<int>& versions,
                         const std::vector<int>& broken = {}) {
  const std::string script = absl::StrCat(
      "import sys, torch\n"
      "class M(torch.nn.Module):\n"
      "    def __init__(self, n: float):\n"
      "        super().__init__()\n"
      "        self.n = n\n"
      "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
      "        return x * 0.0 + self.n\n"
      "for n in [",
      absl::StrJoin(versions, ","), "]:\n",
      "    torch.jit.script(M(float(n))).save(sys.argv[1] + '/v%d.pt' % n)\n");
  const std::string script_path = absl::StrCat(dir, "/make_modules.py");
  std::ofstream(script_path) << script;
  const std::string command = absl::StrCat("/usr/bin/python3 ", script_path, " ", dir);
  REQUIRE(std::system(command.c_str()) == 0);
  for (int n : broken) std::ofstream(absl::StrCat(dir, "/v", n, ".pt")) << "not a module";
}

// Writes a tabular module to `path`, in the trainer's calling convention (numeric, categorical):
// P(churn) = sigmoid(the numeric inputs), a missing value (NaN) imputed as 0; strings are ignored.
inline void WriteTabularModule(const std::string& path) {
  const std::string script_path = path + ".py";
  std::ofstream(script_path) << "import sys, torch\n"
                                "from typing import List\n"
                                "class M(torch.nn.Module):\n"
                                "    def forward(self, numeric: torch.Tensor,\n"
                                "                categorical: List[List[str]]) -> torch.Tensor:\n"
                                "        return torch.sigmoid(torch.nan_to_num(numeric, 0.0))\n"
                                "torch.jit.script(M()).save(sys.argv[1])\n";
  const std::string command = absl::StrCat("/usr/bin/python3 ", script_path, " ", path);
  REQUIRE(std::system(command.c_str()) == 0);
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Registers model `kModel` (owned by risk) in the registry behind `stub`.
inline void CreateModel(v1::ModelRegistry::Stub& stub) {
  v1::CreateModelRequest create;
  create.mutable_model()->set_name(kModel);
  create.mutable_model()->set_owner_squad("risk");
  v1::Model model;
  grpc::Status status = stub.CreateModel(Root().get(), create, &model);
  INFO(status.error_message());
  REQUIRE(status.ok());
}

// Uploads the file at `path` to the registry behind `stub`; the artifact it stored.
inline v1::Artifact UploadFile(v1::ModelRegistry::Stub& stub, const std::string& path) {
  const std::string bytes = ReadFile(path);
  const std::string sha256 = core::Sha256Hex(bytes);
  auto context = Root();
  v1::Artifact artifact;
  auto writer = stub.UploadArtifact(context.get(), &artifact);
  v1::UploadArtifactRequest message;
  message.mutable_header()->set_sha256(sha256);
  message.mutable_header()->set_size_bytes(static_cast<int64_t>(bytes.size()));
  message.mutable_header()->set_media_type("application/octet-stream");
  REQUIRE(writer->Write(message));
  message.Clear();
  message.set_chunk(bytes);
  writer->Write(message);
  writer->WritesDone();
  grpc::Status uploaded = writer->Finish();
  INFO(uploaded.error_message());
  REQUIRE(uploaded.ok());
  return artifact;
}

// Uploads the module at `path` and returns a request registering it as the next version of
// kModel, its signature left to the caller.
inline v1::RegisterVersionRequest ModuleVersionRequest(v1::ModelRegistry::Stub& stub,
                                                       const std::string& path) {
  v1::RegisterVersionRequest request;
  v1::ModelVersion* version = request.mutable_version();
  version->set_model(kModel);
  v1::VersionArtifact* module = version->add_artifacts();
  module->set_name("model.pt");
  module->set_kind(v1::ARTIFACT_KIND_TORCHSCRIPT_MODULE);
  *module->mutable_artifact() = UploadFile(stub, path);
  return request;
}

// Registers `request`'s version and returns its number.
inline int64_t Register(v1::ModelRegistry::Stub& stub, const v1::RegisterVersionRequest& request) {
  v1::ModelVersion registered;
  const grpc::Status status = stub.RegisterVersion(Root().get(), request, &registered);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return registered.version();
}

// Adds a binary classifier's output: "probability", FP32 [-1, 1].
inline void AddProbabilityOutput(v1::ModelSignature& signature) {
  v1::TensorSpec* output = signature.add_outputs();
  output->set_name("probability");
  output->set_datatype("FP32");
  output->add_shape(-1);
  output->add_shape(1);
}

// Uploads `path` and registers it as the next version of kModel: one FP32 input "x" [-1, 1],
// one FP32 output "y" [-1, 1]. Returns the version number.
inline int64_t RegisterModule(v1::ModelRegistry::Stub& stub, const std::string& path) {
  v1::RegisterVersionRequest request = ModuleVersionRequest(stub, path);
  v1::ModelVersion* version = request.mutable_version();
  for (auto* spec :
       {version->mutable_signature()->add_inputs(), version->mutable_signature()->add_outputs()}) {
    spec->set_datatype("FP32");
    spec->add_shape(-1);
    spec->add_shape(1);
  }
  version->mutable_signature()->mutable_inputs(0)->set_name("x");
  version->mutable_signature()->mutable_outputs(0)->set_name("y");
  return Register(stub, request);
}

inline void SetProduction(v1::ModelRegistry::Stub& stub, int64_t version) {
  v1::SetAliasRequest request;
  request.set_model(kModel);
  request.set_alias("production");
  request.set_version(version);
  v1::Alias alias;
  grpc::Status status = stub.SetAlias(Root().get(), request, &alias);
  INFO(status.error_message());
  REQUIRE(status.ok());
}

// `rows` rows of `input` for kModel, asked of `version` ("" = the traffic policy).
inline ::inference::ModelInferRequest InferRequest(int rows, const std::string& version = "",
                                                   const std::string& input_name = "x") {
  ::inference::ModelInferRequest request;
  request.set_model_name(kModel);
  request.set_model_version(version);
  auto* input = request.add_inputs();
  input->set_name(input_name);
  input->set_datatype("FP32");
  input->add_shape(rows);
  input->add_shape(1);
  for (int i = 0; i < rows; ++i) input->mutable_contents()->add_fp32_contents(1.0f * i);
  return request;
}

// One run of fabrique-inference on `data_dir`, following the registry at `registry_target`.
class InferenceServer {
 public:
  InferenceServer(const std::string& data_dir, const std::string& registry_target,
                  const std::string& log_path)
      : log_path_(log_path) {
    std::vector<std::string> argv = {absl::StrCat(BinDir(), "/fabrique-inference"),
                                     "--listen_host=127.0.0.1",
                                     "--port=0",
                                     "--metrics_port=0",
                                     absl::StrCat("--data_dir=", data_dir),
                                     absl::StrCat("--registry_target=", registry_target),
                                     "--monitor_target=",
                                     absl::StrCat("--models=", kModel),
                                     "--device=cpu",
                                     "--intra_op_threads=1",
                                     "--max_batch_size=8",
                                     "--max_queue_delay_us=500"};
    for (std::string& flag : SecureServerFlags(LocalIdentity(), "inference")) {
      argv.push_back(std::move(flag));
    }
    auto spawned = cli::ChildProcess::Spawn(argv, log_path);
    REQUIRE(spawned.ok());
    process_ = *std::move(spawned);
    const bool started = PollUntil(
        [&] {
          return cli::ReadServerStartedPorts(log_path, 0, &grpc_port_, &metrics_port_) ||
                 process_->Poll().has_value();
        },
        absl::Seconds(30));
    INFO(cli::TailFile(log_path, 20));
    REQUIRE(started);
    REQUIRE_FALSE(process_->Poll().has_value());
    channel_ = SecureChannel(LocalIdentity(), absl::StrCat("127.0.0.1:", grpc_port_));
    oip_ = ::inference::GRPCInferenceService::NewStub(channel_);
    served_ = v1::EntityInference::NewStub(channel_);
  }
  ~InferenceServer() {
    if (process_->Poll().has_value()) return;
    process_->Signal(SIGKILL);
    process_->Wait(absl::Seconds(20));
  }

  // Waits until grpc.health.v1 says SERVING for the Open Inference Protocol.
  void AwaitReady() {
    const absl::Status serving = client::WaitUntilServing(
        channel_, ::inference::GRPCInferenceService::service_full_name(), kPatience);
    INFO(serving.message() << "\n" << cli::TailFile(log_path_, 30));
    REQUIRE(serving.ok());
  }
  // SIGTERM; the exit code.
  std::optional<int> Terminate() {
    process_->Signal(SIGTERM);
    return process_->Wait(absl::Seconds(60));
  }

  ::inference::GRPCInferenceService::Stub& oip() { return *oip_; }
  v1::EntityInference::Stub& served() { return *served_; }
  int metrics_port() const { return metrics_port_; }
  const std::string& log_path() const { return log_path_; }

  grpc::Status Infer(const ::inference::ModelInferRequest& request,
                     ::inference::ModelInferResponse* response) {
    return oip_->ModelInfer(Root().get(), request, response);
  }

 private:
  std::string log_path_;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
  std::unique_ptr<cli::ChildProcess> process_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<::inference::GRPCInferenceService::Stub> oip_;
  std::unique_ptr<v1::EntityInference::Stub> served_;
};

}  // namespace fabrique::testing::inference

#endif  // FABRIQUE_TESTS_INTEGRATION_INFERENCE_HARNESS_H_
