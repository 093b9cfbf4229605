// MonitorService's CompareCanary: the access check under the model's owner, then the canary
// comparer (libs/monitoring/canary), its status mapped once.

#include "libs/core/grpc_status.h"
#include "services/monitor/monitor_service.h"

namespace fabrique::services {

grpc::Status MonitorService::CompareCanary(grpc::ServerContext* context,
                                           const v1::CompareCanaryRequest* request,
                                           v1::CanaryComparison* response) {
  if (absl::StatusOr<server::Caller> caller = access_.Check(*context, "CompareCanary", *request);
      !caller.ok()) {
    return core::ToGrpcStatus(caller.status());
  }
  if (canary_ == nullptr) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        "this monitor was started without the canary comparison");
  }
  absl::StatusOr<v1::CanaryComparison> comparison = canary_->Compare(*request);
  if (!comparison.ok()) return core::ToGrpcStatus(comparison.status());
  *response = *std::move(comparison);
  return grpc::Status::OK;
}

}  // namespace fabrique::services
