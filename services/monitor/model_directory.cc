#include "services/monitor/model_directory.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace fabrique::services {

ModelDirectory::ModelDirectory(ModelDirectoryOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : core::Clock::Real()) {}

bool ModelDirectory::NeedsLookup(const std::string& model, int64_t version, absl::Time now) const {
  auto it = entries_.find(model);
  if (it == entries_.end()) return true;
  const Entry& entry = it->second;
  if (entry.failed_at > entry.read_at) return now - entry.failed_at >= options_.retry_after;
  if (now - entry.read_at >= options_.ttl) return true;
  return version > entry.facts.latest_version && now - entry.read_at >= options_.recheck_after;
}

void ModelDirectory::Refresh(const std::string& model, int64_t version) {
  {
    absl::MutexLock lock(&mu_);
    if (!NeedsLookup(model, version, clock_->Now())) return;
  }
  // The registry is asked without the lock: other models' answers are not held up by this one.
  absl::StatusOr<v1::Model> read = options_.lookup(model);
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  Entry& entry = entries_[model];
  if (read.ok()) {
    entry.facts = {State::kFound, read->owner_squad(), read->task(), read->latest_version()};
    entry.read_at = now;
  } else if (absl::IsNotFound(read.status())) {
    entry.facts = Facts{State::kMissing};
    entry.read_at = now;
  } else {
    // Facts read before stay in use: stale is better than none while the registry is away.
    entry.failed_at = now;
    if (options_.on_unavailable) options_.on_unavailable();
  }
}

ModelDirectory::Facts ModelDirectory::Get(absl::string_view model) const {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(model);
  return it == entries_.end() ? Facts{} : it->second.facts;
}

bool ModelDirectory::Known(absl::string_view model, int64_t version) const {
  const Facts facts = Get(model);
  switch (facts.state) {
    case State::kUnreachable:
      return true;
    case State::kMissing:
      return false;
    case State::kFound:
      return version >= 1 && version <= facts.latest_version;
  }
  return true;
}

v1::Task ModelDirectory::TaskOf(absl::string_view model) const {
  const Facts facts = Get(model);
  return facts.state == State::kFound ? facts.task : v1::TASK_UNSPECIFIED;
}

std::function<absl::StatusOr<std::string>(absl::string_view kind, absl::string_view name)>
MonitoredModelOwners(ModelDirectory* directory) {
  return
      [directory](absl::string_view kind, absl::string_view name) -> absl::StatusOr<std::string> {
        if (kind != "model") {
          return absl::NotFoundError(absl::StrCat("the monitor keeps no ", kind, " '", name, "'"));
        }
        const std::string model(name);
        directory->Refresh(model);
        const ModelDirectory::Facts facts = directory->Get(model);
        switch (facts.state) {
          case ModelDirectory::State::kFound:
            return facts.owner_squad;
          case ModelDirectory::State::kMissing:
            return absl::NotFoundError(absl::StrCat("model '", model, "' is not in the registry"));
          case ModelDirectory::State::kUnreachable:
            break;
        }
        return absl::UnavailableError(
            absl::StrCat("the registry could not be asked which squad owns model '", model, "'"));
      };
}

}  // namespace fabrique::services
