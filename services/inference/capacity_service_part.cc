// EntityInferenceService.ValidateCapacity: the caller checked, then CapacityValidation
// (capacity_validation.h) run on this call's thread, each of its progress messages written to
// the stream as it comes, the report last. The call is rare and long (seconds to minutes) and
// saturates the model anyway, so it stays on the synchronous API.

#include "libs/core/grpc_status.h"
#include "services/access_checks.h"
#include "services/inference/capacity_validation.h"
#include "services/inference/entity_inference_service.h"

namespace fabrique::services {

grpc::Status EntityInferenceService::ValidateCapacity(
    grpc::ServerContext* context, const fabrique::v1::ValidateCapacityRequest* request,
    grpc::ServerWriter<fabrique::v1::CapacityProgress>* writer) {
  return Guarded(access_, *context, "ValidateCapacity", *request,
                 [&](const server::Caller& caller) {
                   if (predict_.capacity == nullptr) {
                     return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                         "capacity validation is not enabled on this server");
                   }
                   absl::StatusOr<v1::CapacityReport> report = predict_.capacity->Run(
                       *request, caller.principal.subject(),
                       [writer](const v1::CapacityProgress& progress) { writer->Write(progress); },
                       [context] { return context->IsCancelled(); });
                   if (!report.ok()) return core::ToGrpcStatus(report.status());
                   v1::CapacityProgress done;
                   done.set_phase("done");
                   *done.mutable_report() = *std::move(report);
                   writer->Write(done);
                   return grpc::Status::OK;
                 });
}

}  // namespace fabrique::services
