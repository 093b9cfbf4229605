# The rows a model scores, as plain C++ (tensor_batch.h), and the Open Inference Protocol codec
# that turns requests into them and answers back into responses.
fabrique_cc_library(NAME serving_tensors SRCS tensor_batch.cc HDRS tensor_batch.h
  DEPS absl::status absl::statusor absl::strings)
