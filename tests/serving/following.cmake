# The artifact cache, the plan store and the registry follower, against an in-memory registry.
fabrique_cc_library(
  NAME serving_fake_registry
  SRCS fake_registry_port.cc
  HDRS fake_registry_port.h
  DEPS fabrique::serving_ports absl::status absl::statusor absl::strings absl::synchronization)

fabrique_cc_test(
  NAME serving_following_test
  SRCS artifact_cache_test.cc plan_store_test.cc registry_follower_test.cc
  DEPS fabrique::serving_following fabrique::serving_fake_registry fabrique::test_util
       fabrique::core_hash_chain)
