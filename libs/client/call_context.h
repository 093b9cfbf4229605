#ifndef FABRIQUE_LIBS_CLIENT_CALL_CONTEXT_H_
#define FABRIQUE_LIBS_CLIENT_CALL_CONTEXT_H_

// What one call carries besides its request: a deadline, and who is calling. Every client builds
// its grpc::ClientContext here, so credentials travel the same way from the CLI, the services and
// the tests.
//
// The bearer token travels as plain `authorization: Bearer <token>` metadata rather than as gRPC
// call credentials, which gRPC sends only over TLS: the same context then works over a
// plaintext or in-process channel, where a test runs real authentication.
//
//   CallContext call;
//   call.timeout = absl::Seconds(10);
//   call.credentials.bearer_token = token;
//   ASSIGN_OR_RETURN(std::unique_ptr<grpc::ClientContext> context, call.NewClientContext());

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"

namespace fabrique::client {

// Metadata keys a call's credentials travel in.
inline constexpr char kAuthorizationKey[] = "authorization";
inline constexpr char kOnBehalfOfUserKey[] = "fabrique-on-behalf-of-user";
inline constexpr char kOnBehalfOfGroupsKey[] = "fabrique-on-behalf-of-groups";

struct CallCredentials {
  // A JWT sent as `authorization: Bearer <token>`. Default: none (a service calling under its
  // client certificate alone).
  std::string bearer_token;
  // Asked for the token at each call, for tokens that expire and are refreshed; wins over
  // `bearer_token` when set. An error fails the call before it is sent.
  std::function<absl::StatusOr<std::string>()> token_source;
  // The user a service acts for (delegation): sent as fabrique-on-behalf-of-user. The callee
  // honours it only from a service allowed to delegate. Default: none.
  std::string on_behalf_of_user;
  // That user's groups, sent comma-separated as fabrique-on-behalf-of-groups.
  std::vector<std::string> on_behalf_of_groups;
};

struct CallContext {
  // How long the call may take, from when its context is made. Default 30 s.
  absl::Duration timeout = absl::Seconds(30);
  // A deadline the call must also end by, e.g. that of the work it is part of (real time, as
  // gRPC's are). The earlier of the two applies. Default: none.
  absl::Time deadline = absl::InfiniteFuture();
  CallCredentials credentials;

  // A context with the deadline and the credentials' metadata. INVALID_ARGUMENT when a value
  // cannot travel as metadata (a token with spaces or control characters, a group with a
  // comma); the token source's error when it has one.
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> NewClientContext() const;
  // The same with `timeout` instead of this context's (streams pass a longer one).
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> NewClientContext(
      absl::Duration timeout) const;
};

}  // namespace fabrique::client

#endif  // FABRIQUE_LIBS_CLIENT_CALL_CONTEXT_H_
