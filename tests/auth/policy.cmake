fabrique_cc_test(NAME auth_policy_parse_test SRCS policy_csv_test.cc policy_yaml_test.cc
                 DEPS fabrique::auth_policy)
fabrique_cc_test(NAME auth_policy_decide_test SRCS policy_decide_test.cc
                 DEPS fabrique::auth_policy)
fabrique_cc_test(NAME auth_policy_store_test SRCS policy_store_test.cc
                 DEPS fabrique::auth_policy fabrique::test_util)
fabrique_cc_test(NAME auth_default_policy_test SRCS default_policy_test.cc
                 DEPS fabrique::auth_policy)
fabrique_cc_test(NAME auth_method_table_test SRCS method_table_test.cc
                 DEPS fabrique::auth_methods fabrique::auth_permissions)
fabrique_cc_test(NAME auth_authorizer_test SRCS authorizer_test.cc
                 DEPS fabrique::auth_authorizer)
