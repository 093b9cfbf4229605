fabrique_cc_test(NAME prediction_logger_test SRCS prediction_logger_test.cc
  DEPS fabrique::serving_logging fabrique::core)
fabrique_cc_test(NAME prediction_ids_test SRCS prediction_ids_test.cc
  DEPS fabrique::serving_logging fabrique::core)
