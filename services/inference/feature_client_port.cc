#include "services/inference/feature_client_port.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/client_context.h"

namespace fabrique::services {
namespace {

// One lookup in flight: what gRPC writes into and reads from until the call completes. The
// answer is parsed into `response`, on a pooled arena that `answer` holds.
struct LookupCall {
  std::unique_ptr<grpc::ClientContext> context;
  serving::LookupAnswer answer;
  v1::LookupOnlineResponse* response = nullptr;  // The message `answer` points to.
  std::function<void(absl::StatusOr<serving::LookupAnswer>)> done;
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
    std::function<void(absl::StatusOr<serving::LookupAnswer>)> done) {
  client::CallContext call = client_.context();
  call.deadline = deadline;
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = call.NewClientContext();
  if (!context.ok()) {
    done(context.status());
    return;
  }
  auto* lookup = new LookupCall{*std::move(context), nullptr, nullptr, std::move(done)};
  grpc::MessageHolder<v1::LookupOnlineRequest, v1::LookupOnlineResponse>* messages =
      answers_->AllocateMessages();
  lookup->response = messages->response();
  // The pool is held by every answer: one may outlive the port (read after the call ends).
  lookup->answer = serving::LookupAnswer(
      messages->response(),
      [pool = answers_, messages](const v1::LookupOnlineResponse*) { messages->Release(); });
  client_.stub()->async()->LookupOnline(
      lookup->context.get(), &request, lookup->response, [this, lookup](grpc::Status status) {
        std::unique_ptr<LookupCall> owned(lookup);
        absl::StatusOr<serving::LookupAnswer> answer =
            status.ok() ? absl::StatusOr<serving::LookupAnswer>(std::move(owned->answer))
                        : absl::StatusOr<serving::LookupAnswer>(Failure(status));
        auto done = std::move(owned->done);
        // The call's context holds the channel. It goes before the caller hears: once every
        // lookup is answered the port's owner may drop the channel, and a channel's last
        // reference must never be dropped on one of gRPC's threads (its shutdown joins that very
        // thread and aborts the process). Nor is the port touched after `done`.
        owned.reset();
        done(std::move(answer));
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
