# The TorchScript loader, against modules exported by the trainer (fabrique::training) and modules
# defined in the test itself (fabrique::torch); the slowest of serving's tests to compile.
fabrique_cc_test(NAME serving_torchscript_loader_test SRCS torchscript_loader_test.cc
  DEPS fabrique::serving_torch fabrique::training fabrique::torch fabrique::test_util
       absl::strings TIMEOUT 300)
