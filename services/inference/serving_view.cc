#include "services/inference/serving_view.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace fabrique::services {

void ServingView::OnPlan(const serving::ServingPlan& plan) {
  {
    absl::MutexLock lock(&mu_);
    applied_ = true;
    from_cache_ = plan.from_cache;
    owners_.clear();
    for (const serving::ServedModelPlan& model : plan.models) {
      owners_[model.model] = model.owner_squad;
    }
  }
  options_.models->Apply(plan);
}

bool ServingView::Ready() const {
  {
    absl::MutexLock lock(&mu_);
    if (!applied_) return false;
  }
  return options_.models->Ready();
}

bool ServingView::FromCache() const {
  if (follower_ != nullptr && follower_->snapshot_applied()) return false;
  absl::MutexLock lock(&mu_);
  return from_cache_;
}

bool ServingView::RegistryConnected() const {
  return follower_ != nullptr && follower_->connected();
}

int64_t ServingView::RegistryRevision() const {
  return follower_ != nullptr ? follower_->revision() : options_.models->revision();
}

absl::StatusOr<std::string> ServingView::OwnerOf(absl::string_view model) const {
  absl::MutexLock lock(&mu_);
  auto it = owners_.find(model);
  if (it != owners_.end()) return it->second;
  std::vector<std::string> served;
  for (const auto& [name, owner] : owners_) served.push_back(name);
  return absl::NotFoundError(absl::StrCat("model '", model, "' is not served here (served: ",
                                          served.empty() ? "none" : absl::StrJoin(served, ", "),
                                          "); check --models/--squad and its production alias"));
}

auth::OwnerLookup ServingView::Owners() const {
  return [this](absl::string_view resource, absl::string_view name) -> absl::StatusOr<std::string> {
    if (resource != auth::kModel) {
      return absl::InternalError(
          absl::StrCat("the inference server looks up models only, not ", resource));
    }
    return OwnerOf(name);
  };
}

int ServingView::MaxBatchSize(const std::string& model) const {
  auto it = options_.batching_by_model.find(model);
  if (it != options_.batching_by_model.end()) return it->second.max_batch_size;
  return options_.batching.max_batch_size;
}

}  // namespace fabrique::services
