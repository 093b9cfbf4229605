#ifndef FABRIQUE_TOOLS_BENCH_INFERENCE_BENCH_STACK_H_
#define FABRIQUE_TOOLS_BENCH_INFERENCE_BENCH_STACK_H_

// The services the inference benchmark measures, as a deployment runs them: fabrique-registry,
// fabrique-features and fabrique-inference on loopback, each with its own data dir, served over
// TLS with tokens from one local authority (or all --insecure). Models reach the inference server
// the way `fabrique models register --torchscript` brings them: CreateModel, UploadArtifact,
// RegisterVersion with a signature, SetAlias production, through the CLI's registry client.
// Beside them, the Python baseline (tools/bench/oip_python_server.py) as a child process.
// Every step exits with a message on failure: a benchmark has no use for half a stack.

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "fabrique/v1/common.pb.h"
#include "tools/bench/bench_support.h"
#include "tools/cli/child_process.h"
#include "tools/cli/registry_client.h"

namespace fabrique::bench {

class InferenceStack {
 public:
  // Starts fabrique-registry and fabrique-features under `dir` (created fresh), served as
  // `insecure` says.
  static std::unique_ptr<InferenceStack> StartStores(const std::string& dir, bool insecure);

  const Security& security() const { return security_; }
  SpawnedService& registry() const { return *registry_; }
  SpawnedService& features() const { return *features_; }
  SpawnedService& inference() const { return *inference_; }

  // Registers the module at `path` as the next version of `model` (created, owned by squad
  // "bench", when missing) with `signature`; returns the version number.
  int64_t Register(const std::string& model, v1::Task task, const std::string& path,
                   const v1::ModelSignature& signature);
  // Points `model`'s production alias at `version`.
  void SetProduction(const std::string& model, int64_t version);

  // Defines entity `entity` (join key "id") and group `group` of `width` FLOAT features
  // f0..f{width-1}, then ingests `values` (row-major, `width` per entity) for entities
  // keys[0..], stamped now.
  void IngestGroup(const std::string& entity, const std::string& group, int width,
                   const std::vector<std::string>& keys, const std::vector<float>& values);

  // Starts fabrique-inference serving `models` with `flags` besides the stack's targets, and
  // waits until it says SERVING (every primary version READY).
  void StartInference(const std::vector<std::string>& models,
                      const std::vector<std::string>& flags);

  // CPU time (user + system) the inference server has used so far, in seconds; 0 if unreadable.
  double InferenceCpuSeconds() const;
  // Resident memory of the inference server now (VmRSS), in MiB; -1 if unreadable.
  double InferenceRssMib() const;

  // The inference server's Prometheus metrics now, as text.
  std::string ScrapeInferenceMetrics() const;

 private:
  InferenceStack(std::string dir, Security security) : dir_(std::move(dir)), security_(security) {}

  std::string dir_;
  Security security_;
  std::unique_ptr<SpawnedService> registry_;
  std::unique_ptr<SpawnedService> features_;
  std::unique_ptr<SpawnedService> inference_;
  std::unique_ptr<cli::RegistryClient> registry_client_;
};

// The Python baseline: tools/bench/oip_python_server.py under /usr/bin/python3, a grpcio server
// of the Open Inference Protocol scoring `model` with torch.jit.load(`module`). Over TLS with the
// stack's authority's inference certificate unless `security` is insecure (it checks no token).
// Stopped (SIGTERM) when destroyed.
class PythonServer {
 public:
  struct Options {
    std::string source_dir;  // The repository, where the script is.
    std::string dir;         // Scratch: the generated stubs, the log.
    std::string model;
    std::string module;
    int threads = 1;   // torch.set_num_threads.
    int workers = 64;  // The gRPC server's thread pool.
  };
  static std::unique_ptr<PythonServer> Start(const Options& options, const Security& security,
                                             const std::string& authority_dir);
  ~PythonServer();

  const std::string& target() const { return target_; }

 private:
  PythonServer(std::unique_ptr<cli::ChildProcess> process, std::string target)
      : process_(std::move(process)), target_(std::move(target)) {}
  std::unique_ptr<cli::ChildProcess> process_;
  std::string target_;
};

// CPU time (user + system) this process has used so far, in seconds.
double OwnCpuSeconds();

// The authority directory InferenceStack uses under `dir`.
std::string AuthorityDir(const std::string& dir);

// The sum over every series of `metrics` (Prometheus text) named `name` whose labels include
// `label` (e.g. model="fmnist").
double SumSeries(absl::string_view metrics, absl::string_view name, absl::string_view label);

}  // namespace fabrique::bench

#endif  // FABRIQUE_TOOLS_BENCH_INFERENCE_BENCH_STACK_H_
