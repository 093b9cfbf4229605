# The model set's tests: routing and hot swap over a fake module loader, the canary hash.
fabrique_cc_test(NAME serving_canary_router_test SRCS canary_router_test.cc
  DEPS fabrique::serving_models)
fabrique_cc_test(NAME serving_model_set_test
  SRCS model_set_test.cc model_set_policy_test.cc model_set_swap_test.cc
  DEPS fabrique::serving_models fabrique::core)
