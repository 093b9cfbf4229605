// DecodeInferRequest (oip_codec.h): an Open Inference Protocol request checked against the
// model's signature, input by input, and decoded into a TensorBatch in signature order.

#include <cmath>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/core/status_macros.h"
#include "libs/serving/oip_codec.h"
#include "libs/serving/oip_elements.h"

namespace fabrique::serving {
namespace {

using InferInput = inference::ModelInferRequest::InferInputTensor;
using TensorSpecs = google::protobuf::RepeatedPtrField<v1::TensorSpec>;

std::string Names(const TensorSpecs& specs) {
  if (specs.empty()) return "nothing";
  return absl::StrJoin(
      specs, ", ", [](std::string* out, const v1::TensorSpec& spec) { out->append(spec.name()); });
}

std::string ShapeText(absl::Span<const int64_t> shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

// For each signature input, the index of the request input that feeds it.
absl::StatusOr<std::vector<int>> MatchInputs(const inference::ModelInferRequest& request,
                                             const v1::ModelSignature& signature) {
  absl::flat_hash_map<std::string, int> by_name;
  for (int i = 0; i < signature.inputs_size(); ++i) by_name[signature.inputs(i).name()] = i;
  std::vector<int> order(signature.inputs_size(), -1);
  for (int r = 0; r < request.inputs_size(); ++r) {
    const std::string& name = request.inputs(r).name();
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", name, "' is not an input of the model; it takes ", Names(signature.inputs())));
    }
    if (order[it->second] >= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", name, "' is given twice; give each input once"));
    }
    order[it->second] = r;
  }
  for (int i = 0; i < signature.inputs_size(); ++i) {
    if (order[i] < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", signature.inputs(i).name(), "' is missing from the request; the model takes ",
          Names(signature.inputs())));
    }
  }
  return order;
}

// Checks the input's datatype and shape against `spec`; returns its element count.
absl::StatusOr<int64_t> CheckShape(const InferInput& input, const v1::TensorSpec& spec,
                                   DataType type, const DecodeOptions& options) {
  const std::string& name = input.name();
  if (input.datatype() != DataTypeName(type)) {
    return absl::InvalidArgumentError(absl::StrCat("input '", name, "' is '", input.datatype(),
                                                   "'; the model takes ", DataTypeName(type)));
  }
  const std::vector<int64_t> shape(input.shape().begin(), input.shape().end());
  ASSIGN_OR_RETURN(int64_t count, CheckedElementCount(shape, absl::StrCat("input '", name, "'")));
  bool matches =
      !shape.empty() && (spec.shape().empty() || spec.shape_size() == input.shape_size());
  for (int d = 1; matches && d < spec.shape_size(); ++d) {
    matches = spec.shape(d) == -1 || spec.shape(d) == shape[d];
  }
  if (!matches) {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", name, "' has shape ", ShapeText(shape), "; the model takes ",
                     spec.shape().empty() ? std::string("[rows, ...]") : ShapeText(spec.shape()),
                     " (-1 = any; the first dimension is the rows)"));
  }
  if (shape[0] == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", name, "' has zero rows; send at least one row"));
  }
  if (options.max_batch_rows > 0 && shape[0] > options.max_batch_rows) {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", name, "' has ", shape[0], " rows; the model takes at most ",
                     options.max_batch_rows, " per request: split the request"));
  }
  return count;
}

// Reads typed contents: only the field of the input's type, exactly `count` elements.
absl::Status ReadTyped(const InferInput& input, int64_t count, Tensor* tensor) {
  const absl::string_view field = ContentsFieldName(tensor->type);
  for (const auto& [filled, size] : FilledContentsFields(input.contents())) {
    if (filled != field) {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", input.name(), "' is ", DataTypeName(tensor->type),
                       "; its elements go in ", field, ", not ", filled));
    }
    if (size != count) {
      return absl::InvalidArgumentError(absl::StrCat("input '", input.name(), "' has ", size,
                                                     " elements in ", field, "; its shape ",
                                                     ShapeText(input.shape()), " holds ", count));
    }
  }
  ReadTypedContents(input.contents(), tensor);
  if (tensor->ElementCount() != count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input '", input.name(), "' has neither contents nor raw_input_contents; its shape ",
        ShapeText(input.shape()), " holds ", count, " elements: give them in ", field));
  }
  return absl::OkStatus();
}

