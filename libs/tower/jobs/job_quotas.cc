// JobQueue's quotas and capacity: what is stored, what the scheduler is told, and the design
// authority's capacity check.

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/core/status_macros.h"
#include "libs/tower/jobs/job_queue.h"
#include "libs/tower/jobs/job_requests.h"

namespace fabrique::tower {

absl::StatusOr<v1::Quota> JobQueue::QuotaInForce(const std::string& squad) {
  std::optional<v1::Quota> set = quotas_->Find(squad);
  if (set.has_value()) return *std::move(set);
  // A squad nobody gave a quota starts with its entity's defaults.
  v1::Quota quota;
  quota.set_squad(squad);
  if (options_.org == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no squad '", squad, "' has a quota; SetQuota gives it one"));
  }
  ASSIGN_OR_RETURN(v1::Squad found, options_.org->GetSquad(squad));
  if (found.entity().empty()) return quota;
  ASSIGN_OR_RETURN(v1::OrgEntity entity, options_.org->GetEntity(found.entity()));
  quota.set_cohort(entity.default_cohort().empty() ? entity.id() : entity.default_cohort());
  for (v1::ResourceQuota resource : entity.default_quotas()) {
    resource.set_flavor(FlavorOrDefault(resource.flavor()));
    *quota.add_resources() = std::move(resource);
  }
  return quota;
}

absl::Status JobQueue::EnsureQueue(const std::string& squad) {
  ASSIGN_OR_RETURN(v1::Quota quota, QuotaInForce(squad));
  double weight = 1.0;
  if (options_.org != nullptr) {
    absl::StatusOr<v1::Squad> found = options_.org->GetSquad(squad);
    if (found.ok() && found->share_weight() > 0) weight = found->share_weight();
  }
  // Told only when it changed: a submission should not make the scheduler rebuild the queue.
  quota.set_etag(absl::StrCat(quota.etag(), "/", weight));
  std::string signature = quota.SerializeAsString();
  auto [known, inserted] = queues_.try_emplace(squad, signature);
  if (!inserted && known->second == signature) return absl::OkStatus();
  absl::Status set = options_.scheduler->SetQueue(QueueConfigOf(quota, weight));
  if (!set.ok()) {
    queues_.erase(squad);
    return set;
  }
  known->second = std::move(signature);
  return absl::OkStatus();
}

v1::Quota JobQueue::WithUsage(v1::Quota quota) {
  for (const scheduling::QueueUsage& usage : options_.scheduler->Usage(quota.squad())) {
    v1::ResourceQuota* target = nullptr;
    for (v1::ResourceQuota& resource : *quota.mutable_resources()) {
      if (FlavorOrDefault(resource.flavor()) == usage.what.flavor &&
          ToSchedulingResource(resource.resource()) == usage.what.resource) {
        target = &resource;
      }
    }
    if (target == nullptr) {
      target = quota.add_resources();
      target->set_flavor(usage.what.flavor);
      target->set_resource(ToApiResource(usage.what.resource));
    }
    target->set_used(usage.used);
    target->set_borrowed(usage.borrowed);
    target->set_lent(usage.lent);
  }
  int running = 0;
  for (const auto& [id, job] : active_) {
    if (job.squad() == quota.squad() &&
        (job.state() == v1::JOB_STATE_ADMITTED || job.state() == v1::JOB_STATE_RUNNING)) {
      ++running;
    }
  }
  quota.set_running_jobs(running);
  quota.clear_jobs_over_quota();
  for (const std::string& id : options_.scheduler->OverQuota(quota.squad())) {
    quota.add_jobs_over_quota(id);
  }
  return quota;
}

absl::StatusOr<v1::SetQuotaResponse> JobQueue::SetQuota(const v1::SetQuotaRequest& request,
                                                        const v1::Principal& caller) {
  v1::Quota proposed = request.quota();
  RETURN_IF_ERROR(NormaliseQuota(proposed));
  std::string over;
  {
    absl::MutexLock lock(&mu_);
    if (options_.org != nullptr) RETURN_IF_ERROR(options_.org->GetSquad(proposed.squad()).status());
    std::optional<v1::Quota> current = quotas_->Find(proposed.squad());
    if (!request.etag().empty() && (!current.has_value() || current->etag() != request.etag())) {
      return absl::AbortedError(absl::StrCat("the quota of squad ", proposed.squad(),
                                             " changed since etag ", request.etag(),
                                             "; read it again"));
    }
    over = quotas_->Oversubscription(proposed);
    if (over.empty()) {
      v1::SetQuotaResponse response;
      ASSIGN_OR_RETURN(*response.mutable_quota(), ApplyQuotaLocked(proposed));
      if (response.quota().jobs_over_quota_size() > 0) {
        response.set_note(absl::StrCat("accepted below current usage: running jobs ",
                                       absl::StrJoin(response.quota().jobs_over_quota(), ", "),
                                       " keep their quota; nothing new of squad ", proposed.squad(),
                                       " is admitted until usage is back under"));
      }
      return response;
    }
  }
  // Past the capacity: the design authority decides. Opened without the lock, since the
  // approvals core asks this queue's handler to validate it.
  if (options_.approvals == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("the quota of squad ", proposed.squad(),
                                                      " would oversubscribe the capacity: ", over,
                                                      "; lower it or raise the capacity"));
  }
  v1::Approval draft;
  draft.set_kind(v1::APPROVAL_KIND_QUOTA_INCREASE);
  draft.set_subject_id(proposed.squad());
  draft.set_squad(proposed.squad());
  draft.set_summary(
      absl::StrCat("quota of squad ", proposed.squad(), " past the declared capacity: ", over));
  *draft.mutable_quota_increase()->mutable_quota() = proposed;
  ASSIGN_OR_RETURN(v1::Approval approval, options_.approvals->Open(std::move(draft), caller, ""));
  v1::SetQuotaResponse response;
  *response.mutable_approval() = approval;
  response.set_note(absl::StrCat("waits for approval ", approval.id(), ": ", over));
  absl::MutexLock lock(&mu_);
  absl::StatusOr<v1::Quota> in_force = QuotaInForce(proposed.squad());
  if (in_force.ok()) *response.mutable_quota() = WithUsage(*std::move(in_force));
  return response;
}

