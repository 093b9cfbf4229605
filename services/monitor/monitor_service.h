#ifndef FABRIQUE_SERVICES_MONITOR_MONITOR_SERVICE_H_
#define FABRIQUE_SERVICES_MONITOR_MONITOR_SERVICE_H_

// The gRPC adapter of `fabrique::v1::Monitor`: each call asks the access guard under its rule in
// libs/auth/tables/monitor.cc, calls the intake (monitor_intake.h), maps the status and records
// metrics (monitor_metrics.h).
//
// Built: LogPredictions and LogOutcomes, client streams of batches. Each message is one batch,
// stored as it arrives (a batch of predictions also in the live windows) and idempotent by its
// batch_id; everything is fsynced before the call answers (LogPredictions fsyncs a stream's
// batches once, at its end). The response sums the batches, and names refused rows "batch B:
// row N: reason" (at most 100; the counts are exact). A batch that fails the call (no batch_id,
// storage) leaves the batches before it stored.
// CompareCanary (monitor_canary_service.cc): a model's candidate against its primary, from the
// canary comparer (libs/monitoring/canary).
//
// Built: reference profiles and drift and performance reports, computed now or fetched by id
// (monitor_reports.h says how a call picks its version, window and tests).
//
// Policies and alerts (monitor_alerts_service.cc): Set/Get/List/DeleteMonitoringPolicy over the
// policy store, ListAlerts/GetAlert/AcknowledgeAlert over the alert store; the evaluation loop
// (evaluation_loop.h) raises and resolves the alerts.
//
// Not built yet: every other call answers UNIMPLEMENTED with a message naming the monitor (see
// libs/server/not_built_interceptor.h), never a fake success.

#include <functional>
#include <string>

#include "fabrique/v1/monitor.grpc.pb.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/sync_stream.h"
#include "libs/core/clock.h"
#include "libs/monitoring/alerts/alert_store.h"
#include "libs/monitoring/alerts/policy_store.h"
#include "libs/monitoring/canary/canary_comparer.h"
#include "libs/server/access.h"
#include "services/monitor/monitor_intake.h"
#include "services/monitor/monitor_metrics.h"
#include "services/monitor/monitor_reports.h"

namespace fabrique::services {

// What the policy and alert calls serve. Not owned; must outlive the service. Unset: those calls
// answer UNIMPLEMENTED.
struct MonitorAlertParts {
  monitoring::PolicyStore* policies = nullptr;
  monitoring::AlertStore* alerts = nullptr;
  // The squad owning a model, so that lists across squads show each caller only theirs.
  std::function<absl::StatusOr<std::string>(absl::string_view model)> owner_of;
  // Refreshes the alerts-firing gauges after an acknowledgement. Nullptr = the real clock.
  core::Clock* clock = nullptr;
};

class MonitorService final : public fabrique::v1::Monitor::Service {
 public:
  // `intake`, `metrics` and `canary` are not owned and must outlive this. `reports` serves the
  // report and reference profile calls (monitor_reports.h); without `canary`, CompareCanary
  // answers UNIMPLEMENTED; `alerts` serves the policy and alert calls.
  MonitorService(MonitorIntake* intake, server::ServiceAccess access, MonitorMetrics* metrics,
                 MonitorReports reports = {}, const monitoring::CanaryComparer* canary = nullptr,
                 MonitorAlertParts alerts = {})
      : intake_(intake),
        access_(std::move(access)),
        metrics_(metrics),
        reports_(std::move(reports)),
        canary_(canary),
        alert_parts_(std::move(alerts)) {}

  grpc::Status LogPredictions(grpc::ServerContext* context,
                              grpc::ServerReader<v1::LogPredictionsRequest>* reader,
                              v1::LogPredictionsResponse* response) override;
  grpc::Status LogOutcomes(grpc::ServerContext* context,
                           grpc::ServerReader<v1::LogOutcomesRequest>* reader,
                           v1::LogOutcomesResponse* response) override;
  // The candidate against the primary (monitor_canary_service.cc).
  grpc::Status CompareCanary(grpc::ServerContext* context, const v1::CompareCanaryRequest* request,
                             v1::CanaryComparison* response) override;

  // Reference profiles and reports (monitor_reports_service.cc).
  grpc::Status PutReferenceProfile(grpc::ServerContext* context,
                                   const v1::PutReferenceProfileRequest* request,
                                   v1::ReferenceProfile* response) override;
  grpc::Status GetReferenceProfile(grpc::ServerContext* context,
                                   const v1::GetReferenceProfileRequest* request,
                                   v1::ReferenceProfile* response) override;
  grpc::Status GetDriftReport(grpc::ServerContext* context,
                              const v1::GetDriftReportRequest* request,
                              v1::DriftReport* response) override;
  grpc::Status ListDriftReports(grpc::ServerContext* context,
                                const v1::ListDriftReportsRequest* request,
                                v1::ListDriftReportsResponse* response) override;
  grpc::Status GetPerformanceReport(grpc::ServerContext* context,
                                    const v1::GetPerformanceReportRequest* request,
                                    v1::PerformanceReport* response) override;
  grpc::Status ListPerformanceReports(grpc::ServerContext* context,
                                      const v1::ListPerformanceReportsRequest* request,
                                      v1::ListPerformanceReportsResponse* response) override;

  // Policies and alerts (monitor_alerts_service.cc).
  grpc::Status SetMonitoringPolicy(grpc::ServerContext* context,
                                   const v1::SetMonitoringPolicyRequest* request,
                                   v1::MonitoringPolicy* response) override;
  grpc::Status GetMonitoringPolicy(grpc::ServerContext* context,
                                   const v1::GetMonitoringPolicyRequest* request,
                                   v1::MonitoringPolicy* response) override;
  grpc::Status ListMonitoringPolicies(grpc::ServerContext* context,
                                      const v1::ListMonitoringPoliciesRequest* request,
                                      v1::ListMonitoringPoliciesResponse* response) override;
  grpc::Status DeleteMonitoringPolicy(grpc::ServerContext* context,
                                      const v1::DeleteMonitoringPolicyRequest* request,
                                      v1::DeleteMonitoringPolicyResponse* response) override;
  grpc::Status ListAlerts(grpc::ServerContext* context, const v1::ListAlertsRequest* request,
                          v1::ListAlertsResponse* response) override;
  grpc::Status GetAlert(grpc::ServerContext* context, const v1::GetAlertRequest* request,
                        v1::Alert* response) override;
  grpc::Status AcknowledgeAlert(grpc::ServerContext* context,
                                const v1::AcknowledgeAlertRequest* request,
                                v1::Alert* response) override;

 private:
  // Reads the pending outcomes into the gauge; a failure leaves the gauge as it was.
  void UpdatePending();

  MonitorIntake* const intake_;
  const server::ServiceAccess access_;
  MonitorMetrics* const metrics_;
  const MonitorReports reports_;
  const monitoring::CanaryComparer* const canary_;
  const MonitorAlertParts alert_parts_;
};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_MONITOR_MONITOR_SERVICE_H_
