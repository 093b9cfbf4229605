#ifndef FABRIQUE_LIBS_CLIENT_SERVICE_CLIENT_H_
#define FABRIQUE_LIBS_CLIENT_SERVICE_CLIENT_H_

// A typed client of one Fabrique service: a stub, the context every call gets (deadline,
// credentials; call_context.h), the one retry policy (retry.h), and errors that name the call and
// where it went (call_error.h). Thin on purpose: the stub's own methods stay the API.
//
//   ASSIGN_OR_RETURN(RegistryClient registry,
//                    RegistryClient::Connect(channel_options, {"registry", address}, call));
//   ASSIGN_OR_RETURN(v1::Model model,
//                    registry.Call(&RegistryClient::Stub::GetModel, request, "GetModel fraud"));

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "libs/client/call_context.h"
#include "libs/client/call_error.h"
#include "libs/client/channel.h"
#include "libs/client/retry.h"
#include "libs/core/clock.h"

namespace fabrique::client {

template <typename Service>
class ServiceClient {
 public:
  using Stub = typename Service::Stub;
  template <typename Request, typename Response>
  using UnaryMethod = grpc::Status (Stub::*)(grpc::ClientContext*, const Request&, Response*);

  // A client over `channel` to `target`. Every call gets `context`'s deadline and credentials;
  // CallIdempotent retries as `retry` says, waiting on `clock` (not owned; nullptr = real).
  ServiceClient(std::shared_ptr<grpc::Channel> channel, CallTarget target, CallContext context,
                RetryPolicy retry = {}, core::Clock* clock = nullptr)
      : channel_(std::move(channel)),
        stub_(Service::NewStub(channel_)),
        target_(std::move(target)),
        context_(std::move(context)),
        retry_(std::move(retry)),
        clock_(clock != nullptr ? clock : core::Clock::Real()) {}

  // Makes the channel `channel` describes (channel.h) and a client over it. `target.address`
  // defaults to the channel's target.
  static absl::StatusOr<ServiceClient> Connect(const ChannelOptions& channel, CallTarget target,
                                               CallContext context, RetryPolicy retry = {},
                                               core::Clock* clock = nullptr) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> made = MakeChannel(channel);
    if (!made.ok()) return made.status();
    if (target.address.empty()) target.address = channel.target;
    return ServiceClient(*std::move(made), std::move(target), std::move(context), std::move(retry),
                         clock);
  }

  Stub* stub() const { return stub_.get(); }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  const CallTarget& target() const { return target_; }
  const CallContext& context() const { return context_; }

  // A context for one call: the deadline `timeout` from now (the client's when zero; streams
  // pass a longer one) and the credentials.
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> NewContext(
      absl::Duration timeout = absl::ZeroDuration()) const {
    return context_.NewClientContext(timeout == absl::ZeroDuration() ? context_.timeout : timeout);
  }

  // The error of a failed call named `call` (streams finish with this too); OK stays OK.
  absl::Status Error(const grpc::Status& status, absl::string_view call) const {
    return CallError(status, call, target_, channel_.get());
  }

  // Makes the unary call `method` with `request` once; a failure names `call`.
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(UnaryMethod<Request, Response> method, const Request& request,
                                absl::string_view call) const {
    absl::StatusOr<std::unique_ptr<grpc::ClientContext>> context = NewContext();
    if (!context.ok()) return context.status();
    Response response;
    const absl::Status status =
        Error((stub_.get()->*method)(context->get(), request, &response), call);
    if (!status.ok()) return status;
    return response;
  }

  // Like Call, retried as the client's policy says. Only for calls a second try cannot apply
  // twice: reads, and writes carrying an idempotency key (request_id).
  template <typename Request, typename Response>
  absl::StatusOr<Response> CallIdempotent(UnaryMethod<Request, Response> method,
                                          const Request& request, absl::string_view call) const {
    Retrier retrier(retry_, clock_);
    return WithRetries(retrier, [&] { return Call(method, request, call); });
  }

  // Makes the paged list call `method` from `request`'s page on, calling `visit` with each page
  // until the server says there are no more.
  template <typename Request, typename Response, typename Visit>
  absl::Status CallPages(UnaryMethod<Request, Response> method, Request request,
                         absl::string_view call, Visit visit) const {
    do {
      absl::StatusOr<Response> page = Call(method, request, call);
      if (!page.ok()) return page.status();
      visit(*page);
      request.set_page_token(page->next_page_token());
    } while (!request.page_token().empty());
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::shared_ptr<Stub> stub_;
  CallTarget target_;
  CallContext context_;
  RetryPolicy retry_;
  core::Clock* clock_;
};

}  // namespace fabrique::client

#endif  // FABRIQUE_LIBS_CLIENT_SERVICE_CLIENT_H_
