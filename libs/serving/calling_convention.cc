#include "libs/serving/calling_convention.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/core/status_macros.h"
#include "libs/serving/torch_tensors.h"

namespace fabrique::serving {
namespace {

using SchemaArguments = std::vector<c10::Argument>;

// The signature's tensors as the convention uses them; a spec without a shape is one element
// per row.
absl::StatusOr<std::vector<TensorSpecView>> Views(
    const google::protobuf::RepeatedPtrField<v1::TensorSpec>& specs, absl::string_view what) {
  std::vector<TensorSpecView> views;
  for (const v1::TensorSpec& spec : specs) {
    absl::StatusOr<DataType> type = ParseDataType(spec.datatype());
    if (!type.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("signature ", what, " '", spec.name(), "': ", type.status().message()));
    }
    TensorSpecView view{spec.name(), *type, {spec.shape().begin(), spec.shape().end()}};
    if (view.shape.empty()) view.shape = {-1};
    views.push_back(std::move(view));
  }
  return views;
}

// "age FP32 [-1, 1]".
std::string DescribeSpec(const TensorSpecView& spec) {
  return absl::StrCat(spec.name, " ", DataTypeName(spec.type), " [",
                      absl::StrJoin(spec.shape, ", "), "]");
}

// "2 inputs: age FP32 [-1, 1], city BYTES [-1, 1]".
std::string DescribeSpecs(const std::vector<TensorSpecView>& specs, absl::string_view what) {
  std::vector<std::string> parts;
  for (const TensorSpecView& spec : specs) parts.push_back(DescribeSpec(spec));
  return absl::StrCat(specs.size(), " ", what, specs.size() == 1 ? "" : "s",
                      specs.empty() ? "" : ": ", absl::StrJoin(parts, ", "));
}

// "forward(numeric: Tensor, categorical: List[List[str]]) -> Tensor", as the module's author
// wrote it.
std::string DescribeForward(const SchemaArguments& args, const c10::FunctionSchema& schema) {
  std::vector<std::string> parts;
  for (const c10::Argument& arg : args) {
    parts.push_back(absl::StrCat(arg.name(), ": ", arg.type()->annotation_str()));
  }
  std::vector<std::string> returns;
  for (const c10::Argument& ret : schema.returns()) returns.push_back(ret.type()->annotation_str());
  return absl::StrCat("forward(", absl::StrJoin(parts, ", "), ") -> ",
                      absl::StrJoin(returns, ", "));
}

bool IsTensor(const c10::TypePtr& type) { return type->kind() == c10::TypeKind::TensorType; }
bool IsStringList(const c10::TypePtr& type) { return *type == *c10::ListType::ofStrings(); }
bool IsStringListList(const c10::TypePtr& type) {
  return *type == *c10::ListType::create(c10::ListType::ofStrings());
}
bool IsTensorList(const c10::TypePtr& type) {
  const auto list = type->cast<c10::ListType>();
  return list != nullptr && IsTensor(list->getElementType());
}
bool IsTensorDict(const c10::TypePtr& type) {
  const auto dict = type->cast<c10::DictType>();
  return dict != nullptr && dict->getKeyType()->kind() == c10::TypeKind::StringType &&
         IsTensor(dict->getValueType());
}

// The tabular convention's signature: FP32 inputs (any width), BYTES inputs of one string per
// row, one output (forward returns one Tensor).
absl::Status CheckTabular(const std::vector<TensorSpecView>& inputs, size_t outputs) {
  if (outputs != 1) {
    return absl::InvalidArgumentError(
        "a module taking (numeric, categorical) returns one Tensor: the signature needs exactly "
        "one output");
  }
  for (const TensorSpecView& input : inputs) {
    int64_t per_row = 1;
    for (size_t d = 1; d < input.shape.size(); ++d) per_row *= input.shape[d];
    if (input.type == DataType::kFp32 || (input.type == DataType::kBytes && per_row == 1)) {
      continue;
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "signature input '", input.name, "' is ", DataTypeName(input.type), " [",
        absl::StrJoin(input.shape, ", "),
        "]; a module taking (numeric, categorical) is fed FP32 inputs and BYTES inputs of shape "
        "[-1, 1] only"));
  }
  return absl::OkStatus();
}

// The positional convention's arguments: one per input (trailing ones with defaults may stay
// unset), a Tensor for each typed input and a List[str] for each BYTES input.
absl::Status CheckPositionalArguments(const SchemaArguments& args,
                                      const std::vector<TensorSpecView>& inputs) {
  size_t required = 0;
  while (required < args.size() && !args[required].default_value().has_value()) ++required;
  if (inputs.size() < required || inputs.size() > args.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("forward takes ", required == args.size() ? "" : "at least ", required,
                     " argument", required == 1 ? "" : "s"));
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const bool bytes = inputs[i].type == DataType::kBytes;
    if (bytes ? IsStringList(args[i].type()) : IsTensor(args[i].type())) continue;
    return absl::InvalidArgumentError(absl::StrCat(
        "forward's argument ", i + 1, " '", args[i].name(), "' is ",
        args[i].type()->annotation_str(), " where signature input '", inputs[i].name, "' (",
        DataTypeName(inputs[i].type), ") needs ", bytes ? "List[str]" : "Tensor"));
  }
  return absl::OkStatus();
}

