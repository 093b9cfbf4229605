# Capacity validation: a version's latency under a paced load and its saturation throughput,
# measured on synthetic rows of its signature, on the version's own batcher.
fabrique_cc_library(NAME serving_capacity
  SRCS capacity_probe.cc
  HDRS capacity_probe.h
  DEPS fabrique::serving_models fabrique::serving_tensors fabrique::core fabrique::proto_common
       absl::status absl::statusor absl::strings absl::synchronization absl::time)
