# The permission catalog: names and descriptions, for policies, method tables and people.
fabrique_cc_library(NAME auth_permissions SRCS permissions.cc HDRS permissions.h
  DEPS absl::strings absl::span)

# The access policy (CSV or YAML), its decisions, the file it is reloaded from, and the policy the
# embedded default writes.
fabrique_cc_library(NAME auth_policy
  SRCS policy_syntax.cc policy_csv.cc policy_yaml.cc policy.cc policy_store.cc default_policy.cc
  HDRS policy_syntax.h policy.h policy_store.h default_policy.h
  DEPS fabrique::auth_permissions fabrique::core yaml-cpp absl::status absl::statusor
       absl::strings absl::flat_hash_map absl::synchronization absl::time)

# What each RPC of the six services needs: its permission and where its squad comes from. Uses
# the generated descriptors and messages only.
fabrique_cc_library(NAME auth_methods
  SRCS method_table.cc tables/features.cc tables/registry.cc tables/trainer.cc
       tables/inference.cc tables/monitor.cc tables/tower.cc
  HDRS method_table.h
  DEPS fabrique::proto_features fabrique::proto_registry fabrique::proto_trainer
       fabrique::proto_inference fabrique::proto_monitor fabrique::proto_tower fabrique::core
       absl::status absl::statusor absl::strings absl::flat_hash_map)

# One call's access decision: method rule, squad, policy and delegation, without gRPC.
fabrique_cc_library(NAME auth_authorizer SRCS authorizer.cc HDRS authorizer.h
  DEPS fabrique::auth_methods fabrique::auth_policy absl::status absl::statusor absl::strings)