// What forward returns: one Tensor per output, as a Tensor, a tuple or list of them, or a
// Dict[str, Tensor] by output name.
absl::Status CheckReturns(const c10::FunctionSchema& schema, size_t outputs) {
  if (schema.returns().size() == 1) {
    const c10::TypePtr& type = schema.returns()[0].type();
    if (IsTensor(type)) {
      if (outputs == 1) return absl::OkStatus();
    } else if (const auto tuple = type->cast<c10::TupleType>()) {
      bool tensors = tuple->elements().size() == outputs;
      for (const c10::TypePtr& element : tuple->elements()) tensors = tensors && IsTensor(element);
      if (tensors) return absl::OkStatus();
    } else if (IsTensorList(type) || IsTensorDict(type)) {
      return absl::OkStatus();  // Their lengths and keys are checked on each result.
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("forward must return ", outputs == 1 ? "a Tensor, " : "", "a tuple of ", outputs,
                   " Tensor", outputs == 1 ? "" : "s", " or a Dict[str, Tensor]"));
}

// The result's tensor for each output, in signature order.
absl::StatusOr<std::vector<torch::Tensor>> ResultTensors(
    const c10::IValue& result, const std::vector<TensorSpecView>& outputs) {
  std::vector<torch::Tensor> tensors;
  if (result.isTensor()) {
    tensors.push_back(result.toTensor());
  } else if (result.isTuple()) {
    for (const c10::IValue& element : result.toTupleRef().elements()) {
      if (!element.isTensor()) break;
      tensors.push_back(element.toTensor());
    }
  } else if (result.isTensorList()) {
    for (const torch::Tensor& element : result.toTensorVector()) tensors.push_back(element);
  } else if (result.isGenericDict()) {
    const c10::impl::GenericDict dict = result.toGenericDict();
    for (const TensorSpecView& output : outputs) {
      const auto found = dict.find(output.name);
      if (found == dict.end() || !found->value().isTensor()) {
        return absl::InternalError(absl::StrCat("the module's result has no tensor named '",
                                                output.name, "' (a signature output)"));
      }
      tensors.push_back(found->value().toTensor());
    }
  }
  if (tensors.size() != outputs.size()) {
    return absl::InternalError(absl::StrCat("the module returned ", result.tagKind(), " where ",
                                            DescribeSpecs(outputs, "output"), " were expected"));
  }
  return tensors;
}

// `value` as `output` for `rows` rows: the row count must match; the rest of the shape is the
// signature's when it is fixed (a module's [rows] answers a [-1, 1] output), the module's
// otherwise (same rank, the fixed dimensions equal).
absl::StatusOr<Tensor> ConvertOutput(const TensorSpecView& output, const torch::Tensor& value,
                                     int64_t rows) {
  if (value.dim() == 0 || value.size(0) != rows) {
    return absl::InternalError(
        absl::StrCat("the module's output '", output.name, "' has ",
                     value.dim() == 0 ? "no rows (a scalar)" : absl::StrCat(value.size(0), " rows"),
                     " for ", rows, " input rows"));
  }
  std::vector<int64_t> shape = {rows};
  bool fixed = true;
  for (size_t d = 1; d < output.shape.size(); ++d) {
    fixed = fixed && output.shape[d] >= 0;
    shape.push_back(output.shape[d]);
  }
  bool fits = fixed;
  if (!fixed) {
    fits = static_cast<size_t>(value.dim()) == output.shape.size();
    for (size_t d = 1; fits && d < output.shape.size(); ++d) {
      fits = output.shape[d] < 0 || output.shape[d] == value.size(d);
    }
    shape.assign(value.sizes().begin(), value.sizes().end());
  }
  if (!fits) {
    return absl::InternalError(absl::StrCat(
        "the module's output '", output.name, "' has shape [", absl::StrJoin(value.sizes(), ", "),
        "] where the signature says [", absl::StrJoin(output.shape, ", "), "]"));
  }
  return FromTorch(value, output.name, output.type, std::move(shape));
}

// Whether `tensor` holds `rows` rows of `spec`: its name, type, rank and fixed dimensions, and
// as many elements as its shape says.
bool FitsSpec(const Tensor& tensor, const TensorSpecView& spec, int64_t rows) {
  if (tensor.name != spec.name || tensor.type != spec.type || tensor.rows() != rows ||
      tensor.shape.size() != spec.shape.size() ||
      tensor.ElementCount() != rows * tensor.ElementsPerRow()) {
    return false;
  }
  for (size_t d = 1; d < spec.shape.size(); ++d) {
    if (spec.shape[d] >= 0 && spec.shape[d] != tensor.shape[d]) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<CallingConvention> CallingConvention::Decide(const c10::FunctionSchema& forward,
                                                            const v1::ModelSignature& signature) {
  ASSIGN_OR_RETURN(std::vector<TensorSpecView> inputs, Views(signature.inputs(), "input"));
  ASSIGN_OR_RETURN(std::vector<TensorSpecView> outputs, Views(signature.outputs(), "output"));
  for (const TensorSpecView& output : outputs) {
    if (output.type != DataType::kBytes) continue;
    return absl::InvalidArgumentError(absl::StrCat(
        "signature output '", output.name, "' is BYTES; TorchScript modules answer in tensors"));
  }
  if (outputs.empty()) {
    return absl::InvalidArgumentError("the signature has no outputs: name what forward returns");
  }
  SchemaArguments args = forward.arguments();
  if (!args.empty() && args[0].name() == "self") args.erase(args.begin());
  const bool tabular =
      args.size() == 2 && IsTensor(args[0].type()) && IsStringListList(args[1].type());
  absl::Status fits =
      tabular ? CheckTabular(inputs, outputs.size()) : CheckPositionalArguments(args, inputs);
  if (fits.ok() && !tabular) fits = CheckReturns(forward, outputs.size());
  if (!fits.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the module does not fit its signature: ", fits.message(), "; it takes ",
                     DescribeForward(args, forward), " and the signature offers ",
                     DescribeSpecs(inputs, "input"), " and ", DescribeSpecs(outputs, "output")));
  }
  return CallingConvention(tabular ? Kind::kTabular : Kind::kPositional, std::move(inputs),
                           std::move(outputs));
}

absl::StatusOr<std::vector<c10::IValue>> CallingConvention::Arguments(
    const TensorBatch& batch, const c10::Device& device) const {
  if (batch.tensors.size() != inputs_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("the batch has ", batch.tensors.size(),
                                                   " tensors where the signature has ",
                                                   DescribeSpecs(inputs_, "input")));
  }
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (FitsSpec(batch.tensors[i], inputs_[i], batch.rows)) continue;
    const Tensor& tensor = batch.tensors[i];
    return absl::InvalidArgumentError(absl::StrCat(
        "the batch's tensor ", i + 1, " is '", tensor.name, "' ", DataTypeName(tensor.type), " [",
        absl::StrJoin(tensor.shape, ", "), "] with ", tensor.ElementCount(), " elements for ",
        batch.rows, " rows, where the signature has input ", DescribeSpec(inputs_[i])));
  }
  return kind_ == Kind::kTabular ? TabularArguments(batch, device)
                                 : PositionalArguments(batch, device);
}

