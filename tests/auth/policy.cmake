fabrique_cc_test(NAME auth_policy_parse_test SRCS policy_csv_test.cc policy_yaml_test.cc
                 DEPS fabrique::auth_policy)
fabrique_cc_test(NAME auth_policy_decide_test SRCS policy_decide_test.cc
                 DEPS fabrique::auth_policy)
