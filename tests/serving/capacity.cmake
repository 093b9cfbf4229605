# Capacity validation: the synthetic rows, and both phases of the probe on a version whose module
# is a fake that takes a set time per batch and can be made to fail.
fabrique_cc_test(NAME serving_capacity_probe_test SRCS capacity_probe_test.cc
  DEPS fabrique::serving_capacity fabrique::serving_models absl::synchronization)
