# The dynamic batcher: joins concurrent requests for one model version into batches. Its queue
# (the batching decision, a plain function of the queue and a time) and its batch execution are
# separate files so each is tested on its own.
fabrique_cc_library(NAME serving_batching
  SRCS batch_queue.cc batch_execution.cc dynamic_batcher.cc
  HDRS batch_request.h batch_queue.h batch_execution.h dynamic_batcher.h
  DEPS fabrique::serving_tensors fabrique::core absl::status absl::statusor absl::strings
       absl::synchronization absl::time)
