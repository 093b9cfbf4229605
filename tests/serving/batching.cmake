# The dynamic batcher: its batching decisions with plain times, its batch execution, and the
# threaded batcher driven by a FakeClock.
fabrique_cc_test(NAME batch_queue_test SRCS batch_queue_test.cc batch_execution_test.cc
  DEPS fabrique::serving_batching)
fabrique_cc_test(NAME dynamic_batcher_test SRCS dynamic_batcher_test.cc
  DEPS fabrique::serving_batching absl::synchronization)
