// RegistryStore's promotion workflow: per-alias policies, and requests evaluated by the gates of
// promotion_gates.h, stored with their decisions, moving the alias in the same commit as the
// decision that completes them.

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/core/ids.h"
#include "libs/core/status_macros.h"
#include "libs/registry/promotion_gates.h"
#include "libs/registry/registry_records.h"
#include "libs/registry/registry_store.h"
#include "libs/registry/standards.h"

namespace fabrique::registry {
namespace {

// `request`, or the FAILED_PRECONDITION explaining each failed gate when it was refused.
absl::StatusOr<v1::PromotionRequest> RefusedOr(v1::PromotionRequest request, bool dry_run) {
  if (request.state() != v1::PROMOTION_STATE_REFUSED) return request;
  const std::vector<v1::GateEvaluation> gates(request.gates().begin(), request.gates().end());
  return core::WithContext(RefusalError(gates), dry_run ? std::string("dry run")
                                                        : absl::StrCat("request ", request.id()));
}

// INVALID_ARGUMENT for a monitor comparison gate the monitor would refuse to answer.
absl::Status CheckMonitorGates(const v1::PromotionPolicy& policy) {
  for (const v1::MonitorComparisonGate& gate : policy.monitor_comparison_gates()) {
    if (!std::isfinite(gate.max_degradation()) || gate.max_degradation() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("a monitor comparison gate's max_degradation must be a finite number >= 0, "
                       "not ",
                       gate.max_degradation()));
    }
    if (gate.min_labelled() < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a monitor comparison gate's min_labelled must be >= 0, not ", gate.min_labelled()));
    }
    if (gate.window().seconds() < 0 || gate.window().nanos() < 0) {
      return absl::InvalidArgumentError("a monitor comparison gate's window must not be negative");
    }
  }
  return absl::OkStatus();
}

}  // namespace

using records::CheckName;
using records::Event;
using records::IdempotencyKey;
using records::Json;
using records::ModelWhat;
using records::PolicyKey;
using records::Read;
using records::RequestKey;
using records::VersionWhat;

bool RegistryStore::HasGates(const v1::PromotionPolicy& policy) {
  return policy.metric_gates_size() > 0 || policy.no_regression_gates_size() > 0 ||
         policy.require_compatible_signature() || policy.approval_gates_size() > 0 ||
         policy.monitor_comparison_gates_size() > 0;
}

absl::Status RegistryStore::CheckAllowedRoles(const v1::PromotionPolicy& policy,
                                              const v1::Principal& caller) {
  if (policy.allowed_roles().empty()) return absl::OkStatus();
  for (const std::string& role : policy.allowed_roles()) {
    for (const std::string& held : caller.roles()) {
      if (held == role) return absl::OkStatus();
    }
  }
  return absl::PermissionDeniedError(
      absl::StrCat("alias '", policy.alias(), "' of ", ModelWhat(policy.model()),
                   " is protected: only ", absl::StrJoin(policy.allowed_roles(), ", "),
                   " may move it, and '", caller.subject(), "' holds none of them"));
}

