#ifndef FABRIQUE_LIBS_CORE_GRPC_LOG_H_
#define FABRIQUE_LIBS_CORE_GRPC_LOG_H_

namespace fabrique::core {

// Routes gRPC's own log output (gpr_log) through core::Log, so every line on stderr is JSON.
void RouteGrpcLogsToJson();

}  // namespace fabrique::core

#endif  // FABRIQUE_LIBS_CORE_GRPC_LOG_H_
