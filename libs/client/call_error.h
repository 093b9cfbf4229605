#ifndef FABRIQUE_LIBS_CLIENT_CALL_ERROR_H_
#define FABRIQUE_LIBS_CLIENT_CALL_ERROR_H_

// Turns a failed call into an error a person can act on: it names the call, the gRPC code and
// the server's words ("GetModel fraud: NOT_FOUND: model 'fraud' not found"), and a call that
// found no server says which service it looked for, where, and what to do, instead of gRPC's
// "failed to connect to all addresses".

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/channel.h"
#include "grpcpp/support/status.h"

namespace fabrique::client {

// Where a client's calls go, as its errors name it.
struct CallTarget {
  std::string service;  // Catalog name, e.g. "features"; names the binary in messages.
  std::string address;  // host:port.
  // Where `address` came from, e.g. "DIR/endpoints.tsv"; "" when it was given directly.
  std::string origin;
  // What to do when nothing answers there, e.g. "Is 'fabrique up' running? ..."; may be "".
  std::string advice;
  // False for a server's in-process channel, which always reaches its server but never reports
  // READY, so its UNAVAILABLE is always the server's own. Default true.
  bool networked = true;
};

// Whether a call that failed with `status` over `channel` found no server: nothing listens at the
// address, the host is unknown or cannot be reached, or the server went away. Decided by the
// channel, not the message: a server that answered UNAVAILABLE (one stopping, or one whose own
// dependency is down) did so over a connection that is still READY. False for any other code,
// and when `channel` is null.
bool IsUnreachable(const grpc::Status& status, grpc::Channel* channel);

// "cannot reach fabrique-features at 127.0.0.1:7101 (from DIR/endpoints.tsv): Connection
// refused. <advice>". `detail` is gRPC's message, whose last part (the system's reason) is kept.
std::string UnreachableMessage(const CallTarget& target, absl::string_view detail);

// The absl::Status for a failed call over `channel` to `target`, same code, with a message like
// "GetFeatureGroup orders: NOT_FOUND: feature group 'orders' not found", or, when the call found
// no server (IsUnreachable, over a networked target), "ListFeatureGroups: UNAVAILABLE:
// <UnreachableMessage>". OK stays OK.
absl::Status CallError(const grpc::Status& status, absl::string_view call, const CallTarget& target,
                       grpc::Channel* channel);

}  // namespace fabrique::client

#endif  // FABRIQUE_LIBS_CLIENT_CALL_ERROR_H_
