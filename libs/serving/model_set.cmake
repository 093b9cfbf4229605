# The model set: every served version (loaded in the background, swapped in when READY, drained
# when replaced) and the routing of requests to them (by version, by alias, or by the traffic
# policy with its canary share and shadow).
fabrique_cc_library(NAME serving_models
  SRCS canary_router.cc served_version.cc model_set.cc model_set_routing.cc
  HDRS canary_router.h served_version.h model_set.h model_set_entry.h model_set_observer.h
       served_model_status.h
  DEPS fabrique::serving_ports fabrique::serving_batching fabrique::serving_tensors fabrique::core
       fabrique::core_hash_chain fabrique::proto_common fabrique::proto_registry absl::status
       absl::statusor absl::strings absl::synchronization absl::time)
