#include "services/inference/feature_client_port.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace fabrique::services {

FeatureClientPort::FeatureClientPort(std::shared_ptr<grpc::Channel> channel,
                                     const std::string& target)
    : client_(std::move(channel), {"features", target}, client::CallContext{}) {}

absl::StatusOr<v1::LookupOnlineResponse> FeatureClientPort::LookupOnline(
    const v1::LookupOnlineRequest& request, absl::Time deadline) {
  client::CallContext call = client_.context();
  call.deadline = deadline;
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = call.NewClientContext();
  if (!context.ok()) return context.status();
  v1::LookupOnlineResponse response;
  const absl::Status status = client_.Error(
      client_.stub()->LookupOnline(context->get(), request, &response), "LookupOnline");
  if (status.code() == absl::StatusCode::kUnavailable) {
    return absl::UnavailableError(
        absl::StrCat("the feature store is unavailable: ", status.message()));
  }
  if (!status.ok()) return status;
  return response;
}

}  // namespace fabrique::services
