// Names, label values and error mapping: the pure parts of the Kubernetes executor.

#include "libs/tower/kubernetes/job_manifest.h"

#include <catch2/catch.hpp>
#include <regex>

#include "libs/tower/kubernetes/api_errors.h"
#include "libs/tower/kubernetes/job_status.h"

namespace fabrique::tower {
namespace {

bool IsDnsLabel(const std::string& s) {
  return s.size() <= 63 && std::regex_match(s, std::regex("[a-z0-9]([-a-z0-9]*[a-z0-9])?"));
}

TEST_CASE("Job names are DNS-1123 labels of at most 63 characters, distinct per id") {
  v1::Job job;
  job.set_id("j-42");
  CHECK(KubernetesJobName(job) == "fabrique-j-42-a0");
  job.set_preemptions(12);
  CHECK(KubernetesJobName(job) == "fabrique-j-42-a12");

  v1::Job long_a;
  long_a.set_id(std::string(80, 'x') + "a");
  v1::Job long_b;
  long_b.set_id(std::string(80, 'x') + "b");
  CHECK(IsDnsLabel(KubernetesJobName(long_a)));
  CHECK(KubernetesJobName(long_a) != KubernetesJobName(long_b));

  v1::Job odd;
  odd.set_id("Job_01/ÉTÉ");
  CHECK(IsDnsLabel(KubernetesJobName(odd)));
}

TEST_CASE("label values are cut and hashed, never invalid") {
  CHECK(LabelValue("risk") == "risk");
  const std::string long_value = LabelValue(std::string(100, 'r'));
  CHECK(long_value.size() <= 63);
  CHECK(LabelValue("-weird value-") != "");
}

TEST_CASE("the squad's namespace comes from the template and must be a DNS label") {
  JobManifestOptions options;
  CHECK(*SquadNamespace(options, "risk") == "fabrique-risk");
  options.namespace_template = "team-{squad}-ml";
  CHECK(*SquadNamespace(options, "risk") == "team-risk-ml");
  CHECK(absl::IsInvalidArgument(SquadNamespace(options, "Risk Team").status()));
}

TEST_CASE("a job without a training spec is refused") {
  v1::Job job;
  job.set_id("j-1");
  CHECK(absl::IsInvalidArgument(BuildJob(JobManifestOptions(), job, "ns").status()));
}

TEST_CASE("API answers map to codes by what the tower should do") {
  CHECK(StatusFromApiAnswer(201, "", "POST", "Job a/b").ok());
  CHECK(absl::IsPermissionDenied(StatusFromApiAnswer(401, "", "POST", "Job a/b")));
  CHECK(absl::IsPermissionDenied(StatusFromApiAnswer(403, "", "POST", "Job a/b")));
  CHECK(absl::IsNotFound(StatusFromApiAnswer(404, "", "GET", "Job a/b")));
  CHECK(absl::IsAlreadyExists(StatusFromApiAnswer(409, "", "POST", "Job a/b")));
  CHECK(absl::IsAborted(StatusFromApiAnswer(410, "", "GET", "Job a/b")));
  CHECK(absl::IsUnavailable(StatusFromApiAnswer(429, "", "GET", "Job a/b")));
  CHECK(absl::IsUnavailable(StatusFromApiAnswer(504, "", "GET", "Job a/b")));
  absl::Status invalid = StatusFromApiAnswer(
      422, R"({"kind":"Status","message":"spec.template: Required value"})", "POST", "Job a/b");
  CHECK(absl::IsInvalidArgument(invalid));
  CHECK(std::string(invalid.message()) ==
        "POST Job a/b: the Kubernetes API answered 422: spec.template: Required value");
}

TEST_CASE("a suspended Job waiting for Kueue reports nothing, even with a start time") {
  v1::Job job;
  job.set_id("j-1");
  nlohmann::json k8s = {{"spec", {{"suspend", true}}},
                        {"status", {{"startTime", "2026-12-03T10:00:00Z"}}}};
  CHECK(ReadJobStatus(job, k8s, absl::Now()).state == v1::JOB_STATE_UNSPECIFIED);
}

TEST_CASE("a termination message that is not the trainer's JSON is ignored") {
  ExecutionUpdate update;
  ReadTerminationMessage("panic: out of memory", &update);
  CHECK(update.result_version.version() == 0);
  ReadTerminationMessage(R"({"model":"m","version":3})", &update);
  CHECK(update.result_version.version() == 3);
  CHECK(update.checkpoint_epoch == 0);
}

}  // namespace
}  // namespace fabrique::tower
