// Kept apart from log.cc so that fabrique::core does not link gRPC; this file is part of
// fabrique::core_grpc.
#include "libs/core/grpc_log.h"

#include <grpc/support/log.h>

#include "libs/core/log.h"

namespace fabrique::core {
namespace {

void GprToJson(gpr_log_func_args* args) {
  LogLevel level = LogLevel::kInfo;
  if (args->severity == GPR_LOG_SEVERITY_DEBUG) level = LogLevel::kDebug;
  if (args->severity == GPR_LOG_SEVERITY_ERROR) level = LogLevel::kError;
  Log(level, "grpc",
      {{"message", args->message ? args->message : ""},
       {"file", args->file ? args->file : ""},
       {"line", args->line}});
}

}  // namespace

void RouteGrpcLogsToJson() { gpr_set_log_function(GprToJson); }

}  // namespace fabrique::core