absl::StatusOr<v1::PromotionPolicy> RegistryStore::SetPromotionPolicy(v1::PromotionPolicy policy,
                                                                      const v1::Principal& caller) {
  RETURN_IF_ERROR(CheckName(policy.alias(), "alias"));
  for (const v1::ApprovalGate& gate : policy.approval_gates()) {
    if (gate.role().empty() || gate.required_approvals() < 1) {
      return absl::InvalidArgumentError(
          "each approval gate needs a role and required_approvals >= 1");
    }
  }
  RETURN_IF_ERROR(CheckMonitorGates(policy));
  absl::MutexLock lock(&writer_);
  RETURN_IF_ERROR(GetModel(policy.model()).status());
  absl::StatusOr<v1::PromotionPolicy> before = GetPromotionPolicy(policy.model(), policy.alias());
  if (!before.ok()) return before.status();
  *policy.mutable_update_time() = Now();
  *policy.mutable_updated_by() = caller;
  kv::WriteBatch batch;
  batch.Put(family_, PolicyKey(policy.model(), policy.alias()), policy.SerializeAsString());
  Mutation mutation{caller, "policy.set",
                    absl::StrCat("models/", policy.model(), "/policies/", policy.alias()),
                    Json(*before), Json(policy)};
  *mutation.events
       .emplace_back(Event(v1::WATCH_EVENT_TYPE_PROMOTION_POLICY_CHANGED, policy.model()))
       .mutable_promotion_policy() = policy;
  // Requests waiting under the old rules would be decided by rules they were not evaluated
  // against (or by reviewers the new policy no longer names): they are superseded, in the same
  // commit, and the requester asks again.
  RETURN_IF_ERROR(records::ScanMessages<v1::PromotionRequest>(
      *options_.store, family_, kv::KeyRange::Prefix(kv::KeyBuilder().AddString("r").key()),
      "promotion request", [&](v1::PromotionRequest pending) {
        if (pending.model() != policy.model() || pending.alias() != policy.alias() ||
            pending.state() != v1::PROMOTION_STATE_PENDING) {
          return true;
        }
        pending.set_state(v1::PROMOTION_STATE_SUPERSEDED);
        *pending.mutable_update_time() = policy.update_time();
        batch.Put(family_, RequestKey(pending.id()), pending.SerializeAsString());
        *mutation.events
             .emplace_back(Event(v1::WATCH_EVENT_TYPE_PROMOTION_REQUEST_CHANGED, policy.model()))
             .mutable_promotion_request() = std::move(pending);
        return true;
      }));
  RETURN_IF_ERROR(Commit(std::move(batch), std::move(mutation)));
  return policy;
}

absl::StatusOr<v1::PromotionPolicy> RegistryStore::GetPromotionPolicy(
    const std::string& model, const std::string& alias) const {
  absl::StatusOr<v1::PromotionPolicy> policy =
      Read<v1::PromotionPolicy>(*options_.store, family_, PolicyKey(model, alias), "policy");
  if (!absl::IsNotFound(policy.status())) return policy;
  v1::PromotionPolicy empty;
  empty.set_model(model);
  empty.set_alias(alias);
  return empty;
}

