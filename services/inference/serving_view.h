#ifndef FABRIQUE_SERVICES_INFERENCE_SERVING_VIEW_H_
#define FABRIQUE_SERVICES_INFERENCE_SERVING_VIEW_H_

// What the inference server's adapters know of serving beyond the model set: who owns each
// served model (for the access guard), each model's largest batch (for the codec), whether the
// plan in force came from the registry or from the local cache, and the follower's connection.
// It stands between the registry follower and the model set: each plan passes through OnPlan,
// which records what the adapters need and then hands the plan to the set.

#include <cstdint>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "libs/auth/method_table.h"
#include "libs/serving/dynamic_batcher.h"
#include "libs/serving/model_set.h"
#include "libs/serving/registry_follower.h"
#include "libs/serving/serving_plan.h"

namespace fabrique::services {

struct ServingViewOptions {
  serving::ModelSet* models = nullptr;  // Required; not owned; outlives the view.
  // The batching every model gets, and per model the overrides (as the model set was given).
  serving::BatcherOptions batching;
  std::map<std::string, serving::BatcherOptions> batching_by_model;
};

class ServingView {
 public:
  explicit ServingView(ServingViewOptions options) : options_(std::move(options)) {}

  // The follower whose connection and revision are reported; not owned; may stay unset (tests).
  // Set before serving starts.
  void SetFollower(const serving::RegistryFollower* follower) { follower_ = follower; }

  // Records `plan`'s owners and origin, then hands it to the model set. The follower's on_plan.
  void OnPlan(const serving::ServingPlan& plan);

  // Ready for traffic: a plan applied (from the registry, or the cached one when the registry
  // could not be reached) and every model with a primary answered by a READY version.
  bool Ready() const;
  // Serving the plan read back from the local cache: no registry snapshot applied yet.
  bool FromCache() const;
  // Whether the registry watch is connected now; the newest registry revision applied.
  bool RegistryConnected() const;
  int64_t RegistryRevision() const;

  // The owner squad of a served model: NOT_FOUND naming it and the models served when the plan
  // in force has no such model.
  absl::StatusOr<std::string> OwnerOf(absl::string_view model) const;
  // OwnerOf for the access guard's model rules (other resource kinds: INTERNAL).
  auth::OwnerLookup Owners() const;
  // Rows one request for `model` may carry: its batcher's max_batch_size.
  int MaxBatchSize(const std::string& model) const;

  serving::ModelSet& models() const { return *options_.models; }

 private:
  const ServingViewOptions options_;
  const serving::RegistryFollower* follower_ = nullptr;
  mutable absl::Mutex mu_;
  bool applied_ ABSL_GUARDED_BY(mu_) = false;
  bool from_cache_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, std::string, std::less<>> owners_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_INFERENCE_SERVING_VIEW_H_
