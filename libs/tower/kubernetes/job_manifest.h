#ifndef FABRIQUE_LIBS_TOWER_KUBERNETES_JOB_MANIFEST_H_
#define FABRIQUE_LIBS_TOWER_KUBERNETES_JOB_MANIFEST_H_

// The Kubernetes objects that run one attempt of a tower job: a batch/v1 Job whose one container
// runs the trainer in one-shot mode, and a ConfigMap that carries the run spec to it as
// /spec/run_spec.json. The ConfigMap is owned by the Job, so deleting the Job removes it too.
//
// Names: one Job per attempt (the job id and how many times it was preempted), so a requeued job
// gets a fresh Job and a create repeated after a tower restart hits 409 on the same name. Names
// and label values are DNS-1123 labels of at most 63 characters (the Job controller copies the
// Job's name into its pods' `job-name` label); a long job id is cut and suffixed with a hash so
// two ids never share a name.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/tower.pb.h"

namespace fabrique::tower {

// An object the Jobs are owned by, so the cluster deletes them with it. Kubernetes only honours
// an owner in the same namespace or a cluster-scoped one: the tower's StatefulSet lives in
// `fabrique` and its Jobs in the squads' namespaces, so point this at a cluster-scoped object
// (or leave it unset).
struct OwnerReference {
  std::string api_version;  // e.g. "v1"
  std::string kind;         // e.g. "Namespace"
  std::string name;
  std::string uid;
};

struct JobManifestOptions {
  // The namespace of a squad's Jobs; "{squad}" is replaced by the squad's id.
  std::string namespace_template = "fabrique-{squad}";
  // The trainer's image when the job does not name one.
  std::string image = "fabrique:latest";
  // The trainer binary in the image.
  std::string trainer_binary = "/usr/local/bin/fabrique-trainer";
  // More trainer arguments, e.g. where the feature store and the registry are:
  // {"--features_target=fabrique-features.fabrique:7101", "--registry_target=..."}.
  std::vector<std::string> trainer_args;
  // Kueue's LocalQueue in the squad's namespace; "" = no Kueue (the Job starts at once).
  std::string kueue_queue;
  std::optional<OwnerReference> owner;
  // The ServiceAccount the trainer's pod runs as; "" = the namespace's default.
  std::string service_account;
};

// Where the trainer writes {"model":M,"version":N,"checkpoint_epoch":E} when it ends; read back
// from the pod's termination message.
inline constexpr absl::string_view kTerminationLogPath = "/dev/termination-log";

// The squad's namespace; INVALID_ARGUMENT when the result is not a DNS-1123 label.
absl::StatusOr<std::string> SquadNamespace(const JobManifestOptions& options,
                                           absl::string_view squad);

// The Job's name for this attempt of `job` (job id and preemptions).
std::string KubernetesJobName(const v1::Job& job);

// `value` as a valid label value: lowercase alphanumerics, '-', '_' and '.', at most 63
// characters, starting and ending with an alphanumeric (cut and hashed when too long).
std::string LabelValue(absl::string_view value);

// The batch/v1 Job for `job` in `ns`; INVALID_ARGUMENT when the job has no training spec.
absl::StatusOr<nlohmann::json> BuildJob(const JobManifestOptions& options, const v1::Job& job,
                                        absl::string_view ns);

// The ConfigMap holding the run spec as JSON, owned by the Job `job_name` with uid `job_uid`.
absl::StatusOr<nlohmann::json> BuildRunSpecConfigMap(const v1::Job& job, absl::string_view ns,
                                                     absl::string_view job_name,
                                                     absl::string_view job_uid);

}  // namespace fabrique::tower

#endif  // FABRIQUE_LIBS_TOWER_KUBERNETES_JOB_MANIFEST_H_
