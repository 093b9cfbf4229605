#include "libs/tower/kubernetes/job_status.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"

namespace fabrique::tower {
namespace {

const nlohmann::json* TrueCondition(const nlohmann::json& status, absl::string_view type) {
  auto conditions = status.find("conditions");
  if (conditions == status.end() || !conditions->is_array()) return nullptr;
  for (const nlohmann::json& condition : *conditions) {
    if (condition.value("type", "") == type && condition.value("status", "") == "True") {
      return &condition;
    }
  }
  return nullptr;
}

int64_t Count(const nlohmann::json& status, const char* field) {
  auto it = status.find(field);
  return it != status.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

}  // namespace

v1::ResourceUsage JobUsage(const v1::Job& job, absl::Duration wall) {
  v1::ResourceUsage usage;
  const double seconds = std::max(0.0, absl::ToDoubleSeconds(wall));
  const v1::ResourceRequest& want = job.spec().resources();
  const double cores = want.cpu_cores() > 0 ? want.cpu_cores() : 1.0;
  const double gib =
      (want.memory_bytes() > 0 ? static_cast<double>(want.memory_bytes()) : 1073741824.0) /
      1073741824.0;
  usage.set_cpu_seconds(cores * seconds);
  usage.set_gpu_seconds(want.gpus() * seconds);
  usage.set_memory_gib_seconds(gib * seconds);
  return usage;
}

absl::Time ParseApiTime(const nlohmann::json& value) {
  if (!value.is_string()) return absl::InfinitePast();
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, value.get<std::string>(), &time, &error)) {
    return absl::InfinitePast();
  }
  return time;
}

ExecutionUpdate ReadJobStatus(const v1::Job& job, const nlohmann::json& k8s_job, absl::Time now) {
  ExecutionUpdate update;
  update.job_id = job.id();
  const nlohmann::json metadata = k8s_job.value("metadata", nlohmann::json::object());
  update.kubernetes_job_name = metadata.value("name", "");
  update.kubernetes_namespace = metadata.value("namespace", "");
  const nlohmann::json status = k8s_job.value("status", nlohmann::json::object());
  const bool suspended = k8s_job.value("spec", nlohmann::json::object()).value("suspend", false);

  absl::Time end = now;
  if (const nlohmann::json* failed = TrueCondition(status, "Failed")) {
    update.state = v1::JOB_STATE_FAILED;
    update.reason = absl::StrCat(
        "Kubernetes Job ", update.kubernetes_namespace, "/", update.kubernetes_job_name,
        " failed: ", failed->value("reason", "Failed"), ": ", failed->value("message", ""));
    absl::Time at = ParseApiTime(failed->value("lastTransitionTime", nlohmann::json()));
    if (at != absl::InfinitePast()) end = at;
  } else if (TrueCondition(status, "Complete") != nullptr || Count(status, "succeeded") > 0) {
    update.state = v1::JOB_STATE_SUCCEEDED;
    absl::Time at = ParseApiTime(status.value("completionTime", nlohmann::json()));
    if (at != absl::InfinitePast()) end = at;
  } else if (Count(status, "active") > 0 && !suspended) {
    update.state = v1::JOB_STATE_RUNNING;
  } else {
    return update;  // Pending or suspended: nothing to say yet.
  }
  const absl::Time start = ParseApiTime(status.value("startTime", nlohmann::json()));
  update.usage = JobUsage(job, start == absl::InfinitePast() ? absl::ZeroDuration() : end - start);
  return update;
}

void ReadTerminationMessage(absl::string_view message, ExecutionUpdate* update) {
  nlohmann::json result = nlohmann::json::parse(message.begin(), message.end(), nullptr, false);
  if (!result.is_object()) return;
  if (result.contains("model") && result["model"].is_string() && result.contains("version") &&
      result["version"].is_number_integer()) {
    update->result_version.set_model(result["model"].get<std::string>());
    update->result_version.set_version(result["version"].get<int64_t>());
  }
  if (result.contains("checkpoint_epoch") && result["checkpoint_epoch"].is_number_integer()) {
    update->checkpoint_epoch = result["checkpoint_epoch"].get<int32_t>();
  }
}

}  // namespace fabrique::tower
