#include "services/inference/feature_client_port.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/client_context.h"

namespace fabrique::services {
namespace {

// One lookup in flight: what gRPC writes into and reads from until the call completes.
struct LookupCall {
  std::unique_ptr<grpc::ClientContext> context;
  v1::LookupOnlineResponse response;
  std::function<void(absl::StatusOr<v1::LookupOnlineResponse>)> done;
};

}  // namespace

FeatureClientPort::FeatureClientPort(std::shared_ptr<grpc::Channel> channel,
                                     const std::string& target, client::CallContext context)
    : client_(std::move(channel), {"features", target}, std::move(context)) {}

absl::StatusOr<v1::LookupOnlineResponse> FeatureClientPort::LookupOnline(
    const v1::LookupOnlineRequest& request, absl::Time deadline) {
  client::CallContext call = client_.context();
  call.deadline = deadline;
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = call.NewClientContext();
  if (!context.ok()) return context.status();
  v1::LookupOnlineResponse response;
  const grpc::Status status = client_.stub()->LookupOnline(context->get(), request, &response);
  if (!status.ok()) return Failure(status);
  return response;
}

void FeatureClientPort::LookupOnlineAsync(
    const v1::LookupOnlineRequest& request, absl::Time deadline,
    std::function<void(absl::StatusOr<v1::LookupOnlineResponse>)> done) {
  client::CallContext call = client_.context();
  call.deadline = deadline;
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = call.NewClientContext();
  if (!context.ok()) {
    done(context.status());
    return;
  }
  auto* lookup = new LookupCall{*std::move(context), {}, std::move(done)};
  client_.stub()->async()->LookupOnline(lookup->context.get(), &request, &lookup->response,
                                        [this, lookup](grpc::Status status) {
                                          const std::unique_ptr<LookupCall> owned(lookup);
                                          if (!status.ok()) return owned->done(Failure(status));
                                          owned->done(std::move(owned->response));
                                        });
}

absl::Status FeatureClientPort::Failure(const grpc::Status& status) const {
  const absl::Status failed = client_.Error(status, "LookupOnline");
  if (failed.code() == absl::StatusCode::kUnavailable) {
    return absl::UnavailableError(
        absl::StrCat("the feature store is unavailable: ", failed.message()));
  }
  return failed;
}

}  // namespace fabrique::services
