# Entity-keyed rows: a model's inputs built from entity keys, with features read from the feature
# store (through a port) by batched online lookups, checked against the schema versions the model
# was trained on; and the predicted label and canary routing key of a scored row.
fabrique_cc_library(NAME serving_entity
  SRCS lookup_merge.cc feature_lookup_batcher.cc feature_values.cc entity_rows.cc
       predicted_label.cc
  HDRS feature_port.h lookup_merge.h feature_lookup_batcher.h feature_values.h entity_rows.h
       predicted_label.h
  DEPS fabrique::serving_tensors fabrique::proto_features fabrique::proto_inference fabrique::core
       absl::flat_hash_map absl::status absl::statusor absl::strings absl::synchronization
       absl::time)