absl::StatusOr<std::vector<c10::IValue>> CallingConvention::TabularArguments(
    const TensorBatch& batch, const c10::Device& device) const {
  std::vector<torch::Tensor> numeric;
  std::vector<const Tensor*> categorical;
  for (const Tensor& tensor : batch.tensors) {
    if (tensor.type == DataType::kBytes) {
      categorical.push_back(&tensor);
    } else {
      numeric.push_back(ToTorch(tensor, device).reshape({batch.rows, tensor.ElementsPerRow()}));
    }
  }
  c10::List<c10::List<std::string>> rows;
  rows.reserve(batch.rows);
  for (int64_t i = 0; i < batch.rows; ++i) {
    c10::List<std::string> row;
    row.reserve(categorical.size());
    for (const Tensor* tensor : categorical) row.push_back(tensor->bytes[i]);
    rows.push_back(std::move(row));
  }
  torch::Tensor x = numeric.empty()
                        ? torch::zeros({batch.rows, 0}, torch::TensorOptions().device(device))
                        : torch::cat(numeric, 1);
  return std::vector<c10::IValue>{std::move(x), std::move(rows)};
}

absl::StatusOr<std::vector<c10::IValue>> CallingConvention::PositionalArguments(
    const TensorBatch& batch, const c10::Device& device) const {
  std::vector<c10::IValue> args;
  args.reserve(batch.tensors.size());
  for (const Tensor& tensor : batch.tensors) {
    if (tensor.type == DataType::kBytes) {
      args.emplace_back(ToStringList(tensor));
    } else {
      args.emplace_back(ToTorch(tensor, device));
    }
  }
  return args;
}

absl::StatusOr<TensorBatch> CallingConvention::Outputs(const c10::IValue& result,
                                                       int64_t rows) const {
  ASSIGN_OR_RETURN(std::vector<torch::Tensor> tensors, ResultTensors(result, outputs_));
  TensorBatch batch;
  batch.rows = rows;
  for (size_t i = 0; i < outputs_.size(); ++i) {
    ASSIGN_OR_RETURN(Tensor tensor, ConvertOutput(outputs_[i], tensors[i], rows));
    batch.tensors.push_back(std::move(tensor));
  }
  return batch;
}

}  // namespace fabrique::serving
