// MonitorService's policy and alert calls: the access check under the call's rule, one call into
// the policy or alert store, the status mapped once (core::ToGrpcStatus).

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "libs/core/grpc_status.h"
#include "libs/monitoring/alerts/proto_time.h"
#include "services/monitor/evaluation_loop.h"
#include "services/monitor/monitor_service.h"

namespace fabrique::services {
namespace {

absl::Status NotServed(absl::string_view what) {
  return absl::UnimplementedError(absl::StrCat("the monitor keeps no ", what, " here"));
}

// Whether `caller` may see what belongs to `model`: the default policy (model "") is everyone's;
// a model whose owner cannot be found now is shown to platform-wide callers only.
bool SeesModel(const server::Caller& caller, const MonitorAlertParts& parts,
               const std::string& model) {
  if (model.empty()) return true;
  if (!parts.owner_of) return caller.Sees("");
  absl::StatusOr<std::string> owner = parts.owner_of(model);
  return caller.Sees(owner.ok() ? *owner : std::string());
}

}  // namespace

grpc::Status MonitorService::SetMonitoringPolicy(grpc::ServerContext* context,
                                                 const v1::SetMonitoringPolicyRequest* request,
                                                 v1::MonitoringPolicy* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "SetMonitoringPolicy", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (alert_parts_.policies == nullptr) return core::ToGrpcStatus(NotServed("policies"));
  absl::StatusOr<v1::MonitoringPolicy> set =
      alert_parts_.policies->Set(request->policy(), caller->principal);
  if (!set.ok()) return core::ToGrpcStatus(set.status());
  *response = *std::move(set);
  return grpc::Status::OK;
}

grpc::Status MonitorService::GetMonitoringPolicy(grpc::ServerContext* context,
                                                 const v1::GetMonitoringPolicyRequest* request,
                                                 v1::MonitoringPolicy* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "GetMonitoringPolicy", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (alert_parts_.policies == nullptr) return core::ToGrpcStatus(NotServed("policies"));
  absl::StatusOr<v1::MonitoringPolicy> policy = alert_parts_.policies->Get(request->model());
  if (!policy.ok()) return core::ToGrpcStatus(policy.status());
  *response = *std::move(policy);
  return grpc::Status::OK;
}

grpc::Status MonitorService::ListMonitoringPolicies(
    grpc::ServerContext* context, const v1::ListMonitoringPoliciesRequest* request,
    v1::ListMonitoringPoliciesResponse* response) {
  absl::StatusOr<server::Caller> caller =
      access_.Check(*context, "ListMonitoringPolicies", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (alert_parts_.policies == nullptr) return core::ToGrpcStatus(NotServed("policies"));
  absl::StatusOr<monitoring::PolicyPage> page =
      alert_parts_.policies->List(request->page_size(), request->page_token());
  if (!page.ok()) return core::ToGrpcStatus(page.status());
  for (v1::MonitoringPolicy& policy : page->policies) {
    if (SeesModel(*caller, alert_parts_, policy.model())) {
      *response->add_policies() = std::move(policy);
    }
  }
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status MonitorService::DeleteMonitoringPolicy(
    grpc::ServerContext* context, const v1::DeleteMonitoringPolicyRequest* request,
    v1::DeleteMonitoringPolicyResponse*) {
  absl::StatusOr<server::Caller> caller =
      access_.Check(*context, "DeleteMonitoringPolicy", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (alert_parts_.policies == nullptr) return core::ToGrpcStatus(NotServed("policies"));
  return core::ToGrpcStatus(alert_parts_.policies->Delete(request->model()));
}

grpc::Status MonitorService::ListAlerts(grpc::ServerContext* context,
                                        const v1::ListAlertsRequest* request,
                                        v1::ListAlertsResponse* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "ListAlerts", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (alert_parts_.alerts == nullptr) return core::ToGrpcStatus(NotServed("alerts"));
  monitoring::AlertFilter filter;
  filter.model = request->model();
  filter.state = request->state();
  filter.min_severity = request->min_severity();
  filter.kind = request->kind();
  if (request->time_range().has_start_time()) {
    filter.fired_from = monitoring::FromProtoTime(request->time_range().start_time());
  }
  if (request->time_range().has_end_time()) {
    filter.fired_to = monitoring::FromProtoTime(request->time_range().end_time());
  }
  const MonitorAlertParts& parts = alert_parts_;
  filter.visible = [&caller, &parts](const v1::Alert& alert) {
    return SeesModel(*caller, parts, alert.model_version().model());
  };
  absl::StatusOr<monitoring::AlertPage> page =
      alert_parts_.alerts->List(filter, request->page_size(), request->page_token());
  if (!page.ok()) return core::ToGrpcStatus(page.status());
  for (v1::Alert& alert : page->alerts) *response->add_alerts() = std::move(alert);
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status MonitorService::GetAlert(grpc::ServerContext* context,
                                      const v1::GetAlertRequest* request, v1::Alert* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "GetAlert", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (alert_parts_.alerts == nullptr) return core::ToGrpcStatus(NotServed("alerts"));
  absl::StatusOr<v1::Alert> alert = alert_parts_.alerts->Get(request->id());
  if (!alert.ok()) return core::ToGrpcStatus(alert.status());
  *response = *std::move(alert);
  return grpc::Status::OK;
}

grpc::Status MonitorService::AcknowledgeAlert(grpc::ServerContext* context,
                                              const v1::AcknowledgeAlertRequest* request,
                                              v1::Alert* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "AcknowledgeAlert", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (alert_parts_.alerts == nullptr) return core::ToGrpcStatus(NotServed("alerts"));
  absl::StatusOr<v1::Alert> alert =
      alert_parts_.alerts->Acknowledge(request->id(), caller->principal, request->comment(),
                                       monitoring::FromProtoDuration(request->silence_for()));
  if (!alert.ok()) return core::ToGrpcStatus(alert.status());
  core::Clock* clock = alert_parts_.clock != nullptr ? alert_parts_.clock : core::Clock::Real();
  PublishFiring(metrics_, *alert_parts_.alerts, alert->model_version().model(), clock->Now());
  *response = *std::move(alert);
  return grpc::Status::OK;
}

}  // namespace fabrique::services
