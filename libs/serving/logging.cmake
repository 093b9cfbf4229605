# The prediction log toward the monitor: a bounded queue that never slows a prediction, a sender
# thread that batches, retries and counts what it drops; the monitor is reached through a port.
fabrique_cc_library(NAME serving_logging SRCS prediction_logger.cc prediction_ids.cc
  HDRS prediction_logger.h prediction_ids.h monitor_port.h
  DEPS fabrique::proto_monitor fabrique::core absl::status absl::statusor absl::strings
       absl::synchronization absl::time)
