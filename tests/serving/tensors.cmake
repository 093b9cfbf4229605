# The rows a model scores (tensor_batch.h), the Open Inference Protocol codec and the model
# metadata it reports.
fabrique_cc_test(NAME serving_tensor_batch_test SRCS tensor_batch_test.cc
                 DEPS fabrique::serving_tensors)
fabrique_cc_test(NAME serving_oip_codec_test
                 SRCS oip_codec_test.cc oip_refusals_test.cc oip_mutation_test.cc
                 DEPS fabrique::serving_tensors)
fabrique_cc_test(NAME serving_model_metadata_test SRCS model_metadata_test.cc
                 DEPS fabrique::serving_tensors)
