// EncodeInferResponse (oip_codec.h): a model's answers as an Open Inference Protocol response,
// in the form (typed or raw) the request came in.

#include "absl/strings/str_cat.h"
#include "libs/core/status_macros.h"
#include "libs/serving/oip_codec.h"
#include "libs/serving/oip_elements.h"

namespace fabrique::serving {
namespace {

// INTERNAL unless `tensor` is what the signature says output `spec` is, with `rows` rows: a
// module that answers otherwise broke its calling convention, which no request can fix.
absl::Status CheckOutput(const Tensor& tensor, const v1::TensorSpec& spec, int64_t rows) {
  const std::string context = absl::StrCat("the model's output '", spec.name(), "'");
  if (DataTypeName(tensor.type) != spec.datatype()) {
    return absl::InternalError(absl::StrCat(context, " is ", DataTypeName(tensor.type),
                                            "; its signature says ", spec.datatype()));
  }
  if (tensor.rows() != rows) {
    return absl::InternalError(
        absl::StrCat(context, " has ", tensor.rows(), " rows for a request of ", rows));
  }
  ASSIGN_OR_RETURN(const int64_t count, CheckedElementCount(tensor.shape, context));
  if (tensor.ElementCount() != count) {
    return absl::InternalError(absl::StrCat(context, " holds ", tensor.ElementCount(),
                                            " elements; its shape holds ", count));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status EncodeInferResponse(const DecodedRequest& decoded, const TensorBatch& outputs,
                                 const v1::ModelSignature& signature, absl::string_view model,
                                 absl::string_view version, absl::string_view request_id,
                                 inference::ModelInferResponse* out) {
  if (static_cast<int>(outputs.tensors.size()) != signature.outputs_size()) {
    return absl::InternalError(absl::StrCat("the model answered ", outputs.tensors.size(),
                                            " outputs; its signature has ",
                                            signature.outputs_size()));
  }
  out->Clear();
  out->set_model_name(std::string(model));
  out->set_model_version(std::string(version));
  out->set_id(std::string(request_id));
  for (int index : decoded.outputs) {
    if (index < 0 || index >= signature.outputs_size()) {
      return absl::InternalError(absl::StrCat("output index ", index, " is not in a signature of ",
                                              signature.outputs_size(), " outputs"));
    }
    const Tensor& tensor = outputs.tensors[index];
    const v1::TensorSpec& spec = signature.outputs(index);
    RETURN_IF_ERROR(CheckOutput(tensor, spec, decoded.inputs.rows));
    auto* output = out->add_outputs();
    output->set_name(spec.name());
    output->set_datatype(std::string(DataTypeName(tensor.type)));
    output->mutable_shape()->Add(tensor.shape.begin(), tensor.shape.end());
    if (decoded.raw) {
      out->add_raw_output_contents(WriteRawContents(tensor));
    } else {
      WriteTypedContents(tensor, output->mutable_contents());
    }
  }
  return absl::OkStatus();
}

}  // namespace fabrique::serving