// Refuses NaN where the signature forbids missing values, and BYTES that are not text.
absl::Status CheckValues(const Tensor& tensor, const v1::TensorSpec& spec) {
  auto nan_at = [&](const auto& values) -> absl::Status {
    for (size_t i = 0; i < values.size(); ++i) {
      if (std::isnan(values[i])) {
        return absl::InvalidArgumentError(
            absl::StrCat("input '", spec.name(), "' has NaN at element ", i,
                         "; the model does not take missing values for it (nan_allowed is false)"));
      }
    }
    return absl::OkStatus();
  };
  if (!spec.nan_allowed()) {
    RETURN_IF_ERROR(nan_at(tensor.fp32));
    RETURN_IF_ERROR(nan_at(tensor.fp64));
  }
  for (size_t i = 0; i < tensor.bytes.size(); ++i) {
    if (!IsValidUtf8(tensor.bytes[i])) {
      return absl::InvalidArgumentError(absl::StrCat("input '", spec.name(), "' element ", i,
                                                     " is not valid UTF-8; BYTES inputs are text"));
    }
  }
  return absl::OkStatus();
}

// Decodes one input; `raw` is its raw_input_contents entry, or null when the request is typed.
absl::StatusOr<Tensor> DecodeInput(const InferInput& input, const std::string* raw,
                                   const v1::TensorSpec& spec, const DecodeOptions& options) {
  absl::StatusOr<DataType> type = ParseDataType(spec.datatype());
  if (!type.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("the model's signature gives input '",
                                                      spec.name(), "' datatype '", spec.datatype(),
                                                      "', which is not served; re-register the "
                                                      "model with BOOL, INT32, INT64, FP32, FP64 "
                                                      "or BYTES"));
  }
  ASSIGN_OR_RETURN(const int64_t count, CheckShape(input, spec, *type, options));
  Tensor tensor;
  tensor.name = spec.name();
  tensor.type = *type;
  tensor.shape.assign(input.shape().begin(), input.shape().end());
  if (raw == nullptr) {
    RETURN_IF_ERROR(ReadTyped(input, count, &tensor));
  } else if (!FilledContentsFields(input.contents()).empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", input.name(),
                     "' has both contents and raw_input_contents; give its elements once"));
  } else {
    RETURN_IF_ERROR(ReadRawContents(*raw, count, input.name(), &tensor));
  }
  RETURN_IF_ERROR(CheckValues(tensor, spec));
  return tensor;
}

// Signature output indices the request asks for, in request order; all when it names none.
absl::StatusOr<std::vector<int>> SelectOutputs(const inference::ModelInferRequest& request,
                                               const v1::ModelSignature& signature) {
  std::vector<int> selected;
  if (request.outputs().empty()) {
    for (int i = 0; i < signature.outputs_size(); ++i) selected.push_back(i);
    return selected;
  }
  for (const auto& wanted : request.outputs()) {
    int index = 0;
    while (index < signature.outputs_size() && signature.outputs(index).name() != wanted.name()) {
      ++index;
    }
    if (index == signature.outputs_size()) {
      return absl::InvalidArgumentError(absl::StrCat("output '", wanted.name(),
                                                     "' is not an output of the model; it answers ",
                                                     Names(signature.outputs())));
    }
    if (std::find(selected.begin(), selected.end(), index) != selected.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("output '", wanted.name(), "' is requested twice; name each output once"));
    }
    selected.push_back(index);
  }
  return selected;
}

}  // namespace

absl::StatusOr<DecodedRequest> DecodeInferRequest(const inference::ModelInferRequest& request,
                                                  const v1::ModelSignature& signature,
                                                  const DecodeOptions& options) {
  DecodedRequest decoded;
  decoded.raw = !request.raw_input_contents().empty();
  if (decoded.raw && request.raw_input_contents_size() != request.inputs_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "raw_input_contents has ", request.raw_input_contents_size(), " entries for ",
        request.inputs_size(), " inputs; give one per input, in input order, or typed contents"));
  }
  ASSIGN_OR_RETURN(const std::vector<int> order, MatchInputs(request, signature));
  for (int i = 0; i < signature.inputs_size(); ++i) {
    const int r = order[i];
    const std::string* raw = decoded.raw ? &request.raw_input_contents(r) : nullptr;
    ASSIGN_OR_RETURN(Tensor tensor,
                     DecodeInput(request.inputs(r), raw, signature.inputs(i), options));
    if (i > 0 && tensor.rows() != decoded.inputs.rows) {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", tensor.name, "' has ", tensor.rows(), " rows but input '",
                       decoded.inputs.tensors[0].name, "' has ", decoded.inputs.rows,
                       "; every input gives the same rows"));
    }
    decoded.inputs.rows = tensor.rows();
    decoded.inputs.tensors.push_back(std::move(tensor));
  }
  ASSIGN_OR_RETURN(decoded.outputs, SelectOutputs(request, signature));
  return decoded;
}

}  // namespace fabrique::serving
