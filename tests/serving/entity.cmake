# Entity-keyed rows: batched feature lookups against a fake feature store, row assembly, labels.
fabrique_cc_test(NAME feature_lookup_batcher_test SRCS feature_lookup_batcher_test.cc
  DEPS fabrique::serving_entity fabrique::core)
fabrique_cc_test(NAME entity_rows_test SRCS entity_rows_test.cc DEPS fabrique::serving_entity)
fabrique_cc_test(NAME lookup_merge_test SRCS lookup_merge_test.cc DEPS fabrique::serving_entity)
fabrique_cc_test(NAME predicted_label_test SRCS predicted_label_test.cc
  DEPS fabrique::serving_entity)
