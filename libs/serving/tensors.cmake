# The rows a model scores, as plain C++ (tensor_batch.h), and the Open Inference Protocol codec
# that turns requests into them and answers back into responses (oip_codec.h), with the model
# metadata it reports (model_metadata.h).
fabrique_cc_library(NAME serving_tensors
  SRCS tensor_batch.cc oip_elements.cc oip_decode.cc oip_encode.cc model_metadata.cc
  HDRS tensor_batch.h oip_elements.h oip_codec.h model_metadata.h
  DEPS fabrique::core fabrique::proto_oip fabrique::proto_common absl::flat_hash_map absl::status
       absl::statusor absl::strings)
