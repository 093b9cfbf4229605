#ifndef FABRIQUE_SERVICES_MONITOR_MODEL_DIRECTORY_H_
#define FABRIQUE_SERVICES_MONITOR_MODEL_DIRECTORY_H_

// What the monitor needs to know of a model from the registry, cached: whether a version exists,
// the model's task (which decides the type of its labels) and the squad owning it (which decides
// who may log its outcomes). The intake asks under its write lock, so those answers come from the
// cache alone (Facts); Refresh, called before an append, is the only place that waits on the
// registry.
//
// The monitor must keep taking records while the registry is down: a model it cannot look up is
// then treated as known, its labels are checked by shape only, and each failed lookup is counted
// (on_unavailable). A failed lookup is not retried for `retry_after`, so a dead registry costs
// one short timeout per model now and then, not one per batch.
//
//   ModelDirectory directory({lookup, absl::Seconds(30)});
//   directory.Refresh("fraud", 3);
//   if (directory.Known("fraud", 3)) ...

#include <cstdint>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "fabrique/v1/registry.pb.h"
#include "libs/core/clock.h"

namespace fabrique::services {

struct ModelDirectoryOptions {
  // Reads a model from the registry: NOT_FOUND when the registry has no such model; any other
  // error means the registry could not answer. Required.
  std::function<absl::StatusOr<v1::Model>(const std::string& model)> lookup;
  // How long a looked-up model is trusted before it is read again. Default 30 s.
  absl::Duration ttl = absl::Seconds(30);
  // How long after a failed lookup the registry is not asked again about that model. Default 5 s.
  absl::Duration retry_after = absl::Seconds(5);
  // A version newer than the cached latest one is read again at most this often, so that a
  // version registered a moment ago is known without waiting for the TTL. Default 1 s.
  absl::Duration recheck_after = absl::Seconds(1);
  // Called once per lookup the registry failed to answer. Default: nothing.
  std::function<void()> on_unavailable;
  // Not owned. Default nullptr = the real clock.
  const core::Clock* clock = nullptr;
};

class ModelDirectory {
 public:
  // What the cache holds about a model.
  enum class State {
    kUnreachable,  // Never looked up successfully: the registry did not answer.
    kFound,
    kMissing,  // The registry has no such model.
  };
  struct Facts {
    State state = State::kUnreachable;
    std::string owner_squad;
    v1::Task task = v1::TASK_UNSPECIFIED;
    int64_t latest_version = 0;
  };

  explicit ModelDirectory(ModelDirectoryOptions options);

  // Reads `model` from the registry when its cached facts are missing or older than the TTL, or
  // when `version` is newer than the cached latest version. Never fails: a registry that does
  // not answer leaves the facts as they were (or unreachable) and is counted.
  void Refresh(const std::string& model, int64_t version = 0);

  // The cached facts about `model` (kUnreachable when none); never calls the registry.
  Facts Get(absl::string_view model) const;
  // Whether the registry knows `model` `version`, from the cache; true when it could not be
  // asked, so that a registry outage does not flag every record.
  bool Known(absl::string_view model, int64_t version) const;
  // The model's task from the cache; TASK_UNSPECIFIED (labels checked by shape) when unknown.
  v1::Task TaskOf(absl::string_view model) const;

 private:
  struct Entry {
    Facts facts;
    absl::Time read_at = absl::InfinitePast();    // Of the last successful lookup.
    absl::Time failed_at = absl::InfinitePast();  // Of the last failed lookup.
  };
  bool NeedsLookup(const std::string& model, int64_t version, absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ModelDirectoryOptions options_;
  const core::Clock* const clock_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

// The access guard's owner lookup (auth::OwnerLookup) for the monitor's calls that name a model:
// its owner squad from `directory` (not owned); NOT_FOUND for a model the registry does not
// have, UNAVAILABLE while the registry cannot be asked.
std::function<absl::StatusOr<std::string>(absl::string_view kind, absl::string_view name)>
MonitoredModelOwners(ModelDirectory* directory);

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_MONITOR_MODEL_DIRECTORY_H_
