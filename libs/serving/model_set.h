#ifndef FABRIQUE_LIBS_SERVING_MODEL_SET_H_
#define FABRIQUE_LIBS_SERVING_MODEL_SET_H_

// Every model version this server serves, and the routing of requests to them: the inference
// adapters' only entry into serving.
//
//   ASSIGN_OR_RETURN(auto set, ModelSet::Create({.loader = &loader, .fetch_module = fetch}));
//   set->Apply(plan);                                  // from the registry follower; returns at
//   once ASSIGN_OR_RETURN(Route route, set->Resolve("churn", 0, "", entity_key));
//   route.version->Submit(std::move(rows), deadline, done);   // `route` kept until `done`
//
// Apply loads new versions in the background; a model's primary and candidate switch, each in
// one step under the set's lock, only once the version they move to is READY, so requests never
// see a version that cannot answer. A version that fails to load is FAILED and the previous one
// keeps serving. A version the plan no longer names leaves routing at once and is released when
// the last request holding it is answered.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "fabrique/v1/registry.pb.h"
#include "libs/core/clock.h"
#include "libs/core/executor.h"
#include "libs/serving/canary_router.h"
#include "libs/serving/dynamic_batcher.h"
#include "libs/serving/loaded_module.h"
#include "libs/serving/model_set_observer.h"
#include "libs/serving/served_model_status.h"
#include "libs/serving/served_version.h"
#include "libs/serving/serving_plan.h"

namespace fabrique::serving {

// Where one request (or one row) goes. Holding it keeps its versions alive: keep it until the
// request is answered.
struct Route {
  std::shared_ptr<ServedVersion> version;
  std::string alias;                      // Alias it was reached through; "" when by number.
  bool canary = false;                    // Sent to the candidate by the canary share.
  std::shared_ptr<ServedVersion> shadow;  // Also score here, off the request path; may be null.
  // Whether the traffic policy may route another routing key elsewhere (a candidate is served).
  // When false, every row of a request goes where its first does: routed once, not per row.
  bool by_key = false;
};

struct ModelSetOptions {
  // Loads modules. Required; not owned; outlives the set.
  ModuleLoader* loader = nullptr;
  // The local path of a version's TorchScript module, fetched and verified when needed. Called
  // on a loader thread. Required.
  std::function<absl::StatusOr<std::string>(const v1::ModelVersion&)> fetch_module;
  // Device and warm-up batch sizes; warm-up sizes empty = the model's preferred batch sizes and
  // its maximum batch size.
  LoadOptions load;
  // The batching of every model (default: BatcherOptions' defaults)...
  BatcherOptions batching;
  // ...overridden per model name.
  std::map<std::string, BatcherOptions> batching_by_model;
  // Versions loading at once, at least 1. Default 1: a load is CPU- and memory-heavy.
  int loader_threads = 1;
  // Metrics hooks; not owned; may be null.
  ModelSetObserver* observer = nullptr;
  // Keys the random canary draws; 0 (default) = seeded from std::random_device.
  uint64_t routing_seed = 0;
  // Load times and swap durations; the real clock by default. Not owned.
  core::Clock* clock = core::Clock::Real();
};

class ModelSet {
 public:
  // INVALID_ARGUMENT naming the option when loader or fetch_module is missing or
  // loader_threads < 1.
  static absl::StatusOr<std::unique_ptr<ModelSet>> Create(ModelSetOptions options);
  ~ModelSet();  // Stop().

  ModelSet(const ModelSet&) = delete;
  ModelSet& operator=(const ModelSet&) = delete;

  // Adopts `plan` and returns at once: loads, in the background, every version it names that is
  // not loaded (a version still draining is taken back at once; one that failed UNAVAILABLE,
  // for want of the registry, is tried again; other failures stay FAILED); switches each model's
  // primary and candidate when the version they move to is READY; sends the versions it no longer
  // names UNLOADING. A model absent from the plan leaves routing with all its versions. Ignored
  // after Stop.
  void Apply(const ServingPlan& plan);

