#include "libs/tower/kubernetes/job_manifest.h"

#include <google/protobuf/util/json_util.h>

#include <cmath>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"

namespace fabrique::tower {
namespace {

constexpr size_t kMaxName = 63;
constexpr int64_t kDefaultMemoryBytes = int64_t{1} << 30;

// FNV-1a, enough to keep two cut names apart; stable across builds and platforms.
std::string ShortHash(absl::string_view text) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ull;
  return absl::StrFormat("%08x", static_cast<uint32_t>(hash ^ (hash >> 32)));
}

bool IsAlnum(char c) { return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'z'); }

// Lowercases and replaces what `allowed` refuses with '-', trims non-alphanumeric ends, and cuts
// to `max` with a hash of the original when longer.
std::string Sanitise(absl::string_view text, size_t max, bool (*allowed)(char)) {
  std::string out;
  for (char c : text) {
    char lower = absl::ascii_tolower(static_cast<unsigned char>(c));
    out.push_back(allowed(lower) ? lower : '-');
  }
  auto trim = [](std::string& s) {
    while (!s.empty() && !IsAlnum(s.back())) s.pop_back();
    size_t start = 0;
    while (start < s.size() && !IsAlnum(s[start])) ++start;
    s.erase(0, start);
  };
  trim(out);
  if (out.size() > max || out != absl::AsciiStrToLower(text)) {
    // Changed or too long: a hash of the original keeps distinct inputs distinct.
    const std::string hash = ShortHash(text);
    if (out.size() > max - hash.size() - 1) out.resize(max - hash.size() - 1);
    trim(out);
    out = out.empty() ? hash : absl::StrCat(out, "-", hash);
  }
  return out;
}

bool DnsChar(char c) { return IsAlnum(c) || c == '-'; }
bool LabelChar(char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; }

bool IsDnsLabel(absl::string_view s) {
  if (s.empty() || s.size() > kMaxName || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!DnsChar(c)) return false;
  }
  return true;
}

// Kubernetes quantities: CPU in whole millicores (0 = 1 core), memory in bytes (0 = 1 GiB).
std::string CpuQuantity(double cores) {
  if (cores <= 0) cores = 1;
  int64_t millis = static_cast<int64_t>(std::ceil(cores * 1000 - 1e-9));
  return absl::StrCat(millis < 1 ? 1 : millis, "m");
}

std::string MemoryQuantity(int64_t bytes) {
  return absl::StrCat(bytes <= 0 ? kDefaultMemoryBytes : bytes);
}

nlohmann::json Labels(const v1::Job& job) {
  nlohmann::json labels = {
      {"app.kubernetes.io/name", "fabrique-trainer"},
      {"app.kubernetes.io/component", "training-job"},
      {"app.kubernetes.io/part-of", "fabrique"},
      {"app.kubernetes.io/managed-by", "fabrique-tower"},
      {"fabrique.io/job-id", LabelValue(job.id())},
      {"fabrique.io/attempt", absl::StrCat(job.preemptions())},
      {"fabrique.io/squad", LabelValue(job.squad())},
  };
  if (!job.use_case_id().empty()) labels["fabrique.io/use-case"] = LabelValue(job.use_case_id());
  return labels;
}

}  // namespace

absl::StatusOr<std::string> SquadNamespace(const JobManifestOptions& options,
                                           absl::string_view squad) {
  std::string ns = absl::StrReplaceAll(options.namespace_template, {{"{squad}", squad}});
  if (!IsDnsLabel(ns)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "squad \"", squad, "\" maps to namespace \"", ns, "\" (template \"",
        options.namespace_template,
        "\"), which is not a DNS-1123 label: lowercase letters, digits and '-', at most 63"));
  }
  return ns;
}

std::string LabelValue(absl::string_view value) { return Sanitise(value, kMaxName, &LabelChar); }

std::string KubernetesJobName(const v1::Job& job) {
  // "-a<attempt>" stays whole; the id part is cut to fit.
  const std::string suffix = absl::StrCat("-a", job.preemptions());
  const std::string id =
      Sanitise(absl::StrCat("fabrique-", job.id()), kMaxName - suffix.size(), &DnsChar);
  return absl::StrCat(id, suffix);
}