absl::Status RegistryStore::StageEvaluation(v1::PromotionRequest* request,
                                            const MonitorAnswers& monitor, kv::WriteBatch* batch,
                                            Mutation* mutation) {
  ASSIGN_OR_RETURN(v1::Model model, GetModel(request->model()));
  ASSIGN_OR_RETURN(v1::ModelVersion candidate, GetVersion(request->model(), request->version()));
  ASSIGN_OR_RETURN(v1::PromotionPolicy policy,
                   GetPromotionPolicy(request->model(), request->alias()));
  const auto held = model.aliases().find(request->alias());
  const int64_t holder_number = held == model.aliases().end() ? 0 : held->second;
  *request->mutable_update_time() = Now();
  if (candidate.state() == v1::VERSION_STATE_ARCHIVED ||
      (request->state() == v1::PROMOTION_STATE_PENDING &&
       holder_number != request->previous_version())) {
    request->set_state(v1::PROMOTION_STATE_SUPERSEDED);
  } else {
    std::optional<v1::ModelVersion> holder;
    if (holder_number > 0) {
      ASSIGN_OR_RETURN(holder, GetVersion(request->model(), holder_number));
    }
    request->set_previous_version(holder_number);
    // Protobuf's repeated messages are not contiguous: the gates read copies.
    const std::vector<v1::PromotionDecision> decisions(request->decisions().begin(),
                                                       request->decisions().end());
    // Answers about another holder than the one the alias holds now are not used: the gates
    // they stand for wait to be asked again.
    static const std::vector<absl::StatusOr<MonitorComparisonAnswer>> kNotAsked;
    const auto* answers = options_.monitor == nullptr       ? nullptr
                          : monitor.holder == holder_number ? &monitor.answers
                                                            : &kNotAsked;
    std::vector<v1::GateEvaluation> gates =
        EvaluateGates({&policy, &candidate, holder ? &*holder : nullptr, &request->requested_by(),
                       decisions, answers});
    // The design authority's standards hold besides the model's policy: both are checked, so the
    // stricter rule decides. Their gates come before the approvals, with the automatic ones.
    ASSIGN_OR_RETURN(const std::vector<v1::Standard> standards,
                     StandardsFor(model, request->alias()));
    auto approvals = std::find_if(gates.begin(), gates.end(), [](const v1::GateEvaluation& g) {
      return g.kind() == v1::GATE_KIND_APPROVAL;
    });
    for (const v1::Standard& standard : standards) {
      const std::vector<v1::GateEvaluation> rules = EvaluateStandard(standard, candidate);
      approvals = gates.insert(approvals, rules.begin(), rules.end()) + rules.size();
    }
    request->mutable_gates()->Assign(gates.begin(), gates.end());
    request->set_state(StateOf(gates, decisions));
  }
  if (request->state() == v1::PROMOTION_STATE_COMPLETED) {
    // Moved by whoever completed the request: the requester when no approval was needed, else
    // the approver whose decision made every gate hold.
    RETURN_IF_ERROR(StageAliasMove(&model, request->alias(), request->version(), mutation->actor,
                                   request->id(), batch, mutation)
                        .status());
  }
  batch->Put(family_, RequestKey(request->id()), request->SerializeAsString());
  *mutation->events
       .emplace_back(Event(v1::WATCH_EVENT_TYPE_PROMOTION_REQUEST_CHANGED, request->model()))
       .mutable_promotion_request() = *request;
  mutation->after_json = Json(*request);
  return absl::OkStatus();
}

absl::StatusOr<v1::PromotionRequest> RegistryStore::RequestPromotion(
    const std::string& model, const std::string& alias, int64_t number, const std::string& comment,
    const v1::Principal& caller, bool dry_run, const std::string& request_id) {
  RETURN_IF_ERROR(CheckName(alias, "alias"));
  const MonitorAnswers monitor = AskMonitor(model, alias, number);
  absl::MutexLock lock(&writer_);
  if (!request_id.empty() && !dry_run) {
    absl::StatusOr<std::string> earlier = Retried("r", request_id);
    if (earlier.ok()) return AnswerRetry(*earlier, model, alias, number, request_id);
    if (!absl::IsNotFound(earlier.status())) return earlier.status();
  }
  ASSIGN_OR_RETURN(v1::Model found, GetModel(model));
  ASSIGN_OR_RETURN(v1::ModelVersion candidate, GetVersion(model, number));
  if (candidate.state() == v1::VERSION_STATE_ARCHIVED) {
    return absl::FailedPreconditionError(
        absl::StrCat(VersionWhat(model, number), " is archived: it cannot be promoted"));
  }
  const auto holder = found.aliases().find(alias);
  if (holder != found.aliases().end() && holder->second == number) {
    return absl::FailedPreconditionError(absl::StrCat("alias '", alias, "' of ", ModelWhat(model),
                                                      " already holds version ", number,
                                                      ": there is nothing to promote"));
  }
  v1::PromotionRequest request;
  request.set_id(core::IdGenerator::Default().Next());
  request.set_model(model);
  request.set_alias(alias);
  request.set_version(number);
  const auto held = found.aliases().find(alias);
  request.set_previous_version(held == found.aliases().end() ? 0 : held->second);
  *request.mutable_requested_by() = caller;
  request.set_comment(comment);
  *request.mutable_create_time() = Now();
  kv::WriteBatch batch;
  Mutation mutation{caller, "promotion.request",
                    absl::StrCat("models/", model, "/aliases/", alias)};
  RETURN_IF_ERROR(StageEvaluation(&request, monitor, &batch, &mutation));
  if (!request_id.empty()) batch.Put(family_, IdempotencyKey("r", request_id), request.id());
  if (dry_run) {
    request.clear_id();  // Nothing was stored: no id to look up later.
  } else {
    RETURN_IF_ERROR(Commit(std::move(batch), std::move(mutation)));
  }
  return RefusedOr(std::move(request), dry_run);
}

