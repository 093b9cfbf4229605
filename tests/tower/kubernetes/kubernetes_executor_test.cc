// The Kubernetes executor against a fake API server over HTTPS: what it creates, how it follows
// a Job's status, stops, repeats a start, queues through Kueue, and reports refusals. Every
// object it sends is then checked against the Kubernetes OpenAPI schemas (tests/k8s).

#include "libs/tower/kubernetes/kubernetes_executor.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "libs/tower/kubernetes/api_errors.h"
#include "tests/tower/kubernetes/fake_api_server.h"
#include "tests/util/test_util.h"

namespace fabrique::tower {
namespace {

using fabrique::testing::PollUntil;
using fabrique::testing::TempDir;
using testing::FakeApiServer;

constexpr char kToken[] = "tower-token-1";
constexpr char kNamespace[] = "fabrique-risk";

class RecordingSink : public ExecutionSink {
 public:
  void OnUpdate(const ExecutionUpdate& update) override {
    absl::MutexLock lock(&mu_);
    updates_.push_back(update);
  }
  std::vector<ExecutionUpdate> updates() {
    absl::MutexLock lock(&mu_);
    return updates_;
  }
  // Waits for an update in `state`; returns it (state UNSPECIFIED when none came).
  ExecutionUpdate AwaitState(v1::JobState state) {
    ExecutionUpdate found;
    PollUntil(
        [&] {
          for (const ExecutionUpdate& update : updates()) {
            if (update.state == state) {
              found = update;
              return true;
            }
          }
          return false;
        },
        absl::Seconds(10));
    return found;
  }

 private:
  absl::Mutex mu_;
  std::vector<ExecutionUpdate> updates_;
};

v1::Job TrainingJob(const std::string& id) {
  v1::Job job;
  job.set_id(id);
  job.set_squad("risk");
  job.set_use_case_id("uc-fraud");
  job.set_reason("drift alert a-123 on fraud v7");
  job.mutable_spec()->mutable_training()->set_model_name("fraud");
  job.mutable_spec()->mutable_resources()->set_cpu_cores(2);
  job.mutable_spec()->mutable_resources()->set_memory_bytes(int64_t{4} << 30);
  job.mutable_spec()->mutable_resources()->set_gpus(1);
  job.mutable_spec()->mutable_max_runtime()->set_seconds(3600);
  return job;
}

// A fake server, a token file it accepts, and an executor pointed at both.
struct Cluster {
  explicit Cluster(const std::string& kueue_queue = "",
                   absl::Duration running_report_interval = absl::ZeroDuration()) {
    std::ofstream(dir.Sub("token")) << kToken << "\n";
    auto started = FakeApiServer::Start(dir.path(), kToken);
    REQUIRE(started.ok());
    server = *std::move(started);
    KubernetesExecutor::Options options;
    options.api.server = server->url();
    options.api.ca_file = server->ca_file();
    options.api.token_file = dir.Sub("token");
    options.manifest.image = "registry.example/fabrique:1.0";
    options.manifest.trainer_args = {"--features_target=fabrique-features.fabrique:7101",
                                     "--registry_target=fabrique-registry.fabrique:7102"};
    options.manifest.kueue_queue = kueue_queue;
    options.manifest.owner =
        OwnerReference{"v1", "Namespace", "fabrique", "6f1d6c1e-0000-4000-8000-000000000001"};
    options.poll_interval = absl::Milliseconds(20);
    options.running_report_interval = running_report_interval;
    auto made = KubernetesExecutor::Create(options);
    REQUIRE(made.ok());
    executor = *std::move(made);
  }
  // Every object sent must pass the Kubernetes schemas.
  void RequireValidObjects() {
    absl::Status valid = testing::ValidateWithKubernetesSchemas(server->bodies_dir());
    INFO(valid.ToString());
    REQUIRE(valid.ok());
  }
  // Starts `job` with `sink` as its sink; the start must succeed.
  v1::Job Started(v1::Job job) {
    REQUIRE(executor->Start(job, &sink).ok());
    return job;
  }
  // How many objects the fake cluster holds now.
  size_t ObjectCount() {
    auto objects = server->Objects();
    REQUIRE(objects.ok());
    return objects->size();
  }
  nlohmann::json RequestsOf(const std::string& method, const std::string& path_part) {
    auto requests = server->Requests();
    REQUIRE(requests.ok());
    nlohmann::json found = nlohmann::json::array();
    for (const nlohmann::json& request : *requests) {
      if (request["method"] == method &&
          request["path"].get<std::string>().find(path_part) != std::string::npos) {
        found.push_back(request);
      }
    }
    return found;
  }

