fabrique_cc_test(NAME prediction_logger_test SRCS prediction_logger_test.cc
  DEPS fabrique::serving_logging fabrique::core)