absl::StatusOr<v1::PromotionRequest> RegistryStore::AnswerRetry(const std::string& id,
                                                                const std::string& model,
                                                                const std::string& alias,
                                                                int64_t number,
                                                                const std::string& request_id) {
  ASSIGN_OR_RETURN(v1::PromotionRequest earlier, GetPromotionRequest(id));
  if (earlier.model() != model || earlier.alias() != alias || earlier.version() != number) {
    return absl::InvalidArgumentError(
        absl::StrCat("request_id '", request_id, "' already asked to move alias '", earlier.alias(),
                     "' of ", ModelWhat(earlier.model()), " to version ", earlier.version(),
                     ": use a new request_id for a new promotion"));
  }
  return RefusedOr(std::move(earlier), /*dry_run=*/false);
}

absl::StatusOr<v1::PromotionRequest> RegistryStore::GetPromotionRequest(
    const std::string& id) const {
  return Read<v1::PromotionRequest>(*options_.store, family_, RequestKey(id),
                                    absl::StrCat("promotion request '", id, "'"));
}

absl::StatusOr<v1::PromotionRequest> RegistryStore::DecidePromotion(const std::string& id,
                                                                    bool approve,
                                                                    const std::string& comment,
                                                                    const v1::Principal& caller) {
  // A decision evaluates the gates again: the monitor is asked first, outside the lock.
  MonitorAnswers monitor;
  if (absl::StatusOr<v1::PromotionRequest> asked = GetPromotionRequest(id);
      asked.ok() && asked->state() == v1::PROMOTION_STATE_PENDING) {
    monitor = AskMonitor(asked->model(), asked->alias(), asked->version());
  }
  absl::MutexLock lock(&writer_);
  ASSIGN_OR_RETURN(v1::PromotionRequest request, GetPromotionRequest(id));
  if (request.state() != v1::PROMOTION_STATE_PENDING) {
    return absl::FailedPreconditionError(absl::StrCat("promotion request '", id, "' is ",
                                                      v1::PromotionState_Name(request.state()),
                                                      ": only a PENDING request takes decisions"));
  }
  ASSIGN_OR_RETURN(v1::PromotionPolicy policy,
                   GetPromotionPolicy(request.model(), request.alias()));
  // Only the reviewers the policy names decide; the requester may withdraw the request.
  std::vector<std::string> reviewer_roles;
  bool reviewer = false;
  for (const v1::ApprovalGate& gate : policy.approval_gates()) {
    reviewer_roles.push_back(gate.role());
    for (const std::string& held : caller.roles()) reviewer = reviewer || held == gate.role();
  }
  const bool requester = caller.subject() == request.requested_by().subject();
  const bool withdrawal = !approve && requester && !reviewer;
  // The requester's own approval counts only where a gate of a role they hold allows it; an
  // approval that could never count is refused rather than recorded.
  if (approve && requester && reviewer) {
    bool counts = false;
    for (const v1::ApprovalGate& gate : policy.approval_gates()) {
      for (const std::string& held : caller.roles()) {
        counts = counts || (held == gate.role() && gate.allow_self_approval());
      }
    }
    if (!counts) {
      return absl::PermissionDeniedError(
          absl::StrCat("'", caller.subject(), "' asked for promotion request '", id,
                       "' and may not approve it: the policy of alias '", request.alias(),
                       "' allows no self-approval"));
    }
  }
  if (!reviewer && !withdrawal) {
    return absl::PermissionDeniedError(
        absl::StrCat(approve ? "approving" : "rejecting", " promotion request '", id,
                     "' takes one of the roles ", absl::StrJoin(reviewer_roles, ", "), ", and '",
                     caller.subject(), "' holds none of them",
                     approve ? "" : " (the requester may withdraw it)"));
  }
  v1::PromotionDecision* decision = request.add_decisions();
  *decision->mutable_decided_by() = caller;
  decision->set_approved(approve);
  decision->set_comment(comment);
  *decision->mutable_decide_time() = Now();
  kv::WriteBatch batch;
  Mutation mutation{
      caller,
      approve ? "promotion.approve" : (withdrawal ? "promotion.cancel" : "promotion.reject"),
      absl::StrCat("models/", request.model(), "/promotions/", id), Json(request)};
  if (withdrawal) {
    request.set_state(v1::PROMOTION_STATE_CANCELLED);
    *request.mutable_update_time() = Now();
    batch.Put(family_, RequestKey(id), request.SerializeAsString());
    *mutation.events
         .emplace_back(Event(v1::WATCH_EVENT_TYPE_PROMOTION_REQUEST_CHANGED, request.model()))
         .mutable_promotion_request() = request;
    mutation.after_json = Json(request);
  } else {
    RETURN_IF_ERROR(StageEvaluation(&request, monitor, &batch, &mutation));
  }
  RETURN_IF_ERROR(Commit(std::move(batch), std::move(mutation)));
  return request;
}

