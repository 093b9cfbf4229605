// TowerService's quota, capacity and job calls: the access check under the call's rule, one call
// into the job queue (libs/tower/jobs), the status mapped once (core::ToGrpcStatus). Lists and
// the watch keep to the squads the caller sees.

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "libs/core/grpc_status.h"
#include "libs/tower/jobs/job_queue.h"
#include "services/answer.h"
#include "services/tower/tower_service.h"

namespace fabrique::services {
namespace {

grpc::Status NotServed() {
  return core::ToGrpcStatus(absl::UnimplementedError("this tower keeps no job queue"));
}

}  // namespace

grpc::Status TowerService::SetQuota(grpc::ServerContext* context,
                                    const v1::SetQuotaRequest* request,
                                    v1::SetQuotaResponse* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "SetQuota", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.jobs == nullptr) return NotServed();
  return Answer(parts_.jobs->SetQuota(*request, caller->principal), response);
}

grpc::Status TowerService::GetQuota(grpc::ServerContext* context,
                                    const v1::GetQuotaRequest* request, v1::Quota* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "GetQuota", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.jobs == nullptr) return NotServed();
  return Answer(parts_.jobs->GetQuota(request->squad()), response);
}

grpc::Status TowerService::ListQuotas(grpc::ServerContext* context,
                                      const v1::ListQuotasRequest* request,
                                      v1::ListQuotasResponse* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "ListQuotas", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.jobs == nullptr) return NotServed();
  absl::StatusOr<std::vector<v1::Quota>> quotas = parts_.jobs->ListQuotas(request->cohort());
  if (!quotas.ok()) return core::ToGrpcStatus(quotas.status());
  for (v1::Quota& quota : *quotas) {
    if (caller->Sees(quota.squad())) *response->add_quotas() = std::move(quota);
  }
  return grpc::Status::OK;
}

grpc::Status TowerService::SetCapacity(grpc::ServerContext* context,
                                       const v1::SetCapacityRequest* request,
                                       v1::Capacity* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "SetCapacity", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.jobs == nullptr) return NotServed();
  return Answer(parts_.jobs->SetCapacity(request->capacity()), response);
}

grpc::Status TowerService::GetCapacity(grpc::ServerContext* context,
                                       const v1::GetCapacityRequest* request,
                                       v1::Capacity* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "GetCapacity", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.jobs == nullptr) return NotServed();
  return Answer(parts_.jobs->GetCapacity(), response);
}

grpc::Status TowerService::SubmitJob(grpc::ServerContext* context,
                                     const v1::SubmitJobRequest* request, v1::Job* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "SubmitJob", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.jobs == nullptr) return NotServed();
  return Answer(parts_.jobs->SubmitJob(*request, caller->principal), response);
}

grpc::Status TowerService::GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request,
                                  v1::Job* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "GetJob", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.jobs == nullptr) return NotServed();
  return Answer(parts_.jobs->GetJob(request->id()), response);
}

grpc::Status TowerService::ListJobs(grpc::ServerContext* context,
                                    const v1::ListJobsRequest* request,
                                    v1::ListJobsResponse* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "ListJobs", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.jobs == nullptr) return NotServed();
  absl::StatusOr<v1::ListJobsResponse> page = parts_.jobs->ListJobs(*request);
  if (!page.ok()) return core::ToGrpcStatus(page.status());
  for (v1::Job& job : *page->mutable_jobs()) {
    if (caller->Sees(job.squad())) *response->add_jobs() = std::move(job);
  }
  response->set_next_page_token(page->next_page_token());
  return grpc::Status::OK;
}

grpc::Status TowerService::CancelJob(grpc::ServerContext* context,
                                     const v1::CancelJobRequest* request, v1::Job* response) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "CancelJob", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.jobs == nullptr) return NotServed();
  return Answer(parts_.jobs->CancelJob(request->id(), request->reason(), caller->principal),
                response);
}

grpc::Status TowerService::WatchJobs(grpc::ServerContext* context,
                                     const v1::WatchJobsRequest* request,
                                     grpc::ServerWriter<v1::JobEvent>* writer) {
  absl::StatusOr<server::Caller> caller = access_.Check(*context, "WatchJobs", *request);
  if (!caller.ok()) return core::ToGrpcStatus(caller.status());
  if (parts_.jobs == nullptr) return NotServed();
  absl::Status watched = parts_.jobs->WatchJobs(
      *request,
      [&](const v1::JobEvent& event) {
        if (!caller->Sees(event.job().squad())) return true;
        return writer->Write(event);
      },
      [context] { return context->IsCancelled(); });
  return core::ToGrpcStatus(watched);
}

}  // namespace fabrique::services
