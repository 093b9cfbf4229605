# The registry follower: watches the registry and hands the model set a new serving plan when what
# should be served changes; the artifact cache that holds the modules it names, verified by
# SHA-256; the plan store that lets a restart with the registry down serve the last plan.
fabrique_cc_library(
  NAME serving_following
  SRCS artifact_cache.cc plan_store.cc registry_follower.cc
  HDRS artifact_cache.h plan_store.h registry_follower.h
  DEPS fabrique::serving_ports fabrique::core fabrique::core_sha256 protobuf::libprotobuf
       absl::status absl::statusor absl::strings absl::synchronization absl::time)
