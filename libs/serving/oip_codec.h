#ifndef FABRIQUE_LIBS_SERVING_OIP_CODEC_H_
#define FABRIQUE_LIBS_SERVING_OIP_CODEC_H_

// The Open Inference Protocol (KServe v2) codec: turns a ModelInferRequest into the rows a model
// scores (a TensorBatch in signature order), checked against the model's signature, and turns the
// model's answers back into a ModelInferResponse. Plain C++ over the generated messages: no gRPC
// service, no network, no LibTorch.
//
//   ASSIGN_OR_RETURN(DecodedRequest decoded,
//                    DecodeInferRequest(request, version.record().signature(), {max_rows}));
//   ... outputs = scores of decoded.inputs ...
//   RETURN_IF_ERROR(EncodeInferResponse(decoded, outputs, signature, model, "3", request.id(),
//                                       &response));

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "fabrique/v1/common.pb.h"
#include "inference/grpc_predict_v2.pb.h"
#include "libs/serving/tensor_batch.h"

namespace fabrique::serving {

struct DecodeOptions {
  // Rows one request may carry, at most (the served version's maximum batch size); more is
  // INVALID_ARGUMENT. 0 or less: no limit. Default 32.
  int64_t max_batch_rows = 32;
};

// A request checked against its signature.
struct DecodedRequest {
  // One tensor per signature input, in signature order, named as the signature names it.
  TensorBatch inputs;
  // True when the inputs came as raw_input_contents; the answer then goes in
  // raw_output_contents.
  bool raw = false;
  // Indices of the signature outputs to answer, in request order; every output, in signature
  // order, when the request names none.
  std::vector<int> outputs;
};

// Checks `request` against `signature` and decodes its inputs. Every refusal is INVALID_ARGUMENT
// naming the input (or output) at fault: an input the signature lacks (or given twice), a missing
// input, a datatype other than the signature's, a shape of another rank or whose non-batch
// dimensions differ from the signature (-1 = any), a negative dimension or an element count that
// overflows, inputs with different row counts, zero rows, more rows than
// `options.max_batch_rows`, typed contents in another type's field, an element count other than
// the shape's product, NaN in an input whose signature has nan_allowed false, BYTES that are not
// valid UTF-8, typed contents and raw_input_contents both or neither, raw bytes whose length
// does not match, and a requested output the signature lacks (or named twice).
// FAILED_PRECONDITION when the signature itself uses a datatype the server does not serve.
absl::StatusOr<DecodedRequest> DecodeInferRequest(const inference::ModelInferRequest& request,
                                                  const v1::ModelSignature& signature,
                                                  const DecodeOptions& options);

// Fills `out` with the answer to `decoded`: model name, version, request id and the requested
// outputs (name, datatype, shape), their elements typed in `contents`, or in raw_output_contents
// when the request came raw. `outputs` holds one tensor per signature output, in signature order,
// with the request's rows. INTERNAL when `outputs` does not match the signature (count, datatype,
// rows, element count): the module broke its calling convention.
absl::Status EncodeInferResponse(const DecodedRequest& decoded, const TensorBatch& outputs,
                                 const v1::ModelSignature& signature, absl::string_view model,
                                 absl::string_view version, absl::string_view request_id,
                                 inference::ModelInferResponse* out);

}  // namespace fabrique::serving

#endif  // FABRIQUE_LIBS_SERVING_OIP_CODEC_H_
