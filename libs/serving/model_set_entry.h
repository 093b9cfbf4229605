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
// Declare it before taking the lock: its destructor does both.
class ModelSet::Effects {
 public:
  explicit Effects(ModelSetObserver* observer) : observer_(observer) {}
  ~Effects() {
    for (const auto& call : calls_) call();
  }
  Effects(const Effects&) = delete;
  Effects& operator=(const Effects&) = delete;

  void State(const ServedVersion& version, VersionState state) {
    if (observer_ == nullptr) return;
    calls_.push_back([o = observer_, m = version.model(), v = version.version(), state] {
      o->OnVersionState(m, v, state);
    });
  }
  void Swap(const std::string& model, ServingRole role, int64_t from, int64_t to,
            absl::Duration took) {
    if (observer_ == nullptr) return;
    calls_.push_back([=, o = observer_] { o->OnSwap(model, role, from, to, took); });
  }
  void LoadFailed(const ServedVersion& version, std::string reason) {
    if (observer_ == nullptr) return;
    calls_.push_back([o = observer_, m = version.model(), v = version.version(),
                      r = std::move(reason)] { o->OnLoadFailed(m, v, r); });
  }
  void Release(std::shared_ptr<ServedVersion> version) { released_.push_back(std::move(version)); }

 private:
  ModelSetObserver* const observer_;
  std::vector<std::function<void()>> calls_;
  // Destroyed after the calls, outside the lock.
  std::vector<std::shared_ptr<ServedVersion>> released_;
};

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_MODEL_SET_ENTRY_H_
