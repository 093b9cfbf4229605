# Entity-keyed rows: batched feature lookups against a fake feature store, row assembly, labels.
fabrique_cc_test(NAME feature_lookup_batcher_test SRCS feature_lookup_batcher_test.cc
  DEPS fabrique::serving_entity fabrique::core)
