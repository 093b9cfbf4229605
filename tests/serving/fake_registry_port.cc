#include "tests/serving/fake_registry_port.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace fabrique::serving::testing {

void FakeRegistryPort::Send(const v1::WatchEvent& event) {
  absl::MutexLock lock(&mu_);
  items_.push_back({event, absl::OkStatus()});
}

void FakeRegistryPort::End(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  items_.push_back({std::nullopt, status});
}

std::vector<v1::WatchRequest> FakeRegistryPort::watch_requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

int64_t FakeRegistryPort::events_delivered() const {
  absl::MutexLock lock(&mu_);
  return delivered_;
}

void FakeRegistryPort::PutModel(const v1::Model& model) {
  absl::MutexLock lock(&mu_);
  models_[model.name()] = model;
}

void FakeRegistryPort::PutVersion(const v1::ModelVersion& version) {
  absl::MutexLock lock(&mu_);
  versions_[{version.model(), version.version()}] = version;
}

void FakeRegistryPort::PutPolicy(const v1::TrafficPolicy& policy) {
  absl::MutexLock lock(&mu_);
  policies_[policy.model()] = policy;
}

void FakeRegistryPort::FailGetVersion(const absl::Status& status, int count) {
  absl::MutexLock lock(&mu_);
  get_version_failure_ = status;
  get_version_failures_ = count;
}

int64_t FakeRegistryPort::get_version_calls() const {
  absl::MutexLock lock(&mu_);
  return get_version_calls_;
}

void FakeRegistryPort::PutArtifact(const std::string& sha256, std::string bytes) {
  absl::MutexLock lock(&mu_);
  artifacts_[sha256] = std::move(bytes);
}

void FakeRegistryPort::BreakDownloads(std::vector<int64_t> after_bytes) {
  absl::MutexLock lock(&mu_);
  breaks_.assign(after_bytes.begin(), after_bytes.end());
}

void FakeRegistryPort::HoldDownloads() {
  absl::MutexLock lock(&mu_);
  hold_ = true;
}

void FakeRegistryPort::ReleaseDownloads() {
  absl::MutexLock lock(&mu_);
  hold_ = false;
}

int64_t FakeRegistryPort::download_calls() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(offsets_.size());
}

std::vector<int64_t> FakeRegistryPort::download_offsets() const {
  absl::MutexLock lock(&mu_);
  return offsets_;
}

absl::Status FakeRegistryPort::Watch(
    const v1::WatchRequest& request,
    const std::function<absl::Status(const v1::WatchEvent&)>& on_event) {
  {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request);
  }
  while (true) {
    Item item;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](FakeRegistryPort* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->shutdown_ || !self->items_.empty();
          },
          this));
      if (shutdown_) return absl::CancelledError("the registry port was shut down");
      item = std::move(items_.front());
      items_.pop_front();
      if (item.event.has_value()) ++delivered_;
    }
    if (!item.event.has_value()) return item.end;
    const absl::Status status = on_event(*item.event);
    if (!status.ok()) return status;
  }
}

absl::StatusOr<v1::Model> FakeRegistryPort::GetModel(const std::string& name) {
  absl::MutexLock lock(&mu_);
  if (shutdown_) return absl::CancelledError("the registry port was shut down");
  const auto it = models_.find(name);
  if (it == models_.end()) return absl::NotFoundError(absl::StrCat("model ", name, " not found"));
  return it->second;
}

absl::StatusOr<v1::ModelVersion> FakeRegistryPort::GetVersion(const v1::ModelVersionRef& ref) {
  absl::MutexLock lock(&mu_);
  ++get_version_calls_;
  if (shutdown_) return absl::CancelledError("the registry port was shut down");
  if (get_version_failures_ > 0) {
    --get_version_failures_;
    return get_version_failure_;
  }
  const auto it = versions_.find({ref.model(), ref.version()});
  if (it == versions_.end()) {
    return absl::NotFoundError(
        absl::StrCat("model ", ref.model(), " version ", ref.version(), " not found"));
  }
  return it->second;
}

std::vector<std::pair<v1::ModelVersionRef, v1::VersionEvaluation>> FakeRegistryPort::evaluations()
    const {
  absl::MutexLock lock(&mu_);
  return evaluations_;
}

absl::StatusOr<v1::ModelVersion> FakeRegistryPort::AppendEvaluation(
    const v1::ModelVersionRef& ref, const v1::VersionEvaluation& evaluation) {
  absl::MutexLock lock(&mu_);
  if (shutdown_) return absl::CancelledError("the registry port was shut down");
  const auto it = versions_.find({ref.model(), ref.version()});
  if (it == versions_.end()) {
    return absl::NotFoundError(
        absl::StrCat("model ", ref.model(), " version ", ref.version(), " not found"));
  }
  *it->second.add_evaluations() = evaluation;
  evaluations_.emplace_back(ref, evaluation);
  return it->second;
}

absl::StatusOr<v1::TrafficPolicy> FakeRegistryPort::GetTrafficPolicy(const std::string& model) {
  absl::MutexLock lock(&mu_);
  if (shutdown_) return absl::CancelledError("the registry port was shut down");
  const auto it = policies_.find(model);
  if (it != policies_.end()) return it->second;
  v1::TrafficPolicy policy;
  policy.set_model(model);
  return policy;
}

absl::Status FakeRegistryPort::Download(
    const std::string& sha256, int64_t offset,
    const std::function<absl::Status(absl::string_view)>& write) {
  std::string bytes;
  int64_t stop_at = -1;
  {
    absl::MutexLock lock(&mu_);
    offsets_.push_back(offset);
    mu_.Await(absl::Condition(
        +[](FakeRegistryPort* self)
             ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) { return self->shutdown_ || !self->hold_; },
        this));
    if (shutdown_) return absl::CancelledError("the registry port was shut down");
    const auto it = artifacts_.find(sha256);
    if (it == artifacts_.end()) {
      return absl::NotFoundError(absl::StrCat("artifact ", sha256, " not found"));
    }
    bytes = it->second;
    if (!breaks_.empty()) {
      stop_at = offset + breaks_.front();
      breaks_.pop_front();
    }
  }
  const int64_t end = stop_at < 0 ? static_cast<int64_t>(bytes.size())
                                  : std::min<int64_t>(stop_at, static_cast<int64_t>(bytes.size()));
  for (int64_t at = offset; at < end; at += chunk_size) {
    const int64_t size = std::min<int64_t>(chunk_size, end - at);
    const absl::Status status = write(absl::string_view(bytes).substr(at, size));
    if (!status.ok()) return status;
  }
  if (stop_at >= 0) return absl::UnavailableError("the download stream broke");
  return absl::OkStatus();
}

void FakeRegistryPort::Shutdown() {
  absl::MutexLock lock(&mu_);
  shutdown_ = true;
}

}  // namespace fabrique::serving::testing
