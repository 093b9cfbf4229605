#include "libs/tower/kubernetes/kubernetes_executor.h"

#include <nlohmann/json.hpp>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/tower/kubernetes/job_status.h"

namespace fabrique::tower {
namespace {

std::string JobsPath(absl::string_view ns) {
  return absl::StrCat("/apis/batch/v1/namespaces/", ns, "/jobs");
}

nlohmann::json ParseObject(const std::string& body) {
  nlohmann::json object = nlohmann::json::parse(body, nullptr, false);
  return object.is_object() ? object : nlohmann::json::object();
}

}  // namespace

absl::StatusOr<std::unique_ptr<KubernetesExecutor>> KubernetesExecutor::Create(Options options) {
  if (options.clock == nullptr) return absl::InvalidArgumentError("the executor needs a clock");
  if (options.poll_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the Kubernetes poll interval must be positive");
  }
  auto api = KubernetesApiClient::Create(options.api);
  if (!api.ok()) return api.status();
  return std::unique_ptr<KubernetesExecutor>(
      new KubernetesExecutor(std::move(options), *std::move(api)));
}

KubernetesExecutor::KubernetesExecutor(Options options, std::unique_ptr<KubernetesApiClient> api)
    : options_(std::move(options)), api_(std::move(api)) {
  poller_ = std::thread([this] { PollLoop(); });
}

KubernetesExecutor::~KubernetesExecutor() {
  stopping_ = true;
  poller_.join();
}

absl::Status KubernetesExecutor::Count(absl::Status status) {
  if (!status.ok()) {
    ++api_errors_;
    if (options_.on_error) options_.on_error();
  }
  return status;
}

absl::Status KubernetesExecutor::Start(const v1::Job& job, ExecutionSink* sink) {
  absl::StatusOr<std::string> ns = SquadNamespace(options_.manifest, job.squad());
  if (!ns.ok()) return ns.status();
  absl::StatusOr<nlohmann::json> manifest = BuildJob(options_.manifest, job, *ns);
  if (!manifest.ok()) return manifest.status();
  const std::string name = KubernetesJobName(job);
  const std::string what = absl::StrCat("Job ", *ns, "/", name);

  // Strict: a field the API does not know is refused (400) rather than dropped in silence.
  absl::StatusOr<ApiAnswer> created = api_->Call(
      "POST", absl::StrCat(JobsPath(*ns), "?fieldValidation=Strict"), what, manifest->dump());
  if (absl::IsAlreadyExists(created.status())) {
    // Started before a restart: read it back for its uid (the ConfigMap's owner).
    created = api_->Call("GET", absl::StrCat(JobsPath(*ns), "/", name), what);
  }
  if (!created.ok()) return Count(created.status());
  const std::string uid =
      ParseObject(created->body).value("metadata", nlohmann::json::object()).value("uid", "");

  absl::StatusOr<nlohmann::json> config_map = BuildRunSpecConfigMap(job, *ns, name, uid);
  if (!config_map.ok()) return config_map.status();
  absl::StatusOr<ApiAnswer> spec = api_->Call(
      "POST", absl::StrCat("/api/v1/namespaces/", *ns, "/configmaps?fieldValidation=Strict"),
      absl::StrCat("ConfigMap ", *ns, "/", name), config_map->dump());
  if (!spec.ok() && !absl::IsAlreadyExists(spec.status())) return Count(spec.status());
  return Track(job, *ns, name, sink);
}

absl::Status KubernetesExecutor::Follow(const v1::Job& job, ExecutionSink* sink) {
  std::string ns = job.kubernetes_namespace();
  if (ns.empty()) {
    absl::StatusOr<std::string> squad_ns = SquadNamespace(options_.manifest, job.squad());
    if (!squad_ns.ok()) return squad_ns.status();
    ns = *squad_ns;
  }
  std::string name =
      job.kubernetes_job_name().empty() ? KubernetesJobName(job) : job.kubernetes_job_name();
  return Track(job, std::move(ns), std::move(name), sink);
}

absl::Status KubernetesExecutor::Track(const v1::Job& job, std::string ns, std::string name,
                                       ExecutionSink* sink) {
  if (sink == nullptr) return absl::InvalidArgumentError("following a job needs a sink");
  auto followed = std::make_shared<Followed>();
  followed->job = job;
  followed->sink = sink;
  followed->ns = std::move(ns);
  followed->name = std::move(name);
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = followed_.try_emplace(job.id(), followed);
  if (!inserted) {
    absl::MutexLock job_lock(&it->second->mu);
    // A later attempt (after a preemption) replaces the earlier one.
    if (it->second->name != followed->name) it->second = followed;
  }
  return absl::OkStatus();
}

absl::Status KubernetesExecutor::Stop(const v1::Job& job, absl::string_view reason) {
  std::shared_ptr<Followed> followed;
  std::string ns = job.kubernetes_namespace();
  std::string name = job.kubernetes_job_name();
  {
    absl::MutexLock lock(&mu_);
    auto it = followed_.find(job.id());
    if (it != followed_.end()) {
      followed = it->second;
      followed_.erase(it);
      ns = followed->ns;
      name = followed->name;
    }
  }
  if (ns.empty()) {
    absl::StatusOr<std::string> squad_ns = SquadNamespace(options_.manifest, job.squad());
    if (!squad_ns.ok()) return squad_ns.status();
    ns = *squad_ns;
  }
  if (name.empty()) name = KubernetesJobName(job);
  if (followed != nullptr) {
    absl::MutexLock job_lock(&followed->mu);
    followed->stopping = true;
  }
  absl::StatusOr<ApiAnswer> deleted =
      api_->Call("DELETE", absl::StrCat(JobsPath(ns), "/", name, "?propagationPolicy=Background"),
                 absl::StrCat("Job ", ns, "/", name));
  if (!deleted.ok() && !absl::IsNotFound(deleted.status())) {
    // Not stopped: keep following it, so its end is still reported.
    if (followed != nullptr) {
      {
        absl::MutexLock job_lock(&followed->mu);
        followed->stopping = false;
      }
      absl::MutexLock lock(&mu_);
      followed_.try_emplace(job.id(), followed);
    }
    return Count(deleted.status());
  }
  if (followed == nullptr) return absl::OkStatus();
  absl::MutexLock job_lock(&followed->mu);
  if (followed->done) return absl::OkStatus();
  followed->done = true;
  ExecutionUpdate update;
  update.job_id = job.id();
  update.state = v1::JOB_STATE_CANCELLED;
  update.reason = std::string(reason);
  update.kubernetes_job_name = followed->name;
  update.kubernetes_namespace = followed->ns;
  if (followed->start_time != absl::InfinitePast()) {
    update.usage = JobUsage(followed->job, options_.clock->Now() - followed->start_time);
  }
  followed->sink->OnUpdate(update);
  return absl::OkStatus();
}

void KubernetesExecutor::PollLoop() {
  while (!stopping_) {
    options_.clock->SleepUntil(options_.clock->Now() + options_.poll_interval,
                               [this] { return stopping_.load(); });
    if (stopping_) break;
    std::vector<std::shared_ptr<Followed>> jobs;
    {
      absl::MutexLock lock(&mu_);
      for (const auto& [id, followed] : followed_) jobs.push_back(followed);
    }
    for (const std::shared_ptr<Followed>& followed : jobs) {
      if (stopping_) break;
      Poll(*followed);
      bool done;
      {
        absl::MutexLock job_lock(&followed->mu);
        done = followed->done;
      }
      if (done) {
        absl::MutexLock lock(&mu_);
        auto it = followed_.find(followed->job.id());
        if (it != followed_.end() && it->second == followed) followed_.erase(it);
      }
    }
  }
}

void KubernetesExecutor::Poll(Followed& followed) {
  absl::MutexLock job_lock(&followed.mu);
  if (followed.done || followed.stopping) return;
  const std::string what = absl::StrCat("Job ", followed.ns, "/", followed.name);
  absl::StatusOr<ApiAnswer> read =
      api_->Call("GET", absl::StrCat(JobsPath(followed.ns), "/", followed.name), what);
  ExecutionUpdate update;
  if (absl::IsNotFound(read.status())) {
    update.job_id = followed.job.id();
    update.state = v1::JOB_STATE_FAILED;
    update.reason = absl::StrCat("Kubernetes ", what, " was deleted outside the tower");
    update.kubernetes_job_name = followed.name;
    update.kubernetes_namespace = followed.ns;
  } else if (!read.ok()) {
    ++api_errors_;  // Tried again at the next poll.
    return;
  } else {
    nlohmann::json object = ParseObject(read->body);
    update = ReadJobStatus(followed.job, object, options_.clock->Now());
    update.kubernetes_job_name = followed.name;
    update.kubernetes_namespace = followed.ns;
    const nlohmann::json status = object.value("status", nlohmann::json::object());
    followed.start_time = ParseApiTime(status.value("startTime", nlohmann::json()));
  }
  if (update.state == v1::JOB_STATE_UNSPECIFIED) return;
  const absl::Time now = options_.clock->Now();
  if (update.state == followed.last_state) {
    const absl::Duration every = options_.running_report_interval;
    if (every <= absl::ZeroDuration() || now - followed.last_report < every) return;
  }
  const bool ended = update.state != v1::JOB_STATE_RUNNING;
  if (ended) ReadResult(followed, &update);
  followed.last_state = update.state;
  followed.last_report = now;
  followed.done = ended;
  followed.sink->OnUpdate(update);
}

void KubernetesExecutor::ReadResult(const Followed& followed, ExecutionUpdate* update) {
  absl::StatusOr<ApiAnswer> pods =
      api_->Call("GET",
                 absl::StrCat("/api/v1/namespaces/", followed.ns, "/pods?labelSelector=job-name%3D",
                              followed.name),
                 absl::StrCat("pods of Job ", followed.ns, "/", followed.name));
  if (!pods.ok()) {
    ++api_errors_;  // The outcome stands; only the registered version is missing.
    return;
  }
  nlohmann::json list = ParseObject(pods->body);
  for (const nlohmann::json& pod : list.value("items", nlohmann::json::array())) {
    const nlohmann::json status = pod.value("status", nlohmann::json::object());
    for (const nlohmann::json& container :
         status.value("containerStatuses", nlohmann::json::array())) {
      const nlohmann::json terminated = container.value("state", nlohmann::json::object())
                                            .value("terminated", nlohmann::json::object());
      const std::string message = terminated.value("message", "");
      if (container.value("name", "") == "trainer" && !message.empty()) {
        ReadTerminationMessage(message, update);
        return;
      }
    }
  }
}

}  // namespace fabrique::tower