absl::StatusOr<v1::Quota> JobQueue::ApplyQuota(const v1::Quota& quota) {
  absl::MutexLock lock(&mu_);
  return ApplyQuotaLocked(quota);
}

absl::StatusOr<v1::Quota> JobQueue::ApplyQuotaLocked(const v1::Quota& quota) {
  ASSIGN_OR_RETURN(v1::Quota stored, quotas_->Put(quota, clock_->Now()));
  RETURN_IF_ERROR(EnsureQueue(stored.squad()));
  Wake();
  return WithUsage(std::move(stored));
}

absl::StatusOr<v1::Quota> JobQueue::GetQuota(absl::string_view squad) {
  if (squad.empty()) return absl::InvalidArgumentError("squad is required");
  absl::MutexLock lock(&mu_);
  const std::string name(squad);
  if (!quotas_->Find(name).has_value()) RETURN_IF_ERROR(CheckSquad(name));
  ASSIGN_OR_RETURN(v1::Quota quota, QuotaInForce(name));
  return WithUsage(std::move(quota));
}

absl::StatusOr<std::vector<v1::Quota>> JobQueue::ListQuotas(absl::string_view cohort) {
  absl::MutexLock lock(&mu_);
  std::set<std::string> squads;
  for (const auto& [squad, signature] : queues_) squads.insert(squad);
  for (const auto& [squad, quota] : quotas_->all()) squads.insert(squad);
  std::vector<v1::Quota> quotas;
  for (const std::string& squad : squads) {
    absl::StatusOr<v1::Quota> quota = QuotaInForce(squad);
    if (!quota.ok()) continue;
    if (!cohort.empty() && quota->cohort() != cohort) continue;
    quotas.push_back(WithUsage(*std::move(quota)));
  }
  std::stable_sort(quotas.begin(), quotas.end(),
                   [](const v1::Quota& a, const v1::Quota& b) { return a.cohort() < b.cohort(); });
  return quotas;
}

absl::StatusOr<v1::Capacity> JobQueue::SetCapacity(const v1::Capacity& capacity) {
  absl::MutexLock lock(&mu_);
  return quotas_->SetCapacity(capacity);
}

absl::StatusOr<v1::Capacity> JobQueue::GetCapacity() {
  absl::MutexLock lock(&mu_);
  return quotas_->CapacityWithTotals();
}

}  // namespace fabrique::tower
