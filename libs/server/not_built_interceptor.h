#ifndef FABRIQUE_LIBS_SERVER_NOT_BUILT_INTERCEPTOR_H_
#define FABRIQUE_LIBS_SERVER_NOT_BUILT_INTERCEPTOR_H_

// The APIs of all six services are published before every call is built. A call whose handler
// does not exist yet gets gRPC's bare UNIMPLEMENTED with no message; this interceptor fills in a
// message that names the call and the service area it belongs to, so a caller learns why
// instead of guessing. It never turns a missing call into a success.

#include <map>
#include <memory>
#include <string>

#include "grpcpp/support/server_interceptor.h"

namespace fabrique::server {

// `areas` maps a fully-qualified service name ("fabrique.v1.FeatureStore") to the area that
// it belongs to ("the feature store").
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeNotBuiltInterceptor(
    std::map<std::string, std::string> areas);

// Returns the message given to a call of `full_method` ("/pkg.Service/Method") in `area`.
std::string NotBuiltMessage(const std::string& full_method, const std::string& area);

}  // namespace fabrique::server

#endif  // FABRIQUE_LIBS_SERVER_NOT_BUILT_INTERCEPTOR_H_
