#ifndef FABRIQUE_LIBS_SERVING_REGISTRY_FOLLOWER_H_
#define FABRIQUE_LIBS_SERVING_REGISTRY_FOLLOWER_H_

// Keeps the inference server's plan in step with the registry. It watches the registry (a
// snapshot of the current state first, then every change), keeps each selected model's record
// and traffic policy, and hands a new ServingPlan to `on_plan` whenever what should be served
// changes: an alias moved or deleted, a traffic policy changed, a model created or moved between
// squads, a served version archived. The modules of a plan are fetched into the artifact cache
// before the plan is handed over, so the model set loads from local disk.
//
//   ASSIGN_OR_RETURN(auto follower, RegistryFollower::Create({.registry = port, ...,
//       .on_plan = [&](const ServingPlan& plan) { model_set->Apply(plan); }}));
//   follower->Start();   // hands over the stored plan at once, if there is one
//   ...
//   follower->Stop();
//
// A stream that ends is reopened with backoff, resuming after the last revision applied; when
// the registry no longer keeps that revision (OUT_OF_RANGE) the follower takes a fresh snapshot
// and rebuilds its state from it. Each plan handed over is then saved with the plan store, so a
// restart with the registry down serves it again (from_cache = true) until the registry answers.
//
// on_plan is called from the follower's thread (and from Start for the stored plan), one call at
// a time.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "fabrique/v1/registry.pb.h"
#include "libs/core/clock.h"
#include "libs/serving/artifact_cache.h"
#include "libs/serving/plan_store.h"
#include "libs/serving/registry_port.h"
#include "libs/serving/serving_plan.h"

namespace fabrique::serving {

// Which models this server serves. With `models` set, those (whatever their squad); else with
// `squad` set, every model that squad owns; else every model whose primary alias points at a
// version.
struct ModelSelector {
  std::vector<std::string> models;  // Model names (--models). Default: none.
  std::string squad;                // Owner squad (--squad). Default: "".
};

// How long to wait before reopening the watch after it ended: `initial`, doubling after each
// failed try up to `max`, each wait varied by up to +-`jitter` of itself so that many servers
// restarted together do not reconnect in step.
struct FollowerBackoff {
  absl::Duration initial = absl::Milliseconds(100);  // Default 100 ms.
  absl::Duration max = absl::Seconds(5);             // Default 5 s.
  double jitter = 0.2;                               // Fraction, 0..1. Default 0.2.
};

struct RegistryFollowerOptions {
  RegistryPort* registry = nullptr;  // Watched, and read for version records. Not owned; required.
  ModelSelector selector;            // Default: every model with a primary version.
  ArtifactCache* cache = nullptr;    // Modules are prefetched into it. Not owned; may be null.
  PlanStore* plan_store = nullptr;   // Plans are saved to / read from it. Not owned; may be null.
  std::function<void(const ServingPlan&)> on_plan;  // Required.
  FollowerBackoff backoff;
  core::Clock* clock = core::Clock::Real();  // For the backoff waits.
};

class RegistryFollower {
 public:
  using Options = RegistryFollowerOptions;

  // INVALID_ARGUMENT when the registry or on_plan is missing or the backoff is not positive.
  static absl::StatusOr<std::unique_ptr<RegistryFollower>> Create(Options options);
  ~RegistryFollower();  // Stop().

  // Hands the stored plan (if any) to on_plan before returning, then follows the registry on a
  // thread of its own. Call once.
  void Start();
  // Ends the watch (shutting the registry port down: it is no use to the server after this) and
  // any backoff wait, and joins the thread. Idempotent.
  void Stop();

  // Whether a watch stream is open and has answered.
  bool connected() const { return connected_.load(); }
  // The newest registry revision applied (its changes are in the last plan handed over).
  int64_t revision() const { return revision_.load(); }
  // Whether a plan built from the registry (not the stored one) has been handed over.
  bool snapshot_applied() const { return snapshot_applied_.load(); }

 private:
  // What the follower knows of one model.
  struct ModelState {
    v1::Model record;          // Owner squad and aliases.
    v1::TrafficPolicy policy;  // The registry's default until a policy event says otherwise.
  };
  using Models = std::map<std::string, ModelState>;

  explicit RegistryFollower(Options options);
  void Run();
  // One watch stream, from open to end; returns how it ended. `progressed`: an event applied.
  absl::Status WatchOnce(bool* progressed);
  absl::Status OnEvent(const v1::WatchEvent& event);
  // Applies one change (or snapshot record) to `models`.
  absl::Status Apply(const v1::WatchEvent& event, Models* models);
  // The state of `name` in `models`, read from the registry when absent; null when it has no
  // such model.
  absl::StatusOr<ModelState*> Known(const std::string& name, Models* models);
  // Publishes the plan for the current state when it differs from the last one handed over.
  absl::Status Publish(int64_t revision, bool always);
  absl::StatusOr<ServingPlan> BuildPlan(int64_t revision);
  absl::StatusOr<std::optional<ServedModelPlan>> PlanModel(const ModelState& state);
  absl::StatusOr<v1::ModelVersion> Version(const std::string& model, int64_t number);
  void Prefetch(const ServingPlan& plan);
  bool Selected(const ModelState& state) const;
  absl::Duration NextBackoff(absl::Duration* current);

  const Options options_;
  const std::set<std::string> names_;  // selector.models as a set.
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> started_{false};
  std::atomic<bool> connected_{false};
  std::atomic<int64_t> revision_{0};
  std::atomic<bool> snapshot_applied_{false};

  // Owned by the follower's thread after Start.
  bool synced_ = false;  // A snapshot has been applied since the last resync began.
  Models models_;        // The state the last plan was built from (live events edit it).
  Models staging_;       // Snapshot events collect here until SNAPSHOT_COMPLETE.
  std::map<std::pair<std::string, int64_t>, v1::ModelVersion> versions_;  // Immutable records.
  std::optional<ServingPlan> last_plan_;
};

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_REGISTRY_FOLLOWER_H_