absl::StatusOr<std::vector<v1::PromotionPolicy>> RegistryStore::ListPromotionPolicies(
    const std::string& model) const {
  RETURN_IF_ERROR(GetModel(model).status());
  std::vector<v1::PromotionPolicy> policies;
  RETURN_IF_ERROR(records::ScanMessages<v1::PromotionPolicy>(
      *options_.store, family_,
      kv::KeyRange::Prefix(kv::KeyBuilder().AddString("p").AddString(model).key()), "policy",
      [&](v1::PromotionPolicy policy) {
        policies.push_back(std::move(policy));
        return true;
      }));
  return policies;
}

absl::StatusOr<v1::ListPromotionRequestsResponse> RegistryStore::ListPromotionRequests(
    const v1::ListPromotionRequestsRequest& request, SquadFilter visible) const {
  if (!request.model().empty()) RETURN_IF_ERROR(GetModel(request.model()).status());
  // Models' owners, each read once.
  std::map<std::string, bool> seen_models;
  const auto model_visible = [&](const std::string& model) {
    auto it = seen_models.find(model);
    if (it == seen_models.end()) {
      absl::StatusOr<v1::Model> found = GetModel(model);
      it = seen_models.emplace(model, found.ok() && visible(found->owner_squad())).first;
    }
    return it->second;
  };
  const int page = request.page_size() <= 0 ? 100 : std::min(request.page_size(), 1000);
  const kv::KeyRange all = kv::KeyRange::Prefix(kv::KeyBuilder().AddString("r").key());
  v1::ListPromotionRequestsResponse response;
  // Ids grow with time, so key order is the order the requests were made in.
  RETURN_IF_ERROR(records::ScanMessages<v1::PromotionRequest>(
      *options_.store, family_,
      request.page_token().empty()
          ? all
          : kv::KeyRange::Between(RequestKey(request.page_token()), all.end),
      "promotion request", [&](v1::PromotionRequest found) {
        if ((!request.model().empty() && found.model() != request.model()) ||
            (!request.alias().empty() && found.alias() != request.alias()) ||
            (request.state() != v1::PROMOTION_STATE_UNSPECIFIED &&
             found.state() != request.state()) ||
            !model_visible(found.model())) {
          return true;
        }
        if (response.requests_size() == page) {
          response.set_next_page_token(found.id());
          return false;
        }
        *response.add_requests() = std::move(found);
        return true;
      }));
  return response;
}

}  // namespace fabrique::registry
