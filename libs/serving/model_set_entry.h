#ifndef FABRIQUE_LIBS_SERVING_MODEL_SET_ENTRY_H_
#define FABRIQUE_LIBS_SERVING_MODEL_SET_ENTRY_H_

// The model set's bookkeeping, shared by its files (model_set.cc applies plans and loads,
// model_set_routing.cc resolves and reports): one model's plan and the versions serving it, and
// the side effects a locked step leaves for after the lock.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "fabrique/v1/common.pb.h"
#include "libs/serving/model_set.h"
#include "libs/serving/model_set_observer.h"
#include "libs/serving/served_version.h"

namespace fabrique::serving {

struct ModelSet::ModelEntry {
  std::string name;
  v1::TrafficPolicy policy;  // Aliases defaulted.
  // The versions the plan puts under the primary and candidate aliases (0 = none), and when the
  // plan that asked for each arrived (what a swap's duration counts from).
  int64_t planned_primary = 0;
  int64_t planned_candidate = 0;
  absl::Time primary_asked = absl::InfinitePast();
  absl::Time candidate_asked = absl::InfinitePast();
  // Every version number the plan names for this model.
  std::set<int64_t> named;
  // The versions answering now: READY, and switched to only once READY. Null: none.
  std::shared_ptr<ServedVersion> primary;
  std::shared_ptr<ServedVersion> candidate;
  // The versions routable by number: those named, and those still answering for an alias.
  std::map<int64_t, std::shared_ptr<ServedVersion>> versions;
  // Versions out of routing, draining, by number; taken back when named again before they are
  // released. Weak: only the requests holding them keep them.
  std::map<int64_t, std::weak_ptr<ServedVersion>> unloading;
};

// What a step under the set's lock leaves to do once the lock is released: observer calls
// (an observer may call back into the set) and the release of versions (which stops their
// batchers and frees their modules: slow, and it may call back into the set through `done`s).
// Observer calls are queued on the set under its lock, so they are delivered in the order the
// steps happened even when another thread finishes its step first (a load that ends before the
// Apply that asked for it has delivered LOADING). Construct it before taking the lock: its
// destructor delivers and releases.
class ModelSet::Effects {
 public:
  explicit Effects(ModelSet* set) : set_(set) {}
  ~Effects() { set_->DeliverEvents(); }  // Then `released_` goes.
  Effects(const Effects&) = delete;
  Effects& operator=(const Effects&) = delete;

  // The recorders below are called with the set's lock held.
  void State(const ServedVersion& version, VersionState state) {
    Queue([m = version.model(), v = version.version(), state](ModelSetObserver& o) {
      o.OnVersionState(m, v, state);
    });
  }
  void Swap(const std::string& model, ServingRole role, int64_t from, int64_t to,
            absl::Duration took) {
    Queue([=](ModelSetObserver& o) { o.OnSwap(model, role, from, to, took); });
  }
  void LoadFailed(const ServedVersion& version, std::string reason) {
    Queue([m = version.model(), v = version.version(), r = std::move(reason)](ModelSetObserver& o) {
      o.OnLoadFailed(m, v, r);
    });
  }
  void Release(std::shared_ptr<ServedVersion> version) { released_.push_back(std::move(version)); }

 private:
  void Queue(std::function<void(ModelSetObserver&)> call) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (set_->options_.observer != nullptr) set_->events_.push_back(std::move(call));
  }

  ModelSet* const set_;
  // Released after the lock, by the destructor.
  std::vector<std::shared_ptr<ServedVersion>> released_;
};

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_MODEL_SET_ENTRY_H_
