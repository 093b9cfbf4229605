#include "libs/serving/model_set.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/serving/model_set_entry.h"

namespace fabrique::serving {
namespace {

// Plenty: a plan names a handful of versions per model, each queued once.
constexpr int kMaxQueuedLoads = 1 << 16;

std::string VersionName(const ServedVersion& version) {
  return absl::StrCat("model '", version.model(), "' version ", version.version());
}

void DropExpired(std::vector<std::weak_ptr<ServedVersion>>& versions) {
  versions.erase(std::remove_if(versions.begin(), versions.end(),
                                [](const std::weak_ptr<ServedVersion>& v) { return v.expired(); }),
                 versions.end());
}

// A load that failed for want of something that may come back (the registry or the artifact
// store unreachable: UNAVAILABLE) is tried again by the next plan; a module that does not fit
// its signature, or a missing device, stays FAILED until the plan names another version.
bool Retriable(const ServedVersion& version) {
  return version.state() == VersionState::kFailed &&
         version.load_status().code() == absl::StatusCode::kUnavailable;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ModelSet>> ModelSet::Create(ModelSetOptions options) {
  if (options.loader == nullptr) {
    return absl::InvalidArgumentError("ModelSetOptions.loader is required (the module loader)");
  }
  if (!options.fetch_module) {
    return absl::InvalidArgumentError(
        "ModelSetOptions.fetch_module is required (where a version's module is fetched to)");
  }
  if (options.loader_threads < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("ModelSetOptions.loader_threads must be >= 1, not ", options.loader_threads));
  }
  if (options.clock == nullptr) options.clock = core::Clock::Real();
  const int threads = options.loader_threads;
  std::unique_ptr<ModelSet> set(new ModelSet(std::move(options)));
  core::Executor::Options loaders;
  loaders.name = "model loader";
  loaders.threads = threads;
  loaders.max_queue = kMaxQueuedLoads;
  ASSIGN_OR_RETURN(set->loaders_, core::Executor::Create(std::move(loaders)));
  return set;
}

ModelSet::ModelSet(ModelSetOptions options)
    : options_(std::move(options)), router_(options_.routing_seed) {}

ModelSet::~ModelSet() { Stop(); }

int64_t ModelSet::revision() const {
  absl::ReaderMutexLock lock(&mu_);
  return revision_;
}

void ModelSet::Apply(const ServingPlan& plan) {
  Effects effects(this);
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  const absl::Time now = options_.clock->Now();
  applied_ = true;
  revision_ = plan.revision;
  std::set<std::string> planned;
  for (const ServedModelPlan& model : plan.models) {
    planned.insert(model.model);
    std::unique_ptr<ModelEntry>& entry = models_[model.model];
    if (entry == nullptr) {
      entry = std::make_unique<ModelEntry>();
      entry->name = model.model;
    }
    AdoptModel(*entry, model, now, effects);
  }
  for (auto it = models_.begin(); it != models_.end();) {
    if (planned.count(it->first) > 0) {
      ++it;
      continue;
    }
    ModelEntry& gone = *it->second;
    gone.primary.reset();
    gone.candidate.reset();
    for (auto& [number, version] : gone.versions) Unload(gone, version, effects);
    it = models_.erase(it);
  }
}

void ModelSet::AdoptModel(ModelEntry& entry, const ServedModelPlan& plan, absl::Time now,
                          Effects& effects) {
  entry.policy = plan.policy;
  if (entry.policy.primary_alias().empty()) entry.policy.set_primary_alias("production");
  if (entry.policy.candidate_alias().empty()) entry.policy.set_candidate_alias("candidate");
  if (plan.primary_version != entry.planned_primary) {
    entry.planned_primary = plan.primary_version;
    entry.primary_asked = now;
  }
  if (plan.candidate_version != entry.planned_candidate) {
    entry.planned_candidate = plan.candidate_version;
    entry.candidate_asked = now;
  }
  entry.named.clear();
  for (const auto& [number, record] : plan.versions) entry.named.insert(number);
  if (plan.primary_version > 0) entry.named.insert(plan.primary_version);
  if (plan.candidate_version > 0) entry.named.insert(plan.candidate_version);
  for (int64_t number : entry.named) {
    auto it = entry.versions.find(number);
    if (it != entry.versions.end()) {
      if (!Retriable(*it->second)) continue;
      effects.Release(it->second);
    }
    entry.versions[number] = Take(entry, number, plan, effects);
  }
  Switch(entry, now, effects);
  Prune(entry, effects);
}

std::shared_ptr<ServedVersion> ModelSet::Take(ModelEntry& entry, int64_t number,
                                              const ServedModelPlan& plan, Effects& effects) {
  // A version still draining answers again at once: moving an alias back costs nothing.
  const auto draining = entry.unloading.find(number);
  if (draining != entry.unloading.end()) {
    std::shared_ptr<ServedVersion> revived = draining->second.lock();
    entry.unloading.erase(draining);
    if (revived != nullptr && revived->Revive()) {
      effects.State(*revived, VersionState::kReady);
      return revived;
    }
    effects.Release(std::move(revived));  // May be the last holder: released after the lock.
  }
  const auto record = plan.versions.find(number);
  if (record == plan.versions.end()) {
    v1::ModelVersion bare;
    bare.set_model(entry.name);
    bare.set_version(number);
    std::shared_ptr<ServedVersion> missing = ServedVersion::Create(std::move(bare));
    const std::string reason = absl::StrCat("the serving plan names version ", number,
                                            " of model '", entry.name, "' without its record");
    missing->MarkFailed(absl::FailedPreconditionError(reason));
    effects.State(*missing, VersionState::kFailed);
    effects.LoadFailed(*missing, reason);
    return missing;
  }
  v1::ModelVersion copy = record->second;
  copy.set_model(entry.name);
  copy.set_version(number);
  std::shared_ptr<ServedVersion> version = ServedVersion::Create(std::move(copy));
  effects.State(*version, VersionState::kLoading);
  ScheduleLoad(version, /*extra=*/false, effects);
  return version;
}

// Moves each role to the version the plan asks for once that one is READY; to nothing at once
// when the plan asks for nothing.
void ModelSet::Switch(ModelEntry& entry, absl::Time now, Effects& effects) {
  const auto move = [&](ServingRole role, std::shared_ptr<ServedVersion>& current, int64_t wanted,
                        absl::Time asked) {
    const int64_t from = current != nullptr ? current->version() : 0;
    if (from == wanted) return;
    std::shared_ptr<ServedVersion> next;
    if (wanted > 0) {
      const auto it = entry.versions.find(wanted);
      if (it == entry.versions.end() || it->second->state() != VersionState::kReady) return;
      next = it->second;
    }
    current = std::move(next);
    effects.Swap(entry.name, role, from, wanted, now - asked);
  };
  move(ServingRole::kPrimary, entry.primary, entry.planned_primary, entry.primary_asked);
  move(ServingRole::kCandidate, entry.candidate, entry.planned_candidate, entry.candidate_asked);
}

// Takes out of routing the versions the plan no longer names and no role answers with.
void ModelSet::Prune(ModelEntry& entry, Effects& effects) {
  for (auto it = entry.versions.begin(); it != entry.versions.end();) {
    const std::shared_ptr<ServedVersion>& version = it->second;
    if (entry.named.count(it->first) > 0 || version == entry.primary ||
        version == entry.candidate) {
      ++it;
      continue;
    }
    Unload(entry, version, effects);
    it = entry.versions.erase(it);
  }
  for (auto it = entry.unloading.begin(); it != entry.unloading.end();) {
    it = it->second.expired() ? entry.unloading.erase(it) : std::next(it);
  }
}

// A READY version drains (still answering what was routed to it); a LOADING one is dropped
// when its load ends; a FAILED one is forgotten.
void ModelSet::Unload(ModelEntry& entry, const std::shared_ptr<ServedVersion>& version,
                      Effects& effects) {
  if (version->MarkUnloading()) {
    effects.State(*version, VersionState::kUnloading);
    entry.unloading[version->version()] = version;
  }
  effects.Release(version);
}

void ModelSet::ScheduleLoad(std::shared_ptr<ServedVersion> version, bool extra, Effects& effects) {
  const absl::Status scheduled =
      loaders_->Schedule([this, version, extra] { LoadVersion(version, extra); });
  if (scheduled.ok()) return;
  version->MarkFailed(scheduled);
  effects.State(*version, VersionState::kFailed);
  effects.LoadFailed(*version, std::string(scheduled.message()));
}

const BatcherOptions& ModelSet::BatchingFor(const std::string& model) const {
  const auto it = options_.batching_by_model.find(model);
  return it != options_.batching_by_model.end() ? it->second : options_.batching;
}

absl::Status ModelSet::LoadModule(ServedVersion& version) const {
  absl::StatusOr<std::string> path = options_.fetch_module(version.record());
  if (!path.ok()) {
    return core::WithContext(path.status(),
                             absl::StrCat("fetching the module of ", VersionName(version)));
  }
  const BatcherOptions& batching = BatchingFor(version.model());
  LoadOptions load = options_.load;
  if (load.warmup_batch_sizes.empty()) {
    std::vector<int>& sizes = load.warmup_batch_sizes;
    sizes = batching.preferred_batch_sizes;
    if (sizes.empty() || sizes.back() != batching.max_batch_size) {
      sizes.push_back(batching.max_batch_size);
    }
  }
  absl::StatusOr<std::unique_ptr<LoadedModule>> module =
      options_.loader->Load(*path, version.record().signature(), load);
  if (!module.ok()) {
    return core::WithContext(module.status(),
                             absl::StrCat("loading ", VersionName(version), " from ", *path));
  }
  return version.Prepare(*std::move(module), batching);
}

// On a loader thread: loads, then under the lock marks the outcome and lets the model switch.
// A version the plan dropped while it loaded is discarded (its module freed with it).
void ModelSet::LoadVersion(const std::shared_ptr<ServedVersion>& version, bool extra) {
  bool stopping;
  {
    absl::ReaderMutexLock lock(&mu_);
    stopping = stopping_;
  }
  const absl::Status loaded =
      stopping ? absl::UnavailableError(
                     absl::StrCat("the model set stopped before loading ", VersionName(*version)))
               : LoadModule(*version);
  Effects effects(this);
  absl::MutexLock lock(&mu_);
  ModelEntry* entry = nullptr;
  if (!extra) {
    const auto model = models_.find(version->model());
    if (model != models_.end()) entry = model->second.get();
    const bool tracked = entry != nullptr && entry->versions.count(version->version()) > 0 &&
                         entry->versions.at(version->version()) == version;
    if (!tracked) return;
  }
  if (!loaded.ok()) {
    version->MarkFailed(loaded);
    effects.State(*version, VersionState::kFailed);
    effects.LoadFailed(*version, std::string(loaded.message()));
    return;
  }
  version->MarkReady(options_.clock->Now());
  effects.State(*version, VersionState::kReady);
  if (entry == nullptr) return;
  Switch(*entry, options_.clock->Now(), effects);
  Prune(*entry, effects);
}

absl::StatusOr<std::shared_ptr<ServedVersion>> ModelSet::LoadExtra(const v1::ModelVersion& record,
                                                                   absl::Time deadline) {
  std::shared_ptr<ServedVersion> version = ServedVersion::Create(record);
  {
    Effects effects(this);
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      return absl::UnavailableError(
          absl::StrCat("the model set is stopping; not loading ", VersionName(*version)));
    }
    DropExpired(extras_);
    extras_.push_back(version);
    effects.State(*version, VersionState::kLoading);
    ScheduleLoad(version, /*extra=*/true, effects);
  }
  options_.clock->SleepUntil(deadline,
                             [&version] { return version->state() != VersionState::kLoading; });
  switch (version->state()) {
    case VersionState::kReady:
      return version;
    case VersionState::kFailed:
      return version->load_status();
    default:
      return absl::DeadlineExceededError(absl::StrCat(
          VersionName(*version), " was still LOADING at the deadline; give it more time"));
  }
}

void ModelSet::DeliverEvents() {
  // An observer that calls back into the set from a hook must not wait for itself: the outer
  // delivery on this thread picks up what the inner step queued.
  thread_local const ModelSet* delivering = nullptr;
  if (delivering == this || options_.observer == nullptr) return;
  absl::MutexLock deliver(&deliver_mu_);
  const ModelSet* const outer = delivering;
  delivering = this;
  while (true) {
    std::vector<std::function<void(ModelSetObserver&)>> batch;
    {
      absl::MutexLock lock(&mu_);
      batch.swap(events_);
    }
    if (batch.empty()) break;
    for (const auto& call : batch) call(*options_.observer);
  }
  delivering = outer;
}

void ModelSet::Stop() {
  absl::MutexLock serial(&stop_mu_);
  if (loaders_ == nullptr) return;  // Stopped already.
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  loaders_.reset();  // Queued loads fail at once; loads in progress finish.
  std::vector<std::shared_ptr<ServedVersion>> versions;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, entry] : models_) {
      for (const auto& [number, version] : entry->versions) versions.push_back(version);
      for (const auto& [number, weak] : entry->unloading) {
        if (auto draining = weak.lock()) versions.push_back(std::move(draining));
      }
    }
    for (const auto& weak : extras_) {
      if (auto extra = weak.lock()) versions.push_back(std::move(extra));
    }
  }
  for (const auto& version : versions) version->StopBatcher();
}

}  // namespace fabrique::serving
