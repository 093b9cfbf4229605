#include "tools/bench/inference_bench_stack.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "fabrique/v1/features.grpc.pb.h"
#include "libs/auth/local_authority.h"
#include "libs/core/ids.h"
#include "tools/cli/artifact_transfer.h"

namespace fabrique::bench {
namespace {

void CheckGrpc(const grpc::Status& status, const std::string& what) {
  if (status.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what.c_str(), status.error_message().c_str());
  std::exit(1);
}

// A token of the authority's admin ("bench", as Security::Local makes it) for the CLI's client.
std::string AdminToken(const std::string& authority_dir) {
  auth::LocalAuthorityOptions options;
  options.dir = authority_dir;
  auto authority = auth::LocalAuthority::Open(options);
  CheckOk(authority.status(), "opening the local authority");
  absl::StatusOr<std::string> token = (*authority)->MintToken("bench", {}, absl::Hours(24));
  CheckOk(token.status(), "minting a token");
  return *token;
}

}  // namespace

std::string AuthorityDir(const std::string& dir) { return dir + "/auth"; }

std::unique_ptr<InferenceStack> InferenceStack::StartStores(const std::string& dir, bool insecure) {
  std::error_code error;
  std::filesystem::remove_all(dir, error);
  std::filesystem::create_directories(dir);
  Security security = Security::Insecure();
  if (!insecure) {
    absl::StatusOr<Security> local = Security::Local(AuthorityDir(dir));
    CheckOk(local.status(), "making a local authority");
    security = *local;
  }
  std::unique_ptr<InferenceStack> stack(new InferenceStack(dir, security));
  auto registry = SpawnedService::Start("fabrique-registry", dir + "/registry", security);
  CheckOk(registry.status(), "starting fabrique-registry");
  stack->registry_ = *std::move(registry);
  auto features = SpawnedService::Start("fabrique-features", dir + "/features", security);
  CheckOk(features.status(), "starting fabrique-features");
  stack->features_ = *std::move(features);
  cli::RegistryFlags flags;
  flags.target = stack->registry_->target();
  flags.insecure = insecure;
  if (!insecure) {
    flags.token = AdminToken(AuthorityDir(dir));
    flags.ca = AuthorityDir(dir) + "/ca.crt";
  }
  absl::StatusOr<cli::RegistryClient> client = cli::RegistryClient::Connect(flags);
  CheckOk(client.status(), "connecting to the registry");
  stack->registry_client_ = std::make_unique<cli::RegistryClient>(*std::move(client));
  return stack;
}

int64_t InferenceStack::Register(const std::string& model, v1::Task task, const std::string& path,
                                 const v1::ModelSignature& signature) {
  const cli::RegistryClient& client = *registry_client_;
  v1::GetModelRequest get;
  get.set_name(model);
  absl::StatusOr<v1::Model> found = client.Call(&cli::RegistryStub::GetModel, get, "GetModel");
  if (absl::IsNotFound(found.status())) {
    v1::CreateModelRequest create;
    create.mutable_model()->set_name(model);
    create.mutable_model()->set_owner_squad("bench");
    create.mutable_model()->set_task(task);
    CheckOk(client.Call(&cli::RegistryStub::CreateModel, create, "CreateModel").status(),
            "creating a model");
  } else {
    CheckOk(found.status(), "reading a model");
  }
  cli::TransferOptions transfer;
  absl::StatusOr<cli::FileDigest> digest = cli::HashFile(path, transfer);
  CheckOk(digest.status(), "hashing a module");
  absl::StatusOr<cli::UploadResult> uploaded =
      cli::UploadFile(client, path, *digest, "application/x-torchscript", transfer);
  CheckOk(uploaded.status(), "uploading a module");
  v1::RegisterVersionRequest request;
  v1::ModelVersion* version = request.mutable_version();
  version->set_model(model);
  *version->mutable_signature() = signature;
  v1::VersionArtifact* artifact = version->add_artifacts();
  artifact->set_kind(v1::ARTIFACT_KIND_TORCHSCRIPT_MODULE);
  artifact->set_name("model.pt");
  *artifact->mutable_artifact() = uploaded->artifact;
  request.set_request_id(core::IdGenerator::Default().Next());
  absl::StatusOr<v1::ModelVersion> registered =
      client.CallIdempotent(&cli::RegistryStub::RegisterVersion, request, "RegisterVersion");
  CheckOk(registered.status(), "registering a version");
  return registered->version();
}

void InferenceStack::SetProduction(const std::string& model, int64_t version) {
  v1::SetAliasRequest request;
  request.set_model(model);
  request.set_alias("production");
  request.set_version(version);
  CheckOk(registry_client_->Call(&cli::RegistryStub::SetAlias, request, "SetAlias").status(),
          "moving the production alias");
}

void InferenceStack::IngestGroup(const std::string& entity, const std::string& group, int width,
                                 const std::vector<std::string>& keys,
                                 const std::vector<float>& values) {
  auto stub = v1::FeatureStore::NewStub(security_.Channel(features_->target()));
  v1::ApplyEntityRequest apply_entity;
  apply_entity.mutable_entity()->set_name(entity);
  apply_entity.mutable_entity()->set_join_key("id");
  apply_entity.mutable_entity()->set_owner_squad("bench");
  v1::Entity stored;
  CheckGrpc(stub->ApplyEntity(security_.Context(absl::Seconds(10)).get(), apply_entity, &stored),
            "ApplyEntity");
  v1::ApplyFeatureGroupRequest apply;
  apply.mutable_spec()->set_name(group);
  apply.mutable_spec()->set_entity(entity);
  apply.mutable_spec()->set_owner_squad("bench");
  for (int f = 0; f < width; ++f) {
    v1::FeatureSpec* feature = apply.mutable_spec()->add_features();
    feature->set_name(absl::StrCat("f", f));
    feature->set_type(v1::FEATURE_TYPE_FLOAT);
  }
  v1::ApplyFeatureGroupResponse applied;
  CheckGrpc(stub->ApplyFeatureGroup(security_.Context(absl::Seconds(10)).get(), apply, &applied),
            "ApplyFeatureGroup");
  auto context = security_.Context(absl::Minutes(10));
  v1::IngestResponse response;
  auto writer = stub->Ingest(context.get(), &response);
  const int64_t now = absl::ToUnixMicros(absl::Now());
  constexpr size_t kBatch = 1000;
  for (size_t first = 0; first < keys.size(); first += kBatch) {
    const size_t end = std::min(keys.size(), first + kBatch);
    v1::IngestRequest request;
    request.set_group(group);
    request.set_all_or_nothing(true);
    request.set_batch_id(absl::StrCat(group, "-", first));
    v1::RowBatch* rows = request.mutable_rows();
    for (size_t e = first; e < end; ++e) {
      rows->add_entity_keys(keys[e]);
      rows->add_event_time_unix_micros(now);
    }
    for (int f = 0; f < width; ++f) {
      v1::FeatureColumn* column = rows->add_columns();
      column->mutable_feature()->set_feature(absl::StrCat("f", f));
      auto* column_values = column->mutable_values()->mutable_float_values()->mutable_values();
      for (size_t e = first; e < end; ++e) column_values->Add(values[e * width + f]);
    }
    if (!writer->Write(request)) break;
  }
  writer->WritesDone();
  CheckGrpc(writer->Finish(), "Ingest");
}

void InferenceStack::StartInference(const std::vector<std::string>& models,
                                    const std::vector<std::string>& flags) {
  std::vector<std::string> all = {absl::StrCat("--registry_target=", registry_->target()),
                                  absl::StrCat("--features_target=", features_->target()),
                                  "--monitor_target=", "--device=cpu",
                                  absl::StrCat("--models=", absl::StrJoin(models, ","))};
  all.insert(all.end(), flags.begin(), flags.end());
  auto inference = SpawnedService::Start("fabrique-inference", dir_ + "/inference", security_, all,
                                         absl::Minutes(3));
  CheckOk(inference.status(), "starting fabrique-inference");
  inference_ = *std::move(inference);
}

double InferenceStack::InferenceRssMib() const {
  std::ifstream status(absl::StrCat("/proc/", inference_->pid(), "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "VmRSS:")) return std::stod(line.substr(6)) / 1024;
  }
  return -1;
}

double InferenceStack::InferenceCpuSeconds() const {
  // /proc/PID/stat: the command name in parentheses (it may hold spaces), then fields 3.. of
  // which utime and stime are the 14th and 15th.
  std::ifstream stat(absl::StrCat("/proc/", inference_->pid(), "/stat"));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  const std::vector<std::string> fields = absl::StrSplit(text.substr(close + 2), ' ');
  double user = 0, system = 0;
  if (fields.size() < 13 || !absl::SimpleAtod(fields[11], &user) ||
      !absl::SimpleAtod(fields[12], &system)) {
    return 0;
  }
  return (user + system) / sysconf(_SC_CLK_TCK);
}

double OwnCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::string InferenceStack::ScrapeInferenceMetrics() const {
  absl::StatusOr<std::string> text =
      RunAndCapture({"curl", "-s", "--max-time", "5",
                     absl::StrCat("http://127.0.0.1:", inference_->metrics_port(), "/metrics")});
  CheckOk(text.status(), "scraping the inference server's metrics");
  return *std::move(text);
}

double SumSeries(absl::string_view metrics, absl::string_view name, absl::string_view label) {
  const std::string prefix = absl::StrCat(name, "{");
  double sum = 0;
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (!absl::StartsWith(line, prefix) || !absl::StrContains(line, label)) continue;
    double value = 0;
    if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &value)) sum += value;
  }
  return sum;
}

