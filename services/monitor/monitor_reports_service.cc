// MonitorService's reference profile and report calls: check access, read the request into the
// report core's terms (report_requests.h), call the core, map the status, publish the gauges.

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "libs/core/grpc_status.h"
#include "services/monitor/monitor_service.h"
#include "services/monitor/report_requests.h"

namespace fabrique::services {
namespace {

grpc::Status NotServed(absl::string_view method) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      absl::StrCat("the monitor serves no ", method,
                                   " here: it was started "
                                   "without its report store"));
}

absl::Duration DurationOf(const google::protobuf::Duration& duration) {
  return absl::Seconds(duration.seconds()) + absl::Nanoseconds(duration.nanos());
}

// A stored report, fetched by id (NOT_FOUND first), then checked against the squad owning its
// model under the rule of `method`, as a request naming that model would be.
template <typename Request, typename Report>
grpc::Status StoredReport(const server::ServiceAccess& access, const grpc::ServerContext& context,
                          absl::string_view method, absl::StatusOr<Report> stored,
                          Report* response) {
  if (!stored.ok()) return core::ToGrpcStatus(stored.status());
  Request named;
  named.mutable_model()->set_model(stored->model_version().model());
  if (absl::StatusOr<server::Caller> caller = access.Check(context, method, named); !caller.ok()) {
    return core::ToGrpcStatus(caller.status());
  }
  *response = *std::move(stored);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status MonitorService::PutReferenceProfile(grpc::ServerContext* context,
                                                 const v1::PutReferenceProfileRequest* request,
                                                 v1::ReferenceProfile* response) {
  if (reports_.references == nullptr) return NotServed("PutReferenceProfile");
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "PutReferenceProfile", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  absl::StatusOr<v1::ReferenceProfile> kept = reports_.references->Put(request->profile());
  if (!kept.ok()) return core::ToGrpcStatus(kept.status());
  *response = *std::move(kept);
  return grpc::Status::OK;
}

grpc::Status MonitorService::GetReferenceProfile(grpc::ServerContext* context,
                                                 const v1::GetReferenceProfileRequest* request,
                                                 v1::ReferenceProfile* response) {
  if (reports_.references == nullptr) return NotServed("GetReferenceProfile");
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "GetReferenceProfile", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (request->model_version().version() < 1) {
    return core::ToGrpcStatus(
        absl::InvalidArgumentError("model_version.version must be 1 or more"));
  }
  absl::StatusOr<v1::ReferenceProfile> profile = reports_.references->Get(
      request->model_version().model(), request->model_version().version());
  if (!profile.ok()) return core::ToGrpcStatus(profile.status());
  *response = *std::move(profile);
  return grpc::Status::OK;
}

grpc::Status MonitorService::GetDriftReport(grpc::ServerContext* context,
                                            const v1::GetDriftReportRequest* request,
                                            v1::DriftReport* response) {
  if (reports_.engine == nullptr) return NotServed("GetDriftReport");
  if (!request->report_id().empty()) {
    return StoredReport<v1::GetDriftReportRequest>(access_, *context, "GetDriftReport",
                                                   reports_.store->GetDrift(request->report_id()),
                                                   response);
  }
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "GetDriftReport", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  absl::StatusOr<ReportTarget> target = TargetOf(request->model(), request->window(), reports_);
  if (!target.ok()) return core::ToGrpcStatus(target.status());
  absl::StatusOr<monitoring::DriftQuery> query = DriftQueryOf(*request, *target);
  if (!query.ok()) return core::ToGrpcStatus(query.status());
  absl::StatusOr<v1::DriftReport> report = reports_.engine->ComputeDrift(*query, target->policy);
  if (!report.ok()) return core::ToGrpcStatus(report.status());
  metrics_->PublishDrift(*report);
  *response = *std::move(report);
  return grpc::Status::OK;
}

grpc::Status MonitorService::ListDriftReports(grpc::ServerContext* context,
                                              const v1::ListDriftReportsRequest* request,
                                              v1::ListDriftReportsResponse* response) {
  if (reports_.store == nullptr) return NotServed("ListDriftReports");
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "ListDriftReports", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  absl::StatusOr<v1::ListDriftReportsResponse> page =
      reports_.store->ListDrift(FilterOf(request->model(), request->version(),
                                         request->time_range(), request->min_severity()),
                                request->page_size(), request->page_token());
  if (!page.ok()) return core::ToGrpcStatus(page.status());
  *response = *std::move(page);
  return grpc::Status::OK;
}

grpc::Status MonitorService::GetPerformanceReport(grpc::ServerContext* context,
                                                  const v1::GetPerformanceReportRequest* request,
                                                  v1::PerformanceReport* response) {
  if (reports_.engine == nullptr) return NotServed("GetPerformanceReport");
  if (!request->report_id().empty()) {
    return StoredReport<v1::GetPerformanceReportRequest>(
        access_, *context, "GetPerformanceReport",
        reports_.store->GetPerformance(request->report_id()), response);
  }
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "GetPerformanceReport", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  absl::StatusOr<ReportTarget> target = TargetOf(request->model(), request->window(), reports_);
  if (!target.ok()) return core::ToGrpcStatus(target.status());
  const absl::Duration bucket = DurationOf(request->bucket());
  if (bucket < absl::ZeroDuration()) {
    return core::ToGrpcStatus(absl::InvalidArgumentError("bucket cannot be negative"));
  }
  absl::StatusOr<v1::PerformanceReport> report = reports_.engine->ComputePerformanceReport(
      request->model().model(), target->version, target->window.from, target->window.to,
      target->policy, bucket);
  if (!report.ok()) return core::ToGrpcStatus(report.status());
  metrics_->PublishPerformance(*report);
  *response = *std::move(report);
  return grpc::Status::OK;
}

grpc::Status MonitorService::ListPerformanceReports(
    grpc::ServerContext* context, const v1::ListPerformanceReportsRequest* request,
    v1::ListPerformanceReportsResponse* response) {
  if (reports_.store == nullptr) return NotServed("ListPerformanceReports");
  absl::StatusOr<server::Caller> caller =
      access_.Check(*context, "ListPerformanceReports", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  absl::StatusOr<v1::ListPerformanceReportsResponse> page = reports_.store->ListPerformance(
      FilterOf(request->model(), request->version(), request->time_range()), request->page_size(),
      request->page_token());
  if (!page.ok()) return core::ToGrpcStatus(page.status());
  *response = *std::move(page);
  return grpc::Status::OK;
}

}  // namespace fabrique::services