  // The route for one request to `model`:
  //  - `version` > 0: that version. NOT_FOUND when not served, UNAVAILABLE when LOADING or FAILED.
  //  - `alias` non-empty: the version the alias names (the primary and candidate aliases: the
  //    version answering for them now). NOT_FOUND when no served version has it.
  //  - neither: the traffic policy. The primary answers, except the canary share, which goes to
  //    the candidate by the hash of `routing_key` (the entity key), or at random when the policy
  //    says RANDOM or `routing_key` is empty; with shadow, the candidate also scores the rows
  //    the primary answers. Canary and shadow only while the candidate is READY. UNAVAILABLE
  //    while the primary is not READY yet; NOT_FOUND when the primary alias is unset.
  // NOT_FOUND naming what is served for an unknown model; UNAVAILABLE after Stop.
  absl::StatusOr<Route> Resolve(const std::string& model, int64_t version, const std::string& alias,
                                const std::string& routing_key) const;

  // A plan applied and every model whose primary alias is set answered by a READY primary (the
  // previous one while a new one loads, so a failing new version does not take the server out
  // of rotation).
  bool Ready() const;
  // The revision of the plan in force; 0 before the first.
  int64_t revision() const;
  // Every model of the plan, by name, with its versions' states.
  std::vector<ServedModelStatus> Status() const;

  // Loads a copy of `record` beside production, for capacity validation: never routed to. Blocks
  // until it is READY (returned) or FAILED (its load error), DEADLINE_EXCEEDED past `deadline`
  // (the load goes on, then is released). Released when the caller and the set let go.
  absl::StatusOr<std::shared_ptr<ServedVersion>> LoadExtra(const v1::ModelVersion& record,
                                                           absl::Time deadline);

  // Stops loading (queued loads fail, loads in progress finish) and stops every batcher, which
  // computes what is queued. Later Applies are ignored, Resolves and LoadExtras UNAVAILABLE.
  // Idempotent.
  void Stop();

 private:
  struct ModelEntry;
  class Effects;

  explicit ModelSet(ModelSetOptions options);

  void AdoptModel(ModelEntry& entry, const ServedModelPlan& plan, absl::Time now, Effects& effects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::shared_ptr<ServedVersion> Take(ModelEntry& entry, int64_t version,
                                      const ServedModelPlan& plan, Effects& effects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Switch(ModelEntry& entry, absl::Time now, Effects& effects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Prune(ModelEntry& entry, Effects& effects) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Unload(ModelEntry& entry, const std::shared_ptr<ServedVersion>& version, Effects& effects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `extra`: loaded by LoadExtra, for its caller rather than for routing.
  void ScheduleLoad(std::shared_ptr<ServedVersion> version, bool extra, Effects& effects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void LoadVersion(const std::shared_ptr<ServedVersion>& version, bool extra);
  absl::Status LoadModule(ServedVersion& version) const;
  const BatcherOptions& BatchingFor(const std::string& model) const;
  // Calls the observer with the queued events, in order; one thread at a time.
  void DeliverEvents() ABSL_LOCKS_EXCLUDED(mu_);

  absl::StatusOr<Route> ResolvePolicy(const ModelEntry& entry, const std::string& routing_key) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::StatusOr<Route> ResolveAlias(const ModelEntry& entry, const std::string& alias) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::StatusOr<Route> ResolveNumber(const ModelEntry& entry, int64_t version) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // `held` keeps the draining versions reported alive until the caller has released the lock.
  ServedModelStatus StatusOf(const ModelEntry& entry,
                             std::vector<std::shared_ptr<ServedVersion>>& held) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const ModelSetOptions options_;
  mutable CanaryRouter router_;

  absl::Mutex stop_mu_;  // Serialises Stop.
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool applied_ ABSL_GUARDED_BY(mu_) = false;
  int64_t revision_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, std::unique_ptr<ModelEntry>> models_ ABSL_GUARDED_BY(mu_);
  std::vector<std::weak_ptr<ServedVersion>> extras_ ABSL_GUARDED_BY(mu_);
  // Observer calls waiting for delivery, in the order their steps happened.
  std::vector<std::function<void(ModelSetObserver&)>> events_ ABSL_GUARDED_BY(mu_);
  absl::Mutex deliver_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // Held while delivering.
  // Loader threads; reset (joined) by Stop. Its tasks take mu_, so it is never reset under it.
  std::unique_ptr<core::Executor> loaders_;
};

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_MODEL_SET_H_