std::unique_ptr<PythonServer> PythonServer::Start(const Options& options, const Security& security,
                                                  const std::string& authority_dir) {
  std::filesystem::create_directories(options.dir);
  const std::string log = options.dir + "/server.log";
  std::vector<std::string> argv = {
      "/usr/bin/python3", options.source_dir + "/tools/bench/oip_python_server.py",
      "--protos",         options.source_dir + "/protos",
      "--stubs",          options.dir + "/stubs",
      "--model",          options.model,
      "--module",         options.module,
      "--threads",        absl::StrCat(options.threads),
      "--workers",        absl::StrCat(options.workers)};
  if (!security.insecure()) {
    argv.insert(argv.end(), {"--cert", authority_dir + "/inference.crt", "--key",
                             authority_dir + "/inference.key"});
  }
  auto process = cli::ChildProcess::Spawn(argv, log);
  CheckOk(process.status(), "starting the Python server");
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline && !(*process)->Poll().has_value()) {
    std::ifstream in(log);
    std::string line;
    while (std::getline(in, line)) {
      if (absl::StartsWith(line, "serving on ")) {
        return std::unique_ptr<PythonServer>(
            new PythonServer(*std::move(process), line.substr(11)));
      }
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  std::fprintf(stderr, "the Python server did not start; its log ends:\n%s\n",
               cli::TailFile(log, 20).c_str());
  std::exit(1);
}

PythonServer::~PythonServer() {
  process_->Signal(SIGTERM);
  if (!process_->Wait(absl::Seconds(10)).has_value()) {
    process_->Signal(SIGKILL);
    process_->Wait(absl::Seconds(10));
  }
}

}  // namespace fabrique::bench