  TempDir dir;
  std::unique_ptr<FakeApiServer> server;
  RecordingSink sink;  // Outlives the executor, whose thread reports to it.
  std::unique_ptr<KubernetesExecutor> executor;
};

TEST_CASE("a started job becomes a batch/v1 Job with its spec, resources and labels") {
  Cluster cluster;
  v1::Job job = TrainingJob("j-42");
  job.set_checkpoint_epoch(3);
  REQUIRE(cluster.executor->Start(job, &cluster.sink).ok());

  nlohmann::json posts = cluster.RequestsOf("POST", "/apis/batch/v1/namespaces/fabrique-risk/jobs");
  REQUIRE(posts.size() == 1);
  CHECK(posts[0]["authorization"] == std::string("Bearer ") + kToken);
  CHECK(posts[0]["content_type"] == "application/json");
  CHECK(posts[0]["query"] == "fieldValidation=Strict");
  const nlohmann::json& k8s = posts[0]["body"];
  CHECK(k8s["metadata"]["name"] == "fabrique-j-42-a0");
  CHECK(k8s["metadata"]["namespace"] == kNamespace);
  CHECK(k8s["metadata"]["labels"]["fabrique.io/job-id"] == "j-42");
  CHECK(k8s["metadata"]["labels"]["fabrique.io/squad"] == "risk");
  CHECK(k8s["metadata"]["labels"]["fabrique.io/use-case"] == "uc-fraud");
  CHECK(k8s["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "fabrique-tower");
  CHECK(k8s["metadata"]["ownerReferences"][0]["kind"] == "Namespace");
  CHECK(k8s["spec"]["backoffLimit"] == 0);
  CHECK(k8s["spec"]["activeDeadlineSeconds"] == 3600);
  CHECK_FALSE(k8s["spec"].contains("suspend"));
  const nlohmann::json& pod = k8s["spec"]["template"]["spec"];
  CHECK(pod["restartPolicy"] == "Never");
  const nlohmann::json& container = pod["containers"][0];
  CHECK(container["image"] == "registry.example/fabrique:1.0");
  CHECK(container["command"][0] == "/usr/local/bin/fabrique-trainer");
  const std::vector<std::string> args = container["args"];
  CHECK(args == std::vector<std::string>{"--run_spec=/spec/run_spec.json", "--tower_job_id=j-42",
                                         "--resume_from_epoch=3",
                                         "--termination_log=/dev/termination-log",
                                         "--features_target=fabrique-features.fabrique:7101",
                                         "--registry_target=fabrique-registry.fabrique:7102"});
  CHECK(container["resources"]["requests"]["cpu"] == "2000m");
  CHECK(container["resources"]["limits"]["memory"] == "4294967296");
  CHECK(container["resources"]["limits"]["nvidia.com/gpu"] == "1");
  CHECK(container["terminationMessagePath"] == "/dev/termination-log");

  // The run spec travels in a ConfigMap owned by the Job, so it goes when the Job goes.
  nlohmann::json maps = cluster.RequestsOf("POST", "/api/v1/namespaces/fabrique-risk/configmaps");
  REQUIRE(maps.size() == 1);
  const nlohmann::json& config_map = maps[0]["body"];
  CHECK(config_map["metadata"]["name"] == "fabrique-j-42-a0");
  CHECK(config_map["metadata"]["ownerReferences"][0]["kind"] == "Job");
  CHECK_FALSE(config_map["metadata"]["ownerReferences"][0]["uid"].get<std::string>().empty());
  const std::string spec = config_map["data"]["run_spec.json"];
  CHECK(nlohmann::json::parse(spec)["model_name"] == "fraud");
  cluster.RequireValidObjects();
}

TEST_CASE("a Job followed from pending to active to succeeded reports its usage and version") {
  Cluster cluster;
  v1::Job job = cluster.Started(TrainingJob("j-ok"));
  const std::string name = "fabrique-j-ok-a0";

  // Pending: nothing to report yet.
  REQUIRE(
      cluster.server->SetJobStatus(kNamespace, name, {{"startTime", "2026-12-03T10:00:00Z"}}).ok());
  REQUIRE(cluster.server
              ->SetJobStatus(kNamespace, name,
                             {{"startTime", "2026-12-03T10:00:00Z"}, {"active", 1}, {"ready", 1}})
              .ok());
  ExecutionUpdate running = cluster.sink.AwaitState(v1::JOB_STATE_RUNNING);
  REQUIRE(running.state == v1::JOB_STATE_RUNNING);
  CHECK(running.kubernetes_job_name == name);
  CHECK(running.kubernetes_namespace == kNamespace);

  REQUIRE(cluster.server
              ->SetTerminationMessage(kNamespace, name,
                                      R"({"model":"fraud","version":8,"checkpoint_epoch":5})")
              .ok());
  REQUIRE(cluster.server
              ->SetJobStatus(kNamespace, name,
                             {{"startTime", "2026-12-03T10:00:00Z"},
                              {"completionTime", "2026-12-03T10:01:40Z"},
                              {"succeeded", 1},
                              {"conditions",
                               {{{"type", "Complete"},
                                 {"status", "True"},
                                 {"lastTransitionTime", "2026-12-03T10:01:40Z"}}}}})
              .ok());
  ExecutionUpdate done = cluster.sink.AwaitState(v1::JOB_STATE_SUCCEEDED);
  REQUIRE(done.state == v1::JOB_STATE_SUCCEEDED);
  // 100 s of 2 cores, 1 GPU and 4 GiB.
  CHECK(done.usage.cpu_seconds() == Approx(200));
  CHECK(done.usage.gpu_seconds() == Approx(100));
  CHECK(done.usage.memory_gib_seconds() == Approx(400));
  CHECK(done.result_version.model() == "fraud");
  CHECK(done.result_version.version() == 8);
  CHECK(done.checkpoint_epoch == 5);
  // In order, once each: RUNNING then SUCCEEDED.
  std::vector<ExecutionUpdate> updates = cluster.sink.updates();
  REQUIRE(updates.size() == 2);
  CHECK(updates[0].state == v1::JOB_STATE_RUNNING);
  cluster.RequireValidObjects();
}

TEST_CASE("a running job's usage so far is reported again at the running report interval") {
  Cluster cluster("", absl::Milliseconds(50));
  cluster.Started(TrainingJob("j-long"));
  REQUIRE(cluster.server
              ->SetJobStatus(kNamespace, "fabrique-j-long-a0",
                             {{"startTime", "2026-12-03T10:00:00Z"}, {"active", 1}})
              .ok());
  REQUIRE(PollUntil([&] { return cluster.sink.updates().size() >= 3; }, absl::Seconds(10)));
  std::vector<ExecutionUpdate> updates = cluster.sink.updates();
  for (size_t i = 1; i < updates.size(); ++i) {
    CHECK(updates[i].state == v1::JOB_STATE_RUNNING);
    CHECK(updates[i].usage.cpu_seconds() >= updates[i - 1].usage.cpu_seconds());
  }
  CHECK(updates.back().usage.cpu_seconds() > 0);
}

TEST_CASE("a failed Job reports its condition's reason and message") {
  Cluster cluster;
  cluster.Started(TrainingJob("j-bad"));
  REQUIRE(cluster.server
              ->SetJobStatus(kNamespace, "fabrique-j-bad-a0",
                             {{"startTime", "2026-12-03T10:00:00Z"},
                              {"failed", 1},
                              {"conditions",
                               {{{"type", "Failed"},
                                 {"status", "True"},
                                 {"reason", "DeadlineExceeded"},
                                 {"message", "Job was active longer than specified deadline"},
                                 {"lastTransitionTime", "2026-12-03T10:00:10Z"}}}}})
              .ok());
  ExecutionUpdate failed = cluster.sink.AwaitState(v1::JOB_STATE_FAILED);
  REQUIRE(failed.state == v1::JOB_STATE_FAILED);
  CHECK_THAT(failed.reason, Catch::Contains("DeadlineExceeded: Job was active longer than "
                                            "specified deadline"));
  CHECK_THAT(failed.reason, Catch::Contains("fabrique-risk/fabrique-j-bad-a0"));
  CHECK(failed.usage.cpu_seconds() == Approx(20));
  cluster.RequireValidObjects();
}

TEST_CASE("stop deletes the Job with background propagation and reports it cancelled") {
  Cluster cluster;
  v1::Job job = cluster.Started(TrainingJob("j-stop"));
  REQUIRE(cluster.executor->Stop(job, "preempted by j-urgent").ok());

  nlohmann::json deletes = cluster.RequestsOf("DELETE", "/jobs/fabrique-j-stop-a0");
  REQUIRE(deletes.size() == 1);
  CHECK(deletes[0]["query"] == "propagationPolicy=Background");
  CHECK(cluster.ObjectCount() == 0);  // The ConfigMap went with its owner.
  std::vector<ExecutionUpdate> updates = cluster.sink.updates();
  REQUIRE(updates.size() == 1);
  CHECK(updates[0].state == v1::JOB_STATE_CANCELLED);
  CHECK(updates[0].reason == "preempted by j-urgent");
  // Stopping again finds nothing to delete and is still fine.
  CHECK(cluster.executor->Stop(job, "again").ok());
  cluster.RequireValidObjects();
}

TEST_CASE("a repeated start answered 409 AlreadyExists is the same start") {
  Cluster cluster;
  v1::Job job = cluster.Started(TrainingJob("j-twice"));
  REQUIRE(cluster.executor->Start(job, &cluster.sink).ok());
  CHECK(cluster.RequestsOf("POST", "/jobs").size() == 2);
  CHECK(cluster.ObjectCount() == 2);  // One Job, one ConfigMap.

  // A preempted job's next attempt is a new Job.
  job.set_preemptions(1);
  REQUIRE(cluster.executor->Start(job, &cluster.sink).ok());
  CHECK(cluster.ObjectCount() == 4);
  cluster.RequireValidObjects();
}

TEST_CASE("with a Kueue queue the Job is created suspended with the queue label") {
  Cluster cluster("risk-queue");
  cluster.Started(TrainingJob("j-kueue"));
  nlohmann::json posts = cluster.RequestsOf("POST", "/jobs");
  REQUIRE(posts.size() == 1);
  CHECK(posts[0]["body"]["spec"]["suspend"] == true);
  CHECK(posts[0]["body"]["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "risk-queue");

  // Kueue admits it by unsuspending; the executor then sees it active.
  REQUIRE(cluster.server
              ->SetJobStatus(kNamespace, "fabrique-j-kueue-a0",
                             {{"startTime", "2026-12-03T10:00:00Z"}, {"active", 1}})
              .ok());
  CHECK(cluster.sink.AwaitState(v1::JOB_STATE_RUNNING).state == v1::JOB_STATE_RUNNING);
  cluster.RequireValidObjects();
}

TEST_CASE("a refused token is PERMISSION_DENIED naming the RBAC manifest") {
  Cluster cluster;
  REQUIRE(cluster.server->SetToken("another-token").ok());
  absl::Status started = cluster.executor->Start(TrainingJob("j-401"), &cluster.sink);
  CHECK(absl::IsPermissionDenied(started));
  CHECK_THAT(std::string(started.message()), Catch::Contains("tower-rbac.yaml"));
  CHECK(cluster.executor->ApiErrors() == 1);

  // The token file is read again when it changes (the kubelet rotates it).
  std::ofstream(cluster.dir.Sub("token"), std::ios::trunc) << "another-token-longer\n";
  REQUIRE(cluster.server->SetToken("another-token-longer").ok());
  CHECK(cluster.executor->Start(TrainingJob("j-401"), &cluster.sink).ok());
}

TEST_CASE("refusals and outages of the API map to codes that say what to do") {
  Cluster cluster;
  REQUIRE(cluster.server
              ->Fail("POST", "/jobs", 403, "Forbidden",
                     "jobs.batch is forbidden: User \"system:serviceaccount:fabrique:"
                     "fabrique-tower\" cannot create resource \"jobs\"")
              .ok());
  absl::Status forbidden = cluster.executor->Start(TrainingJob("j-e"), &cluster.sink);
  CHECK(absl::IsPermissionDenied(forbidden));
  CHECK_THAT(std::string(forbidden.message()), Catch::Contains("cannot create resource"));
  CHECK_THAT(std::string(forbidden.message()), Catch::Contains("tower-rbac.yaml"));

  REQUIRE(cluster.server
              ->Fail("POST", "/jobs", 422, "Invalid",
                     "Job.batch \"x\" is invalid: spec.template.spec.containers[0].image: "
                     "Required value")
              .ok());
  absl::Status invalid = cluster.executor->Start(TrainingJob("j-e"), &cluster.sink);
  CHECK(absl::IsInvalidArgument(invalid));
  CHECK_THAT(std::string(invalid.message()), Catch::Contains("containers[0].image: Required"));

  REQUIRE(cluster.server->Fail("POST", "/jobs", 503, "ServiceUnavailable", "etcd down").ok());
  CHECK(absl::IsUnavailable(cluster.executor->Start(TrainingJob("j-e"), &cluster.sink)));

  // The ConfigMap failing after the Job was created: a retry completes the start.
  REQUIRE(cluster.server->Fail("POST", "/configmaps", 500, "InternalError", "boom").ok());
  CHECK(absl::IsUnavailable(cluster.executor->Start(TrainingJob("j-e"), &cluster.sink)));
  CHECK(cluster.executor->Start(TrainingJob("j-e"), &cluster.sink).ok());
  CHECK(cluster.executor->ApiErrors() == 4);

  // A job with a squad that cannot be a namespace is refused before any call.
  v1::Job bad_squad = TrainingJob("j-e2");
  bad_squad.set_squad("Risk_Team");
  CHECK(absl::IsInvalidArgument(cluster.executor->Start(bad_squad, &cluster.sink)));
  cluster.RequireValidObjects();
}

TEST_CASE("a Job deleted outside the tower is reported failed") {
  Cluster cluster;
  v1::Job job = cluster.Started(TrainingJob("j-gone"));
  // Someone runs kubectl delete job: the executor's own client stands in for them.
  KubernetesApiClient::Options options;
  options.server = cluster.server->url();
  options.ca_file = cluster.server->ca_file();
  options.token_file = cluster.dir.Sub("token");
  auto kubectl = KubernetesApiClient::Create(options);
  REQUIRE(kubectl.ok());
  REQUIRE(
      (*kubectl)
          ->Call("DELETE", "/apis/batch/v1/namespaces/fabrique-risk/jobs/fabrique-j-gone-a0", "job")
          .ok());
  ExecutionUpdate failed = cluster.sink.AwaitState(v1::JOB_STATE_FAILED);
  REQUIRE(failed.state == v1::JOB_STATE_FAILED);
  CHECK_THAT(failed.reason, Catch::Contains("deleted outside the tower"));
}

TEST_CASE("a job started before a restart is followed to its end") {
  Cluster cluster;
  v1::Job job = cluster.Started(TrainingJob("j-restart"));
  cluster.executor.reset();  // The tower stops.

  RecordingSink sink;  // The restarted tower's.
  KubernetesExecutor::Options options;
  options.api.server = cluster.server->url();
  options.api.ca_file = cluster.server->ca_file();
  options.api.token_file = cluster.dir.Sub("token");
  options.poll_interval = absl::Milliseconds(20);
  auto restarted = KubernetesExecutor::Create(options);
  REQUIRE(restarted.ok());
  job.set_kubernetes_job_name("fabrique-j-restart-a0");
  job.set_kubernetes_namespace(kNamespace);
  REQUIRE((*restarted)->Follow(job, &sink).ok());
  REQUIRE(cluster.server
              ->SetJobStatus(kNamespace, "fabrique-j-restart-a0",
                             {{"startTime", "2026-12-03T10:00:00Z"},
                              {"completionTime", "2026-12-03T10:00:30Z"},
                              {"succeeded", 1}})
              .ok());
  ExecutionUpdate done = sink.AwaitState(v1::JOB_STATE_SUCCEEDED);
  REQUIRE(done.state == v1::JOB_STATE_SUCCEEDED);
  CHECK(done.usage.cpu_seconds() == Approx(60));
  CHECK(done.result_version.version() == 0);  // No termination message: no version.
}

TEST_CASE("an unreachable API server is UNAVAILABLE, a missing token FAILED_PRECONDITION") {
  RecordingSink sink;
  KubernetesExecutor::Options options;
  options.api.server = "https://127.0.0.1:1";
  options.api.token_file = "";
  options.api.connect_timeout = absl::Seconds(1);
  // Each failed call is reported, for fabrique_tower_executor_errors_total{executor}.
  int errors_reported = 0;
  options.on_error = [&errors_reported] { ++errors_reported; };
  auto executor = KubernetesExecutor::Create(options);
  REQUIRE(executor.ok());
  CHECK(absl::IsUnavailable((*executor)->Start(TrainingJob("j-1"), &sink)));
  CHECK(errors_reported == (*executor)->ApiErrors());
  CHECK(errors_reported >= 1);
  options.on_error = nullptr;

  // No token file mounted: the message says what to mount.
  options.api.token_file = "/nonexistent/token";
  auto no_token = KubernetesExecutor::Create(options);
  REQUIRE(no_token.ok());
  absl::Status unmounted = (*no_token)->Start(TrainingJob("j-1"), &sink);
  CHECK(absl::IsFailedPrecondition(unmounted));
  CHECK_THAT(std::string(unmounted.message()), Catch::Contains("tower-rbac.yaml"));

  options.api.server = "ftp://example";
  CHECK(absl::IsInvalidArgument(KubernetesExecutor::Create(options).status()));
}

}  // namespace
}  // namespace fabrique::tower
