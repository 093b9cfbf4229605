#ifndef FABRIQUE_LIBS_SERVER_CALLER_H_
#define FABRIQUE_LIBS_SERVER_CALLER_H_

// Who is calling. Until real authentication lands, the caller's identity travels in request
// metadata, as common.proto documents: x-fabrique-user (subject), x-fabrique-roles (comma-
// separated) and x-fabrique-squad. Adapters turn it into a Principal for the core to record.

#include "fabrique/v1/common.pb.h"
#include "grpcpp/server_context.h"

namespace fabrique::server {

// The caller named by `context`'s metadata; an empty subject when none is given.
v1::Principal CallerOf(const grpc::ServerContextBase& context);

}  // namespace fabrique::server

#endif  // FABRIQUE_LIBS_SERVER_CALLER_H_