absl::StatusOr<nlohmann::json> BuildJob(const JobManifestOptions& options, const v1::Job& job,
                                        absl::string_view ns) {
  if (!job.spec().has_training()) {
    return absl::InvalidArgumentError(
        absl::StrCat("job ", job.id(),
                     " has no training spec; the Kubernetes executor runs "
                     "trainer specs only"));
  }
  const std::string name = KubernetesJobName(job);
  const v1::ResourceRequest& want = job.spec().resources();
  nlohmann::json quantities = {{"cpu", CpuQuantity(want.cpu_cores())},
                               {"memory", MemoryQuantity(want.memory_bytes())}};
  if (want.gpus() > 0) quantities["nvidia.com/gpu"] = absl::StrCat(want.gpus());

  nlohmann::json args = {"--run_spec=/spec/run_spec.json",
                         absl::StrCat("--tower_job_id=", job.id()),
                         absl::StrCat("--resume_from_epoch=", job.checkpoint_epoch()),
                         absl::StrCat("--termination_log=", kTerminationLogPath)};
  for (const std::string& arg : options.trainer_args) args.push_back(arg);

  nlohmann::json container = {
      {"name", "trainer"},
      {"image", job.spec().image().empty() ? options.image : job.spec().image()},
      {"imagePullPolicy", "IfNotPresent"},
      {"command", {options.trainer_binary}},
      {"args", args},
      // Requests equal limits: the tower's quotas count requests, and Guaranteed pods are the
      // last evicted under node pressure.
      {"resources", {{"requests", quantities}, {"limits", quantities}}},
      {"terminationMessagePath", std::string(kTerminationLogPath)},
      {"terminationMessagePolicy", "File"},
      {"volumeMounts", {{{"name", "run-spec"}, {"mountPath", "/spec"}, {"readOnly", true}}}},
      {"securityContext",
       {{"allowPrivilegeEscalation", false}, {"capabilities", {{"drop", {"ALL"}}}}}},
  };
  nlohmann::json pod_spec = {
      {"restartPolicy", "Never"},
      {"containers", {container}},
      {"volumes", {{{"name", "run-spec"}, {"configMap", {{"name", name}, {"defaultMode", 0444}}}}}},
      {"securityContext",
       {{"runAsNonRoot", true},
        {"runAsUser", 65532},
        {"runAsGroup", 65532},
        {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
  };
  if (!options.service_account.empty()) {
    pod_spec["serviceAccountName"] = options.service_account;
  } else {
    pod_spec["automountServiceAccountToken"] = false;  // The trainer does not call the API.
  }

  nlohmann::json labels = Labels(job);
  nlohmann::json metadata = {
      {"name", name},
      {"namespace", std::string(ns)},
      {"labels", labels},
      // Label values are cut to 63 characters; the annotation keeps the whole id.
      {"annotations", {{"fabrique.io/job-id", job.id()}, {"fabrique.io/reason", job.reason()}}},
  };
  if (!options.kueue_queue.empty()) {
    metadata["labels"]["kueue.x-k8s.io/queue-name"] = options.kueue_queue;
  }
  if (options.owner.has_value()) {
    metadata["ownerReferences"] = {{{"apiVersion", options.owner->api_version},
                                    {"kind", options.owner->kind},
                                    {"name", options.owner->name},
                                    {"uid", options.owner->uid}}};
  }
  nlohmann::json spec = {
      {"backoffLimit", 0},  // One attempt: the tower decides about retries and requeues.
      {"completions", 1},
      {"parallelism", 1},
      {"template", {{"metadata", {{"labels", labels}}}, {"spec", pod_spec}}},
  };
  const int64_t max_seconds = job.spec().max_runtime().seconds();
  if (max_seconds > 0) spec["activeDeadlineSeconds"] = max_seconds;
  // Kueue admits a suspended Job by unsuspending it once its ClusterQueue has room.
  if (!options.kueue_queue.empty()) spec["suspend"] = true;
  return nlohmann::json{
      {"apiVersion", "batch/v1"}, {"kind", "Job"}, {"metadata", metadata}, {"spec", spec}};
}

absl::StatusOr<nlohmann::json> BuildRunSpecConfigMap(const v1::Job& job, absl::string_view ns,
                                                     absl::string_view job_name,
                                                     absl::string_view job_uid) {
  std::string spec_json;
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = true;
  print.preserve_proto_field_names = true;
  auto printed =
      google::protobuf::util::MessageToJsonString(job.spec().training(), &spec_json, print);
  if (!printed.ok()) {
    return absl::InternalError(absl::StrCat("cannot print the run spec of job ", job.id(),
                                            " as JSON: ", printed.ToString()));
  }
  nlohmann::json metadata = {
      {"name", std::string(job_name)}, {"namespace", std::string(ns)}, {"labels", Labels(job)}};
  if (!job_uid.empty()) {
    metadata["ownerReferences"] = {{{"apiVersion", "batch/v1"},
                                    {"kind", "Job"},
                                    {"name", std::string(job_name)},
                                    {"uid", std::string(job_uid)}}};
  }
  return nlohmann::json{{"apiVersion", "v1"},
                        {"kind", "ConfigMap"},
                        {"metadata", metadata},
                        {"data", {{"run_spec.json", spec_json}}}};
}

}  // namespace fabrique::tower
