// Black-box tests of the six service binaries: each is started as a real process on loopback
// port 0 with a temp data dir, serving TLS with a local authority's certificate, then probed as
// Kubernetes, grpcurl and Prometheus would probe it.

#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "catch2/catch.hpp"
#include "fabrique/v1/features.grpc.pb.h"
#include "fabrique/v1/inference.grpc.pb.h"
#include "fabrique/v1/monitor.grpc.pb.h"
#include "fabrique/v1/registry.grpc.pb.h"
#include "fabrique/v1/tower.grpc.pb.h"
#include "fabrique/v1/trainer.grpc.pb.h"
#include "google/protobuf/descriptor.h"
#include "inference/grpc_predict_v2.grpc.pb.h"
#include "libs/client/channel.h"
#include "libs/client/health_client.h"
#include "libs/client/service_catalog.h"
#include "tests/integration/secure_service.h"
#include "tests/util/test_util.h"
#include "tools/cli/child_process.h"

namespace fabrique {
namespace {

using testing::TempDir;

// Registers every generated service's descriptors in the generated pool that CheckEveryCall
// walks: constructing the services makes the linker keep their generated code.
void LinkGeneratedServices() {
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(std::make_unique<v1::FeatureStore::Service>());
  services.push_back(std::make_unique<v1::ModelRegistry::Service>());
  services.push_back(std::make_unique<v1::Trainer::Service>());
  services.push_back(std::make_unique<v1::EntityInference::Service>());
  services.push_back(std::make_unique<::inference::GRPCInferenceService::Service>());
  services.push_back(std::make_unique<v1::Monitor::Service>());
  services.push_back(std::make_unique<v1::Tower::Service>());
}

// Calls that already have a real implementation; every other call must say it is not built.
const std::set<std::string> kImplemented = {
    "/fabrique.v1.ModelRegistry/CollectGarbage",
    "/fabrique.v1.ModelRegistry/UpdateModel",
    "/fabrique.v1.ModelRegistry/DeleteVersion",
    "/fabrique.v1.ModelRegistry/ListVersions",
    "/fabrique.v1.ModelRegistry/ListModels",
    "/fabrique.v1.ModelRegistry/ListAliases",
    "/fabrique.v1.ModelRegistry/DeleteAlias",
    "/fabrique.v1.ModelRegistry/SetPromotionPolicy",
    "/fabrique.v1.ModelRegistry/GetPromotionPolicy",
    "/fabrique.v1.ModelRegistry/RequestPromotion",
    "/fabrique.v1.ModelRegistry/GetPromotionRequest",
    "/fabrique.v1.ModelRegistry/ApprovePromotion",
    "/fabrique.v1.ModelRegistry/RejectPromotion",
    "/fabrique.v1.ModelRegistry/CreateModel",
    "/fabrique.v1.ModelRegistry/GetModel",
    "/fabrique.v1.ModelRegistry/RegisterVersion",
    "/fabrique.v1.ModelRegistry/GetVersion",
    "/fabrique.v1.ModelRegistry/ArchiveVersion",
    "/fabrique.v1.ModelRegistry/SetAlias",
    "/fabrique.v1.ModelRegistry/GetAlias",
    "/fabrique.v1.ModelRegistry/UploadArtifact",
    "/fabrique.v1.ModelRegistry/DownloadArtifact",
    "/fabrique.v1.ModelRegistry/ListAuditEntries",
    "/fabrique.v1.ModelRegistry/VerifyAuditChain",
    "/fabrique.v1.ModelRegistry/Watch",
    "/fabrique.v1.ModelRegistry/ListPromotionPolicies",
    "/fabrique.v1.ModelRegistry/ListPromotionRequests",
    "/fabrique.v1.ModelRegistry/SetTrafficPolicy",
    "/fabrique.v1.ModelRegistry/AppendEvaluation",
    "/fabrique.v1.ModelRegistry/SetStandard",
    "/fabrique.v1.ModelRegistry/GetStandard",
    "/fabrique.v1.ModelRegistry/ListStandards",
    "/fabrique.v1.ModelRegistry/DeleteStandard",
    "/fabrique.v1.ModelRegistry/GetTrafficPolicy",
    // The trainer.
    "/fabrique.v1.Trainer/SubmitRun",
    "/fabrique.v1.Trainer/GetRun",
    "/fabrique.v1.Trainer/ListRuns",
    "/fabrique.v1.Trainer/CancelRun",
    "/fabrique.v1.Trainer/WatchRun",
    // The control tower.
    "/fabrique.v1.Tower/OnboardEntity",
    "/fabrique.v1.Tower/GetEntity",
    "/fabrique.v1.Tower/ListEntities",
    "/fabrique.v1.Tower/CreateSquad",
    "/fabrique.v1.Tower/GetSquad",
    "/fabrique.v1.Tower/UpdateSquad",
    "/fabrique.v1.Tower/ListSquads",
    "/fabrique.v1.Tower/AddSquadMember",
    "/fabrique.v1.Tower/UpdateSquadMember",
    "/fabrique.v1.Tower/RemoveSquadMember",
    "/fabrique.v1.Tower/WatchRoleBindings",
    "/fabrique.v1.Tower/CreateUseCase",
    "/fabrique.v1.Tower/UpdateUseCase",
    "/fabrique.v1.Tower/GetUseCase",
    "/fabrique.v1.Tower/ListUseCases",
    "/fabrique.v1.Tower/GetPortfolio",
    "/fabrique.v1.Tower/GetCapacityGaps",
    "/fabrique.v1.Tower/PutTemplate",
    "/fabrique.v1.Tower/GetTemplate",
    "/fabrique.v1.Tower/ListTemplates",
    "/fabrique.v1.Tower/SetQuota",
    "/fabrique.v1.Tower/GetQuota",
    "/fabrique.v1.Tower/ListQuotas",
    "/fabrique.v1.Tower/SetCapacity",
    "/fabrique.v1.Tower/GetCapacity",
    "/fabrique.v1.Tower/SubmitJob",
    "/fabrique.v1.Tower/GetJob",
    "/fabrique.v1.Tower/ListJobs",
    "/fabrique.v1.Tower/CancelJob",
    "/fabrique.v1.Tower/WatchJobs",
    "/fabrique.v1.Tower/RequestApproval",
    "/fabrique.v1.Tower/GetApproval",
    "/fabrique.v1.Tower/ListApprovals",
    "/fabrique.v1.Tower/DecideApproval",
    "/fabrique.v1.Tower/WithdrawApproval",
    "/fabrique.v1.Tower/SetApprovalRule",
    "/fabrique.v1.Tower/ListApprovalRules",
    "/fabrique.v1.Tower/RecordUsage",
    "/fabrique.v1.Tower/SetRateCard",
    "/fabrique.v1.Tower/GetRateCard",
    "/fabrique.v1.Tower/SetBudget",
    "/fabrique.v1.Tower/GetBudgetReport",
    "/fabrique.v1.Monitor/LogPredictions",
    "/fabrique.v1.Monitor/LogOutcomes",
    "/fabrique.v1.Monitor/SetMonitoringPolicy",
    "/fabrique.v1.Monitor/GetMonitoringPolicy",
    "/fabrique.v1.Monitor/ListMonitoringPolicies",
    "/fabrique.v1.Monitor/DeleteMonitoringPolicy",
    "/fabrique.v1.Monitor/ListAlerts",
    "/fabrique.v1.Monitor/GetAlert",
    "/fabrique.v1.Monitor/AcknowledgeAlert",
    "/fabrique.v1.Monitor/PutReferenceProfile",
    "/fabrique.v1.Monitor/GetReferenceProfile",
    "/fabrique.v1.Monitor/GetDriftReport",
    "/fabrique.v1.Monitor/ListDriftReports",
    "/fabrique.v1.Monitor/GetPerformanceReport",
    "/fabrique.v1.Monitor/ListPerformanceReports",
    "/fabrique.v1.Monitor/CompareCanary",
    "/inference.GRPCInferenceService/ServerLive",
    "/inference.GRPCInferenceService/ServerReady",
    "/inference.GRPCInferenceService/ServerMetadata",
    "/inference.GRPCInferenceService/ModelReady",
    "/inference.GRPCInferenceService/ModelMetadata",
    "/inference.GRPCInferenceService/ModelInfer",
    "/fabrique.v1.EntityInference/Predict",
    "/fabrique.v1.EntityInference/ListServedModels",
    "/fabrique.v1.EntityInference/GetServedModel",
    "/fabrique.v1.EntityInference/ValidateCapacity",
    "/fabrique.v1.FeatureStore/ApplyEntity",
    "/fabrique.v1.FeatureStore/GetEntity",
    "/fabrique.v1.FeatureStore/ListEntities",
    "/fabrique.v1.FeatureStore/ApplyFeatureGroup",
    "/fabrique.v1.FeatureStore/ApplyFeatureGroupWithProgress",
    "/fabrique.v1.FeatureStore/GetFeatureGroup",
    "/fabrique.v1.FeatureStore/ListFeatureGroups",
    "/fabrique.v1.FeatureStore/ListFeatures",
    "/fabrique.v1.FeatureStore/Ingest",
    "/fabrique.v1.FeatureStore/LookupOnline",
    "/fabrique.v1.FeatureStore/LookupOnlineStream",
    "/fabrique.v1.FeatureStore/ReadHistory",
    "/fabrique.v1.FeatureStore/BuildTrainingSet",
    "/fabrique.v1.FeatureStore/GetDataset",
    "/fabrique.v1.FeatureStore/ListDatasets",
    "/fabrique.v1.FeatureStore/RecordDatasetUsage",
    "/fabrique.v1.FeatureStore/GetFeatureGroupLineage",
    "/fabrique.v1.FeatureStore/ClassifyFeatures",
    "/fabrique.v1.FeatureStore/GetPersonalDataLineage",
    "/fabrique.v1.FeatureStore/ListPersonalDataReads",
    "/fabrique.v1.FeatureStore/VerifyPersonalDataReads",
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// One service binary running on free loopback ports.
struct RunningService {
  const client::ServiceInfo& info;
  std::string log_path;
  std::unique_ptr<cli::ChildProcess> process;
  int grpc_port = 0;
  int metrics_port = 0;

  RunningService(const client::ServiceInfo& service, const TempDir& tmp,
                 std::vector<std::string> extra = {})
      : info(service), log_path(absl::StrCat(tmp.path(), "/", service.name, ".log")) {
    std::vector<std::string> argv = {absl::StrCat(testing::BinDir(), "/", service.binary),
                                     "--listen_host=127.0.0.1", "--port=0", "--metrics_port=0"};
    for (std::string& flag :
         testing::SecureServerFlags(testing::LocalIdentity(), std::string(service.name))) {
      argv.push_back(std::move(flag));
    }
    if (service.stateful) argv.push_back(absl::StrCat("--data_dir=", tmp.path(), "/data"));
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto spawned = cli::ChildProcess::Spawn(argv, log_path);
    REQUIRE(spawned.ok());
    process = *std::move(spawned);
  }

  bool WaitStarted() {
    return testing::PollUntil(
        [&] { return cli::ReadServerStartedPorts(log_path, 0, &grpc_port, &metrics_port); },
        absl::Seconds(30));
  }

  std::shared_ptr<grpc::Channel> Channel() const {
    return testing::SecureChannel(testing::LocalIdentity(), absl::StrCat("127.0.0.1:", grpc_port));
  }
};

void CheckHealth(RunningService& s) {
  auto channel = s.Channel();
  REQUIRE(client::WaitUntilServing(channel, "", absl::Seconds(10)).ok());
  for (absl::string_view service : s.info.grpc_services) {
    INFO(service);
    CHECK(*client::CheckHealth(channel, std::string(service), absl::Seconds(5)) ==
          client::Health::kServing);
  }
}

void CheckReflection(RunningService& s) {
  auto listed = testing::ListServicesByReflection(s.Channel());
  REQUIRE(listed.ok());
  // Every binary checks its callers, so every one also answers whoami and can-i.
  std::set<std::string> expected = {
      "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection", "fabrique.v1.Access"};
  for (absl::string_view service : s.info.grpc_services) expected.emplace(service);
  std::set<std::string> served(listed->begin(), listed->end());
  CHECK(served == expected);
}

// Every published call either works or says it is not built yet: none fakes a success.
void CheckEveryCall(RunningService& s) {
  LinkGeneratedServices();
  int calls = 0;
  for (absl::string_view service_name : s.info.grpc_services) {
    const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
        std::string(service_name));
    REQUIRE(service != nullptr);
    REQUIRE(service->method_count() > 0);
    for (int i = 0; i < service->method_count(); ++i) {
      const std::string method = absl::StrCat("/", service_name, "/", service->method(i)->name());
      INFO(method);
      std::string response;
      const grpc::Status status = testing::GenericCall(s.Channel(), method, "", &response);
      if (kImplemented.count(method) > 0) {
        // An empty request may be wrong for a built call; it must still get a real answer.
        CHECK(status.error_code() != grpc::StatusCode::UNIMPLEMENTED);
      } else {
        CHECK(status.error_code() == grpc::StatusCode::UNIMPLEMENTED);
        CHECK(absl::StrContains(status.error_message(), method));
        CHECK(absl::StrContains(status.error_message(), "is not built yet: it is part of "));
      }
      ++calls;
    }
  }
  CHECK(calls > 0);
}

void CheckMetrics(RunningService& s) {
  std::string metrics;
  // Health checks above are RPCs too; wait until the interceptor has counted one.
  REQUIRE(testing::PollUntil(
      [&] {
        auto body = testing::HttpGet("127.0.0.1", s.metrics_port, "/metrics");
        if (!body.ok()) return false;
        metrics = *body;
        return absl::StrContains(metrics, "method=\"Check\"");
      },
      absl::Seconds(10)));
  const std::string prefix = absl::StrCat("fabrique_", s.info.name, "_");
  CHECK(absl::StrContains(metrics, prefix + "build_info{version="));
  CHECK(absl::StrContains(metrics, prefix + "rpc_requests_total{"));
  CHECK(absl::StrContains(metrics, prefix + "rpc_duration_seconds_bucket{"));
  CHECK(absl::StrContains(metrics, prefix + "rpc_in_flight{"));
  for (const char* process : {"process_resident_memory_bytes ", "process_virtual_memory_bytes ",
                              "process_cpu_seconds_total ", "process_open_fds ", "process_max_fds ",
                              "process_start_time_seconds ", "process_threads "}) {
    CHECK(absl::StrContains(metrics, absl::StrCat("\n", process)));
  }
  if (s.info.stateful) {
    CHECK(absl::StrContains(metrics, prefix + "block_cache_hit_ratio "));
    CHECK(absl::StrContains(metrics, prefix + "pending_compaction_bytes{family=\"meta\"}"));
    CHECK(absl::StrContains(metrics, prefix + "live_data_bytes{family=\"meta\"}"));
    CHECK(absl::StrContains(metrics, prefix + "block_cache_hits_total "));
    CHECK(absl::StrContains(metrics, prefix + "block_cache_misses_total "));
  }
  auto promtool = testing::PromtoolCheckMetrics(metrics);
  INFO(promtool.status().message());
  CHECK(promtool.ok());
}

void CheckCleanStop(RunningService& s) {
  s.process->Signal(SIGTERM);
  const std::optional<int> code = s.process->Wait(absl::Seconds(20));
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  const std::string log = ReadFile(s.log_path);
  CHECK(absl::StrContains(log, "\"event\":\"shutdown_requested\""));
  CHECK(absl::StrContains(log, "\"reason\":\"SIGTERM\""));
  CHECK(absl::StrContains(log, "\"event\":\"server_stopped\""));
}

TEST_CASE("every service binary serves health, reflection, metrics and stops cleanly") {
  for (const client::ServiceInfo& info : client::Services()) {
    INFO("service " << info.name);
    TempDir tmp;
    // The inference server is ready once it has applied the registry's state: it follows one.
    std::unique_ptr<RunningService> registry;
    std::vector<std::string> extra;
    if (info.name == "inference") {
      registry = std::make_unique<RunningService>(*client::FindService("registry"), tmp);
      REQUIRE(registry->WaitStarted());
      extra = {absl::StrCat("--registry_target=127.0.0.1:", registry->grpc_port),
               absl::StrCat("--data_dir=", tmp.path(), "/inference"), "--monitor_target="};
    }
    RunningService s(info, tmp, extra);
    INFO(ReadFile(s.log_path));
    REQUIRE(s.WaitStarted());
    CHECK(s.grpc_port > 0);
    CHECK(s.metrics_port > 0);
    CheckHealth(s);
    CheckReflection(s);
    CheckEveryCall(s);
    CheckMetrics(s);
    CheckCleanStop(s);
  }
}

TEST_CASE("every log line a service writes is one JSON object") {
  const client::ServiceInfo& info = *client::FindService("features");
  TempDir tmp;
  RunningService s(info, tmp);
  REQUIRE(s.WaitStarted());
  CheckCleanStop(s);
  const std::vector<std::string> lines =
      absl::StrSplit(ReadFile(s.log_path), '\n', absl::SkipEmpty());
  REQUIRE(lines.size() >= 3);
  for (const std::string& line : lines) {
    INFO(line);
    CHECK(absl::StartsWith(line, "{\"ts\":\""));
    CHECK(absl::EndsWith(line, "}"));
  }
}

TEST_CASE("--help documents every flag with its default, and exits 0") {
  for (const client::ServiceInfo& info : client::Services()) {
    INFO("service " << info.name);
    TempDir tmp;
    RunningService s(info, tmp, {"--help"});
    const std::optional<int> code = s.process->Wait(absl::Seconds(10));
    REQUIRE(code.has_value());
    CHECK(*code == 0);
    const std::string help = ReadFile(s.log_path);
    CHECK(absl::StrContains(help, absl::StrCat("Usage: ", info.binary)));
    CHECK(absl::StrContains(help, absl::StrCat("--port (int; default: ", info.default_port, ")")));
    CHECK(absl::StrContains(
        help, absl::StrCat("--metrics_port (int; default: ", info.default_metrics_port, ")")));
    // Stateful services keep their state there; the inference server, its model cache.
    CHECK(absl::StrContains(help, "--data_dir (string; default:") ==
          (info.stateful || info.name == "inference"));
    for (absl::string_view line : absl::StrSplit(help, '\n')) {
      if (absl::StartsWith(line, "  --") && line != "  --help") {
        INFO(line);
        CHECK(absl::StrContains(line, "default: "));
      }
    }
  }
}

TEST_CASE("a bad flag exits 2 with a message naming it") {
  TempDir tmp;
  RunningService s(*client::FindService("registry"), tmp, {"--prot=1"});
  const std::optional<int> code = s.process->Wait(absl::Seconds(10));
  REQUIRE(code.has_value());
  CHECK(*code == 2);
  CHECK(absl::StrContains(ReadFile(s.log_path), "unknown flag --prot"));
}

TEST_CASE("a port in use makes the service exit 1 saying which") {
  TempDir tmp;
  RunningService first(*client::FindService("trainer"), tmp);
  REQUIRE(first.WaitStarted());
  TempDir tmp2;
  RunningService second(*client::FindService("tower"), tmp2,
                        {absl::StrCat("--port=", first.grpc_port)});
  const std::optional<int> code = second.process->Wait(absl::Seconds(20));
  REQUIRE(code.has_value());
  CHECK(*code == 1);
  CHECK(absl::StrContains(ReadFile(second.log_path),
                          absl::StrCat("cannot serve gRPC on 127.0.0.1:", first.grpc_port)));
}

TEST_CASE("two services pointed at one data dir: the second refuses to start") {
  TempDir tmp;
  {
    RunningService features(*client::FindService("features"), tmp);
    REQUIRE(features.WaitStarted());
    CheckCleanStop(features);
  }
  RunningService registry(*client::FindService("registry"), tmp);
  const std::optional<int> code = registry.process->Wait(absl::Seconds(20));
  REQUIRE(code.has_value());
  CHECK(*code == 1);
  CHECK(absl::StrContains(ReadFile(registry.log_path), "holds the state of fabrique-features"));
}

TEST_CASE("a service raises its open-file limit, and each store holds a quarter of it open") {
  rlimit limit{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_max == RLIM_INFINITY || limit.rlim_max <= 256) {
    WARN("the hard open-file limit is " << limit.rlim_max << ": no room to lower the soft one");
    return;
  }
  TempDir tmp;
  // The service inherits a soft limit of 256, as a container runtime may start it at 1024.
  const rlimit lowered{256, limit.rlim_max};
  REQUIRE(setrlimit(RLIMIT_NOFILE, &lowered) == 0);
  RunningService s(*client::FindService("registry"), tmp);
  REQUIRE(setrlimit(RLIMIT_NOFILE, &limit) == 0);
  INFO(ReadFile(s.log_path));
  REQUIRE(s.WaitStarted());
  const absl::StatusOr<std::string> metrics =
      testing::HttpGet("127.0.0.1", s.metrics_port, "/metrics");
  REQUIRE(metrics.ok());
  double max_fds = -1;
  for (absl::string_view line : absl::StrSplit(*metrics, '\n')) {
    if (absl::ConsumePrefix(&line, "process_max_fds ")) REQUIRE(absl::SimpleAtod(line, &max_fds));
  }
  CHECK(max_fds == static_cast<double>(limit.rlim_max));
  // RocksDB records the options it opened the store with.
  std::string recorded;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(tmp.path() + "/data")) {
    if (absl::StartsWith(entry.path().filename().string(), "OPTIONS-")) {
      recorded = ReadFile(entry.path().string());
    }
  }
  REQUIRE_FALSE(recorded.empty());
  CHECK(absl::StrContains(recorded, absl::StrCat("max_open_files=", limit.rlim_max / 4, "\n")));
  CheckCleanStop(s);
}

}  // namespace
}  // namespace fabrique
