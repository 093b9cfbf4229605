#ifndef FABRIQUE_LIBS_SERVING_MODEL_SET_OBSERVER_H_
#define FABRIQUE_LIBS_SERVING_MODEL_SET_OBSERVER_H_

// What the model set tells the metrics it feeds: versions changing state, swaps with how long
// they took, load failures, and the rows the traffic policy sent to a candidate. Every hook is
// called without the set's lock held (an observer may call back into the set), from whichever
// thread caused it, possibly several at once: implementations are thread-safe and quick.

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/serving/served_version.h"

namespace fabrique::serving {

// Which of a model's serving pointers a swap moved.
enum class ServingRole { kPrimary, kCandidate };

// "primary" or "candidate".
absl::string_view ServingRoleName(ServingRole role);

class ModelSetObserver {
 public:
  virtual ~ModelSetObserver() = default;
  // A version entered `state` (LOADING when a plan or LoadExtra asks for it, then READY or
  // FAILED; UNLOADING when it leaves routing; READY again when named again while unloading).
  virtual void OnVersionState(const std::string& model, int64_t version, VersionState state) {}
  // A model's `role` now points at version `to` (0: nothing), instead of `from` (0: nothing).
  // `took` runs from the arrival of the plan that asked for `to` to the switch: the load time a
  // promotion costs.
  virtual void OnSwap(const std::string& model, ServingRole role, int64_t from, int64_t to,
                      absl::Duration took) {}
  // A version could not be loaded; the previous one keeps serving.
  virtual void OnLoadFailed(const std::string& model, int64_t version, const std::string& reason) {}
  // The traffic policy routed one request: to the candidate by the canary share (`canary`), or
  // to the primary with the candidate scoring it too (`shadow`). Called for policy routes only.
  virtual void OnPolicyRoute(const std::string& model, bool canary, bool shadow) {}
};

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_MODEL_SET_OBSERVER_H_
