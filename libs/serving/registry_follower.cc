#include "libs/serving/registry_follower.h"

#include <algorithm>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/core/log.h"
#include "libs/core/status_macros.h"

namespace fabrique::serving {
namespace {

constexpr char kDefaultPrimary[] = "production";
constexpr char kDefaultCandidate[] = "candidate";

// The policy a model has until one is set: as the registry's GetTrafficPolicy answers.
v1::TrafficPolicy DefaultPolicy(const std::string& model) {
  v1::TrafficPolicy policy;
  policy.set_model(model);
  policy.set_canary_routing(v1::CANARY_ROUTING_ENTITY_HASH);
  return policy;
}

v1::TrafficPolicy WithDefaults(v1::TrafficPolicy policy) {
  if (policy.primary_alias().empty()) policy.set_primary_alias(kDefaultPrimary);
  if (policy.candidate_alias().empty()) policy.set_candidate_alias(kDefaultCandidate);
  return policy;
}

int64_t AliasOf(const v1::Model& model, const std::string& alias) {
  const auto it = model.aliases().find(alias);
  return it == model.aliases().end() ? 0 : it->second;
}

// Whether two plans serve the same thing (their revisions aside).
bool SameServing(const ServingPlan& a, const ServingPlan& b) {
  if (a.models.size() != b.models.size()) return false;
  for (size_t i = 0; i < a.models.size(); ++i) {
    const ServedModelPlan& x = a.models[i];
    const ServedModelPlan& y = b.models[i];
    if (x.model != y.model || x.owner_squad != y.owner_squad ||
        x.primary_version != y.primary_version || x.candidate_version != y.candidate_version ||
        x.versions.size() != y.versions.size() ||
        x.policy.SerializeAsString() != y.policy.SerializeAsString()) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RegistryFollower>> RegistryFollower::Create(Options options) {
  if (options.registry == nullptr) {
    return absl::InvalidArgumentError(
        "RegistryFollowerOptions.registry is null: pass the registry port");
  }
  if (!options.on_plan) {
    return absl::InvalidArgumentError(
        "RegistryFollowerOptions.on_plan is empty: pass what applies a plan");
  }
  if (options.backoff.initial <= absl::ZeroDuration() ||
      options.backoff.max < options.backoff.initial || options.backoff.jitter < 0 ||
      options.backoff.jitter > 1) {
    return absl::InvalidArgumentError(
        "RegistryFollowerOptions.backoff: initial must be positive, max at least initial, and "
        "jitter between 0 and 1");
  }
  if (options.clock == nullptr) options.clock = core::Clock::Real();
  return std::unique_ptr<RegistryFollower>(new RegistryFollower(std::move(options)));
}

RegistryFollower::RegistryFollower(Options options)
    : options_(std::move(options)),
      names_(options_.selector.models.begin(), options_.selector.models.end()) {}

RegistryFollower::~RegistryFollower() { Stop(); }

void RegistryFollower::Start() {
  if (started_.exchange(true)) return;
  if (options_.plan_store != nullptr) {
    absl::StatusOr<std::optional<ServingPlan>> stored = options_.plan_store->Load();
    if (!stored.ok()) {
      core::Log(core::LogLevel::kWarning, "stored_serving_plan_unreadable",
                {{"error", std::string(stored.status().message())}});
    } else if (stored->has_value()) {
      core::Log(core::LogLevel::kInfo, "stored_serving_plan_applied",
                {{"revision", (*stored)->revision},
                 {"models", static_cast<int64_t>((*stored)->models.size())}});
      options_.on_plan(**stored);
      revision_ = (*stored)->revision;
      last_plan_ = *std::move(*stored);
    }
  }
  thread_ = std::thread([this] { Run(); });
}

void RegistryFollower::Stop() {
  if (stopping_.exchange(true)) return;
  options_.registry->Shutdown();
  if (thread_.joinable()) thread_.join();
}

void RegistryFollower::Run() {
  absl::Duration backoff = options_.backoff.initial;
  while (!stopping_.load()) {
    const bool resuming = synced_;
    bool progressed = false;
    const absl::Status status = WatchOnce(&progressed);
    connected_ = false;
    if (stopping_.load()) break;
    if (progressed) backoff = options_.backoff.initial;
    if (absl::IsOutOfRange(status) && resuming) {
      // The registry no longer keeps the changes after our revision: start over from its state.
      core::Log(core::LogLevel::kWarning, "registry_watch_resync",
                {{"after_revision", revision_.load()}, {"reason", std::string(status.message())}});
      synced_ = false;
      continue;
    }
    const absl::Duration wait = NextBackoff(&backoff);
    core::Log(core::LogLevel::kWarning, "registry_watch_ended",
              {{"status", status.ToString()},
               {"retry_in_ms", absl::ToInt64Milliseconds(wait)},
               {"revision", revision_.load()}});
    options_.clock->SleepUntil(options_.clock->Now() + wait, [this] { return stopping_.load(); });
  }
}

absl::Duration RegistryFollower::NextBackoff(absl::Duration* current) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  const double jitter = options_.backoff.jitter;
  std::uniform_real_distribution<double> spread(1 - jitter, 1 + jitter);
  const absl::Duration wait = *current * spread(random);
  *current = std::min(*current * 2, options_.backoff.max);
  return wait;
}

absl::Status RegistryFollower::WatchOnce(bool* progressed) {
  v1::WatchRequest request;
  for (const std::string& name : options_.selector.models) request.add_models(name);
  // Revision 0 would mean "from now", not "from the start": with nothing applied yet, resync.
  if (synced_ && revision_.load() > 0) {
    request.set_after_revision(revision_.load());
  } else {
    synced_ = false;
    request.set_include_snapshot(true);
    staging_.clear();
  }
  return options_.registry->Watch(request, [&](const v1::WatchEvent& event) {
    connected_ = true;
    absl::Status applied = OnEvent(event);
    // Only progress resets the backoff: a change that keeps failing to apply is retried slowly.
    if (applied.ok()) *progressed = true;
    return applied;
  });
}

absl::Status RegistryFollower::OnEvent(const v1::WatchEvent& event) {
  if (stopping_.load()) return absl::CancelledError("the registry follower is stopping");
  switch (event.type()) {
    case v1::WATCH_EVENT_TYPE_SNAPSHOT_COMPLETE:
      // Synced only once its plan is out: a snapshot that could not be published is taken again.
      models_ = std::move(staging_);
      staging_.clear();
      RETURN_IF_ERROR(Publish(event.revision(), /*always=*/true));
      synced_ = true;
      snapshot_applied_ = true;
      return absl::OkStatus();
    case v1::WATCH_EVENT_TYPE_BOOKMARK:
      if (synced_) revision_ = std::max(revision_.load(), event.revision());
      return absl::OkStatus();
    default:
      break;
  }
  if (!synced_) return Apply(event, &staging_);
  RETURN_IF_ERROR(Apply(event, &models_));
  return Publish(event.revision(), /*always=*/false);
}

absl::Status RegistryFollower::Apply(const v1::WatchEvent& event, Models* models) {
  const std::string& name = event.model();
  switch (event.type()) {
    case v1::WATCH_EVENT_TYPE_MODEL_CREATED: {
      auto [it, inserted] = models->try_emplace(name);
      if (inserted) it->second.policy = DefaultPolicy(name);
      it->second.record = event.model_object();
      return absl::OkStatus();
    }
    case v1::WATCH_EVENT_TYPE_MODEL_UPDATED: {
      ASSIGN_OR_RETURN(ModelState * state, Known(name, models));
      if (state != nullptr) state->record = event.model_object();
      return absl::OkStatus();
    }
    case v1::WATCH_EVENT_TYPE_ALIAS_SET: {
      ASSIGN_OR_RETURN(ModelState * state, Known(name, models));
      if (state != nullptr) {
        (*state->record.mutable_aliases())[event.alias().name()] = event.alias().version();
      }
      return absl::OkStatus();
    }
    case v1::WATCH_EVENT_TYPE_ALIAS_DELETED: {
      ASSIGN_OR_RETURN(ModelState * state, Known(name, models));
      if (state != nullptr) state->record.mutable_aliases()->erase(event.alias().name());
      return absl::OkStatus();
    }
    case v1::WATCH_EVENT_TYPE_TRAFFIC_POLICY_CHANGED: {
      ASSIGN_OR_RETURN(ModelState * state, Known(name, models));
      if (state != nullptr) state->policy = event.traffic_policy();
      return absl::OkStatus();
    }
    case v1::WATCH_EVENT_TYPE_VERSION_DELETED:
      versions_.erase({name, event.version().version()});
      return absl::OkStatus();
    default:
      // Registrations, archivals (their aliases are released by events of their own) and
      // promotions change nothing served.
      return absl::OkStatus();
  }
}

absl::StatusOr<RegistryFollower::ModelState*> RegistryFollower::Known(const std::string& name,
                                                                      Models* models) {
  const auto it = models->find(name);
  if (it != models->end()) return &it->second;
  // A change to a model whose creation this follower did not see (it became visible to the
  // server since): read its record, which already holds the change.
  absl::StatusOr<v1::Model> record = options_.registry->GetModel(name);
  if (absl::IsNotFound(record.status())) return nullptr;
  RETURN_IF_ERROR(record.status());
  absl::StatusOr<v1::TrafficPolicy> policy = options_.registry->GetTrafficPolicy(name);
  RETURN_IF_ERROR(policy.status());
  ModelState& state = (*models)[name];
  state.record = *std::move(record);
  state.policy = *std::move(policy);
  return &state;
}

absl::Status RegistryFollower::Publish(int64_t revision, bool always) {
  ASSIGN_OR_RETURN(ServingPlan plan, BuildPlan(revision));
  if (always || !last_plan_.has_value() || !SameServing(*last_plan_, plan)) {
    Prefetch(plan);
    options_.on_plan(plan);
    core::Log(core::LogLevel::kInfo, "serving_plan_applied",
              {{"revision", revision}, {"models", static_cast<int64_t>(plan.models.size())}});
    if (options_.plan_store != nullptr) {
      const absl::Status saved = options_.plan_store->Save(plan);
      if (!saved.ok()) {
        core::Log(core::LogLevel::kWarning, "serving_plan_not_saved",
                  {{"error", std::string(saved.message())}});
      }
    }
    last_plan_ = std::move(plan);
  }
  // Set, not raised: a snapshot of a registry restored from backup may be older than the plan
  // stored before, and resuming must start from the registry's own revision.
  revision_ = revision;
  return absl::OkStatus();
}

absl::StatusOr<ServingPlan> RegistryFollower::BuildPlan(int64_t revision) {
  ServingPlan plan;
  plan.revision = revision;
  for (const auto& [name, state] : models_) {
    ASSIGN_OR_RETURN(std::optional<ServedModelPlan> model, PlanModel(state));
    if (model.has_value()) plan.models.push_back(*std::move(model));
  }
  return plan;
}

bool RegistryFollower::Selected(const ModelState& state) const {
  if (!names_.empty()) return names_.count(state.record.name()) > 0;
  if (!options_.selector.squad.empty()) {
    return state.record.owner_squad() == options_.selector.squad;
  }
  return AliasOf(state.record, WithDefaults(state.policy).primary_alias()) > 0;
}

absl::StatusOr<std::optional<ServedModelPlan>> RegistryFollower::PlanModel(
    const ModelState& state) {
  if (!Selected(state)) return std::nullopt;
  ServedModelPlan model;
  model.model = state.record.name();
  model.owner_squad = state.record.owner_squad();
  model.policy = WithDefaults(state.policy);
  model.primary_version = AliasOf(state.record, model.policy.primary_alias());
  if (model.policy.canary_percent() > 0 || model.policy.shadow()) {
    model.candidate_version = AliasOf(state.record, model.policy.candidate_alias());
  }
  for (int64_t* number : {&model.primary_version, &model.candidate_version}) {
    if (*number == 0) continue;
    absl::StatusOr<v1::ModelVersion> record = Version(model.model, *number);
    if (absl::IsNotFound(record.status())) {
      // Deleted between the alias event and now: its own events follow.
      core::Log(core::LogLevel::kWarning, "served_version_not_found",
                {{"model", model.model}, {"version", *number}});
      *number = 0;
      continue;
    }
    RETURN_IF_ERROR(record.status());
    model.versions[*number] = *std::move(record);
  }
  return model;
}

absl::StatusOr<v1::ModelVersion> RegistryFollower::Version(const std::string& model,
                                                           int64_t number) {
  const auto key = std::make_pair(model, number);
  const auto it = versions_.find(key);
  if (it != versions_.end()) return it->second;
  v1::ModelVersionRef ref;
  ref.set_model(model);
  ref.set_version(number);
  ASSIGN_OR_RETURN(v1::ModelVersion record, options_.registry->GetVersion(ref));
  versions_[key] = record;
  return record;
}

void RegistryFollower::Prefetch(const ServingPlan& plan) {
  if (options_.cache == nullptr) return;
  for (const ServedModelPlan& model : plan.models) {
    for (const auto& [number, version] : model.versions) {
      if (stopping_.load()) return;
      // A module that cannot be fetched now is not fatal to the plan: the model set's load
      // fails with the reason, and the previous version keeps serving.
      const absl::Status fetched = options_.cache->FetchModule(version).status();
      if (!fetched.ok()) {
        core::Log(core::LogLevel::kWarning, "module_prefetch_failed",
                  {{"model", model.model},
                   {"version", number},
                   {"error", std::string(fetched.message())}});
      }
    }
  }
}

}  // namespace fabrique::serving
